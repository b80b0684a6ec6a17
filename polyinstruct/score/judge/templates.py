"""Versioned, localisable judge prompt files.

A template is `<name>.v<N>.txt`; its version string is the file stem, which goes into every judge
row and every cache key, so editing a prompt means a new file and a new version. A translated
prompt (Weber et al. translate the judge prompt into each test language) lives beside it as
`<name>.v<N>.<lang>.txt` and is used for that language; other languages fall back to the default.

Placeholders are `{field}` for the fields a protocol fills in. Only those are substituted, in one
pass, so literal braces (a JSON example in the prompt) and braces inside responses are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from polyinstruct import languages
from polyinstruct.io import read_text


class Template:
    """A prompt file whose `required` placeholders must all occur; the version is the file stem."""

    def __init__(self, path: str | Path, required: tuple[str, ...] = ()):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"judge template {self.path} does not exist")
        self.text = read_text(self.path)  # bad bytes name file:line; a BOM is dropped
        self.version = self.path.stem
        self.required = tuple(required)
        for field in self.required:
            if "{" + field + "}" not in self.text:
                raise ValueError(f"{self.path}: judge template lacks the placeholder {{{field}}}")

    def fill(self, **fields: str) -> str:
        """Substitute exactly the given fields; a required field left out is a programming error."""
        missing = [f for f in self.required if f not in fields]
        if missing:
            raise KeyError(f"{self.path}: no value given for placeholder(s) {missing}")
        pattern = re.compile(r"\{(" + "|".join(re.escape(k) for k in fields) + r")\}") if fields else None
        return pattern.sub(lambda m: str(fields[m.group(1)]), self.text) if pattern else self.text


def localised_path(directory: str | Path, name: str, lang: str | None) -> Path:
    """`<directory>/<name>.<lang>.txt` if it exists, else `<directory>/<name>.txt` (`name` has the version)."""
    directory = Path(directory)
    if lang is not None:
        local = directory / f"{name}.{languages.get(lang).code}.txt"
        if local.is_file():
            return local
    default = directory / f"{name}.txt"
    if not default.is_file():
        raise FileNotFoundError(f"judge template '{name}' not found: {default} does not exist")
    return default


class TemplateSet:
    """The templates of one protocol, by role (e.g. `turn1`, `turn1_reference`), loaded per language.

    `names` maps role -> versioned template name (config key `judge.<protocol>.templates`).
    """

    def __init__(self, directory: str | Path, names: dict[str, str], required: dict[str, tuple[str, ...]]):
        self.directory = Path(directory)
        self.names = dict(names)
        self.required = required
        self._cache: dict[tuple[str, str | None], Template] = {}
        for role in self.names:
            if role not in required:
                raise ValueError(f"unknown judge template role '{role}' (one of {', '.join(required)})")

    def get(self, role: str, lang: str | None) -> Template:
        if role not in self.names:
            raise KeyError(f"no judge template configured for role '{role}' (have {', '.join(self.names)})")
        key = (role, lang)
        if key not in self._cache:
            path = localised_path(self.directory, self.names[role], lang)
            self._cache[key] = Template(path, self.required[role])
        return self._cache[key]
