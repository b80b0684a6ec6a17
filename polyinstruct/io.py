"""File helpers shared by every stage: UTF-8 text and JSONL with line-numbered errors, atomic writes, checksums.

Every reader decodes UTF-8 itself, so a bad byte names file:line; a UTF-8 byte-order mark (files saved
on Windows) is accepted. JSONL readers take an `on_malformed` policy (`Malformed`): stop at a bad line
naming file:line, or skip it and count it in the manifest.

Every output is written to a temporary file in the destination directory and renamed into
place, so a killed job never leaves a file that a re-run would trust.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """Bad user input; the message names the file, line or key to fix."""


#: What a reader does with a line it cannot read (bad bytes, bad JSON, not an object): config key `on_malformed`.
ON_MALFORMED = ("stop", "skip")
#: The manifest's count of lines dropped under `on_malformed: skip`.
MALFORMED_LINE = "malformed_line"


class Malformed:
    """The `on_malformed` policy of one reader: `stop` raises naming file:line (the default); `skip` drops
    the line, says so on stderr (the job's log) and counts it (`count`, `locations`) for the manifest."""

    def __init__(self, policy: str = "stop", key: str | None = None):
        if policy not in ON_MALFORMED:
            where = f"config key '{key}.on_malformed'" if key else "on_malformed"
            raise InputError(f"{where}: {policy!r} is not one of {', '.join(ON_MALFORMED)}")
        self.policy, self.key = policy, key
        self.locations: list[str] = []

    @classmethod
    def of(cls, spec: dict | None, key: str | None = None) -> Malformed:
        """The policy a config entry sets (`on_malformed`, default stop)."""
        return cls((spec or {}).get("on_malformed") or "stop", key)

    def __call__(self, where: str, problem: str) -> None:
        """A bad line at `where`: raise (stop) or record it (skip)."""
        if self.policy == "stop":
            hint = f" (or set '{self.key}.on_malformed: skip' to drop such lines and count them)" if self.key else ""
            raise InputError(f"{where}: {problem}{hint}")
        self.locations.append(where)
        print(f"on_malformed=skip: dropped {where}: {problem}", file=sys.stderr)

    @property
    def count(self) -> int:
        return len(self.locations)

    def add_to(self, dropped: Counter) -> Counter:
        """Count the skipped lines in a manifest's `dropped` counter (nothing when none were skipped)."""
        if self.locations:
            dropped[MALFORMED_LINE] += len(self.locations)
        return dropped


def decode(raw: bytes, where: str) -> str:
    """UTF-8 bytes to text, or an InputError naming `where` and the bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{where}: invalid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line); "
            "save the file as UTF-8"
        ) from None


def _decoded(raw: bytes, where: str) -> tuple[str | None, str | None]:
    """(text, None) or (None, what is wrong with the bytes)."""
    try:
        return decode(raw, where), None
    except InputError as exc:
        return None, str(exc).removeprefix(f"{where}: ")


def _raw_lines(path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line end); a UTF-8 byte-order mark at the start is dropped."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            yield lineno, raw


def read_text_lines(path: str | os.PathLike, malformed: Malformed | None = None) -> Iterator[tuple[int, str | None]]:
    """Yield (line number, line) of a UTF-8 text file, line ends removed, a leading BOM dropped.

    A line that is not UTF-8 raises naming file:line, or under `on_malformed: skip` is yielded as None
    (so that line-aligned readers can drop the pair) and counted.
    """
    malformed = malformed or Malformed()
    for lineno, raw in _raw_lines(path):
        where = f"{path}:{lineno}"
        line, problem = _decoded(raw, where)
        if problem:
            malformed(where, problem)
        yield lineno, line


def read_text(path: str | os.PathLike) -> str:
    """A whole UTF-8 file as text (a leading BOM dropped); bad bytes raise naming file:line."""
    data = Path(path).read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}:{lineno}: invalid UTF-8 (byte 0x{data[exc.start]:02x} at byte {exc.start - line_start + 1} "
            "of the line); save the file as UTF-8"
        ) from None


def read_json(path: str | os.PathLike) -> Any:
    """One JSON document (a leading BOM accepted); bad bytes or bad JSON raise naming file:line."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg} at column {exc.colno})") from None


def read_json_lines(
    path: str | os.PathLike, malformed: Malformed | None = None, *, objects: bool = False, blank_ok: bool = True
) -> Iterator[tuple[int, Any]]:
    """Yield (line number, JSON value) of a JSONL file; for files whose lines are lists as well as objects.

    Blank lines are skipped (an error under `blank_ok=False`, for files parallel to another line for line).
    A line with bad bytes, bad JSON, or (with `objects`) a value that is not an object goes to `malformed`:
    stop (default) raises naming file:line; skip drops and counts it.
    """
    malformed = malformed or Malformed()
    for lineno, raw in _raw_lines(path):
        where = f"{path}:{lineno}"
        line, problem = _decoded(raw, where)
        if problem:
            malformed(where, problem)
            continue
        if not line.strip():
            if not blank_ok:
                malformed(where, "empty line")
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed(where, f"malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if objects and not isinstance(value, dict):
            malformed(where, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield lineno, value


def read_jsonl(path: str | os.PathLike, malformed: Malformed | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record); blank lines are skipped, a bad line goes to `malformed` (default: raise)."""
    yield from read_json_lines(path, malformed, objects=True)


def load_jsonl(path: str | os.PathLike, malformed: Malformed | None = None) -> list[dict]:
    return [record for _, record in read_jsonl(path, malformed)]


def dumps(record: Any) -> str:
    """One canonical JSON encoding, so re-runs produce byte-identical files."""
    return json.dumps(record, ensure_ascii=False, sort_keys=False, separators=(", ", ": "))


_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if os.path.isfile(tmp):  # mkstemp makes it 0600; results are shared like any file the user writes
            os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_jsonl(path: str | os.PathLike, records: Iterable[dict]) -> int:
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(dumps(record) + "\n")
            n += 1
    return n


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
