"""Fingerprints of the package code each rule runs, derived from the imports (nothing kept by hand).

Snakemake's `code` trigger sees a rule's script, not the package it imports. So every rule with a
script gets `params.code`: a hash of every polyinstruct module in the import closure of that script.
The closure follows `import` statements at any depth (lazy imports inside functions included), the
`__init__.py` of every package on the way (importing `a.b.c` runs `a/__init__` and `a/b/__init__`),
and string references to polyinstruct modules (`"polyinstruct.translate.ct2:CTranslate2Engine"` in a
lazy registry, `python -m polyinstruct.train.worker`). Editing `data/modifiers.py` therefore re-runs
exactly the rules whose scripts reach it, and nothing else.

`add_code_params(workflow)` (called once by the Snakefile, after the rules) sets the parameter on
every rule, so a rule cannot forget it or name the wrong stage.

Parsing the ~140 files of the package is most of the cost (about 1 s of every Snakemake start on 2 cores:
every dry run, every run, and every cluster job, which re-reads the Snakefile). What a file's syntax tree
says (the dotted names its imports and string references may load) is kept on disk, keyed by a hash of the
file's bytes, under `$POLYINSTRUCT_CACHE` (default `$XDG_CACHE_HOME/polyinstruct`, `~/.cache/polyinstruct`);
which of those names are modules is checked against the files on every start. Nothing depends on the cache
being there or writable.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import tempfile
from functools import cache
from pathlib import Path

PACKAGE = "polyinstruct"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
_REFERENCE = re.compile(rf"^{PACKAGE}(?:\.\w+)+(?::\w+)?$")


def module_file(name: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The source file of a dotted polyinstruct module or package, or None if there is none."""
    if name.split(".")[0] != PACKAGE:
        return None
    return _module_file(name, str(package_dir))


@cache  # a few thousand lookups per Snakemake start, of ~140 files that do not come and go while it plans
def _module_file(name: str, package_dir: str) -> Path | None:
    base = Path(package_dir).joinpath(*name.split(".")[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    rel = path.resolve().relative_to(package_dir)
    parts = [PACKAGE, *rel.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _candidates(node: ast.AST, current: str, is_package: bool) -> list[str]:
    """Dotted names an import node (or a string reference) may load."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = current.split(".") if is_package else current.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        submodules = [f"{module}.{alias.name}" for alias in node.names]
        # `from package import module` loads the module (and the package, as its parent); any other
        # name comes from the package itself
        attributes = [m for m in submodules if module_file(m) is None]
        return [*([module] if attributes else []), *submodules]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _REFERENCE.match(node.value):
        return [node.value.split(":", 1)[0]]
    return []


def imported_modules(path: Path, package_dir: Path = PACKAGE_DIR, *, references: bool = True) -> set[str]:
    """polyinstruct modules a file imports anywhere in it (and names as strings, when `references`)."""
    path = Path(path)
    stat = path.stat()
    return set(_imported_modules(str(path), stat.st_mtime_ns, stat.st_size, str(package_dir), references))


@cache
def _imported_modules(path: str, mtime_ns: int, size: int, package_dir: str, references: bool) -> frozenset[str]:
    # once per file version and process: the ~40 rules' closures share most modules (planning cost, issue 20)
    package = Path(package_dir)
    source = Path(path).read_bytes()
    try:
        current = module_name(Path(path), package)
    except ValueError:  # a script outside the package
        current = "__main__"
    is_package = Path(path).name == "__init__.py"
    names = _names(source, path, current, is_package, references)
    return frozenset(n for n in names if n.split(".")[0] == PACKAGE and module_file(n, package) is not None)


def _names(source: bytes, path: str, current: str, is_package: bool, references: bool) -> list[str]:
    """The dotted names a file's imports (and string references) may load: its syntax tree, parsed once per
    file content and kept in the disk cache."""
    key = hashlib.sha256(b"\0".join([source, current.encode(), b"%d%d" % (is_package, references)])).hexdigest()
    entries = _disk_cache()
    _USED.add(key)
    if key not in entries:
        tree = ast.parse(source.decode("utf-8"), filename=path)
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and not references:
                continue
            found.update(_candidates(node, current, is_package))
        entries[key] = sorted(found)
        _NEW.add(key)
    return entries[key]


_NEW: set[str] = set()  # keys parsed by this process, not yet in the cache file
_USED: set[str] = set()  # keys this process looked up


def cache_file() -> Path:
    root = os.environ.get("POLYINSTRUCT_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "polyinstruct"
    )
    return Path(root) / "fingerprint-imports.json"


@cache
def _disk_cache() -> dict[str, list[str]]:
    try:
        entries = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def save_cache() -> None:
    """Write the entries this process parsed to the disk cache, keeping only those it looked up: called once
    every script's closure is known (`add_code_params`), so the file keeps the package's current files and
    drops the versions edited away."""
    if not _NEW:
        return
    entries = _disk_cache()
    in_use = {k: v for k, v in entries.items() if k in _USED or k in _NEW}
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fingerprint-imports.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(in_use, fh, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        return
    _NEW.clear()


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def closure(script: str | Path, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Every polyinstruct source file that running `script` may execute, sorted."""
    seen: set[str] = set()
    todo = sorted(imported_modules(Path(script), package_dir))
    while todo:
        name = todo.pop()
        for module in _with_parents(name):
            if module in seen:
                continue
            seen.add(module)
            todo.extend(sorted(imported_modules(module_file(module, package_dir), package_dir) - seen))
    return sorted({module_file(m, package_dir) for m in seen})


@cache
def _fingerprint(script: str, package_dir: str) -> str:
    package = Path(package_dir)
    digest = hashlib.sha256()
    for file in closure(script, package):
        digest.update(file.relative_to(package).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(script: str | Path, package_dir: Path = PACKAGE_DIR) -> str:
    """A short hash of the source of every package module `script` may run."""
    return _fingerprint(str(Path(script).resolve()), str(Path(package_dir).resolve()))


def add_code_params(workflow) -> None:
    """Set `params.code` of every rule that runs a script to that script's fingerprint."""
    for rule in workflow.rules:
        if rule.script:
            script = Path(rule.basedir.get_path_or_uri(secret_free=True)) / rule.script
            rule.set_params(code=fingerprint(script))
    save_cache()
