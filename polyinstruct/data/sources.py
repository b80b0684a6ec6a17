"""Where configured data lives: local files, or URLs that a rule fetches once into results/external/.

Every configured file location (datasets, eval sets, precomputed translations, parallel text, MT test
sets) may be a local path or an http(s) URL, and may hold placeholders filled per language:
`{lang}` (registry code, `fr`), `{LANG}` (upper case, `FR`, as MT-Bench-X names its folders),
`{flores}` (FLORES-200 code, `fra_Latn`) and `{flores101}` (FLORES-101 code, `fra`, `zho_simpl`).
A URL names a file or, after `#`, a member of an archive:
`https://dl.fbaipublicfiles.com/nllb/flores200_dataset.tar.gz#flores200_dataset/devtest/{flores}.devtest`.

A Hugging Face hub file may be named `hf://<owner>/<repo>[@<revision>]/<path>` (a model file such as
OpenLID's `hf://laurievb/OpenLID/model.bin`): it is the URL `https://huggingface.co/<owner>/<repo>/
resolve/<revision or main>/<path>`, fetched like any other.

A URL maps to a local path under results/external/ that encodes it (scheme, host, path), so the
rules `fetch_url` and `extract_member` can rebuild the URL from their output path: planning never
downloads anything, and an archive is downloaded once however many members are read from it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from polyinstruct.io import InputError, atomic_path
from polyinstruct.workflow.paths import EXTERNAL

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tar", ".zip")
MEMBERS = ".contents"  # <archive>.contents/<member>: a file extracted from a fetched archive
#: Hosts whose downloads carry the user's Hugging Face token (gated datasets), when HF_TOKEN is set.
TOKEN_HOSTS = {"huggingface.co": "HF_TOKEN"}
#: Placeholders that make a location one file per language.
LANGUAGE_PLACEHOLDERS = ("{lang}", "{LANG}", "{flores}", "{flores101}")


HUB_SCHEME = "hf://"


def is_url(location: str | None) -> bool:
    return bool(location) and str(location).startswith(("https://", "http://", HUB_SCHEME))


def hub_url(location: str) -> str:
    """`hf://owner/repo[@revision]/path` -> its https://huggingface.co/.../resolve/<revision>/path URL."""
    rest = location[len(HUB_SCHEME) :]
    parts = rest.split("/", 2)
    if len(parts) < 3 or not all(parts):
        raise InputError(f"'{location}': a hub file is hf://<owner>/<repo>[@<revision>]/<path in the repo>")
    owner, repo, path = parts
    repo, _, revision = repo.partition("@")
    return f"https://huggingface.co/{owner}/{repo}/resolve/{revision or 'main'}/{path}"


def expand(pattern: str, **fields: str) -> str:
    """Fill a location pattern; `lang` also provides {LANG}, {flores} (FLORES-200: fra_Latn) and {flores101}
    (FLORES-101: fra, zho_simpl). Unknown placeholders are an error."""
    values = dict(fields)
    if "lang" in fields:
        from polyinstruct import languages

        lang = fields["lang"]
        values.setdefault("LANG", lang.upper())
        if "{flores}" in pattern:
            flores = languages.get(lang).flores
            if flores is None:
                raise InputError(f"'{pattern}' needs a FLORES-200 code and language '{lang}' has none")
            values["flores"] = flores
        if "{flores101}" in pattern:
            flores101 = languages.flores101(lang)
            if flores101 is None:
                raise InputError(f"'{pattern}' needs a FLORES-101 code and language '{lang}' has none")
            values["flores101"] = flores101
    try:
        return pattern.format(**values)
    except KeyError as exc:
        raise InputError(
            f"'{pattern}': unknown placeholder {exc} (known here: {', '.join('{' + k + '}' for k in sorted(values))})"
        ) from None


def per_language(pattern: str | None) -> bool:
    """Whether a location names one file per language (holds {lang}, {LANG}, {flores} or {flores101})."""
    return any(p in (pattern or "") for p in LANGUAGE_PLACEHOLDERS)


def resolve(pattern: str, **fields: str) -> str:
    """The local path a rule reads for a configured location pattern: filled in, then localised."""
    return local(expand(pattern, **fields))


def local(location: str) -> str:
    """The local path of a location: itself for a local path, its place under results/external/ for a URL."""
    location = str(location)
    if not is_url(location):
        return location
    if location.startswith(HUB_SCHEME):
        location = hub_url(location)
    scheme, rest = location.split("://", 1)
    if "?" in rest:
        raise InputError(f"'{location}': URLs with a query string are not supported; use the plain file URL")
    address, _, member = rest.partition("#")
    if not address or address.endswith("/"):
        raise InputError(f"'{location}': the URL must name a file")
    path = f"{EXTERNAL}/{scheme}/{address}"
    if member:
        if not address.endswith(ARCHIVE_SUFFIXES):
            raise InputError(f"'{location}': '#member' needs an archive URL ({', '.join(ARCHIVE_SUFFIXES)})")
        path += f"{MEMBERS}/{member.lstrip('/')}"
    return path


def url_of(scheme: str, address: str) -> str:
    """The URL that `fetch_url`'s output results/external/{scheme}/{address} was mapped from."""
    return f"{scheme}://{address}"


def _request(url: str) -> urllib.request.Request:
    headers = {"User-Agent": "polyinstruct (+https://github.com/polyinstruct)"}
    host = url.split("://", 1)[1].split("/", 1)[0]
    token = os.environ.get(TOKEN_HOSTS.get(host, ""), "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return urllib.request.Request(url, headers=headers)


def download(url: str, dest: str | os.PathLike, retries: int = 3, backoff: float = 2.0, timeout: float = 60.0) -> dict:
    """Fetch `url` to `dest` atomically (retrying time-outs and 5xx); returns its size and sha256."""
    for attempt in range(retries + 1):
        try:
            digest, size = hashlib.sha256(), 0
            with (
                urllib.request.urlopen(_request(url), timeout=timeout) as response,
                atomic_path(dest) as tmp,
                open(tmp, "wb") as fh,
            ):
                while chunk := response.read(1 << 20):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            return {"url": url, "bytes": size, "sha256": digest.hexdigest()}
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == retries:
                hint = " (a gated Hugging Face file needs HF_TOKEN)" if exc.code in (401, 403) else ""
                raise InputError(f"{url}: HTTP {exc.code} {exc.reason}{hint}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries:
                raise InputError(f"{url}: download failed after {retries + 1} attempts ({exc})") from None
        time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


def extract(archive: str | os.PathLike, member: str, dest: str | os.PathLike) -> dict:
    """Copy one member of a tar or zip archive to `dest` atomically."""
    archive = str(archive)
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            if member not in names:
                raise InputError(_missing(archive, member, names))
            with zf.open(member) as src, atomic_path(dest) as tmp, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive) as tf:
            try:
                info = tf.getmember(member)
            except KeyError:
                raise InputError(_missing(archive, member, tf.getnames())) from None
            src = tf.extractfile(info)
            if src is None:
                raise InputError(f"{archive}: member '{member}' is not a regular file")
            with src, atomic_path(dest) as tmp, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
    return {"archive": archive, "member": member, "bytes": Path(dest).stat().st_size}


def _missing(archive: str, member: str, names: list[str]) -> str:
    stem = Path(member).name.split(".")[0]
    near = [n for n in names if stem and stem in n][:5] or names[:5]
    return f"{archive}: no member '{member}' (for example: {', '.join(near)})"


def split_member_path(path: str) -> tuple[str, str]:
    """results/external/.../x.tar.gz.contents/a/b -> (results/external/.../x.tar.gz, a/b)."""
    archive, _, member = str(path).partition(MEMBERS + "/")
    return archive, member
