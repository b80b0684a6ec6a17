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
"""

from __future__ import annotations

import ast
import hashlib
import re
from functools import cache
from pathlib import Path

PACKAGE = "polyinstruct"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
_REFERENCE = re.compile(rf"^{PACKAGE}(?:\.\w+)+(?::\w+)?$")


def module_file(name: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The source file of a dotted polyinstruct module or package, or None if there is none."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_dir.joinpath(*parts[1:])
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
    # parsed once per file version: the ~40 rules' closures share most modules (planning cost, issue 20)
    package = Path(package_dir)
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    try:
        current = module_name(Path(path), package)
    except ValueError:  # a script outside the package
        current = "__main__"
    is_package = Path(path).name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and not references:
            continue
        for name in _candidates(node, current, is_package):
            if name.split(".")[0] == PACKAGE and module_file(name, package) is not None:
                found.add(name)
    return frozenset(found)


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
