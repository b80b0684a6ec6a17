"""Versioned, localisable judge prompt files.

A template is `<name>.v<N>.txt`; its version string is the file stem, which goes into every judge
row and every cache key, so editing a prompt means a new file and a new version. A translated
prompt (Weber et al. translate the judge prompt into each test language) lives beside it as
`<name>.v<N>.<lang>.txt` and is used for that language; other languages fall back to the default.

Placeholders are `{field}` for the fields a protocol fills in. Only those are substituted, in one
pass, so literal braces (a JSON example in the prompt) and braces inside responses are left alone.

A protocol may also read FastChat-style judge prompts (`fastchat.JudgePrompt`: a system prompt and a
user template, sent as chat messages) from a `judge_prompts.jsonl` named by its config block's
`judge_prompts` (a location pattern, `{lang}`/`{LANG}` for one file per language). A template name is a
`.txt` file of the template directory when one exists, else a prompt of that file.
"""

from __future__ import annotations

import re
from pathlib import Path

from polyinstruct import languages
from polyinstruct.data import sources
from polyinstruct.io import read_text
from polyinstruct.score.judge import fastchat


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


def source(directory: str | Path, name: str, lang: str | None, judge_prompts: str | None = None) -> tuple[str, str]:
    """Where template `name` comes from for `lang`: ("text", its .txt file) when the template directory has
    one, else ("jsonl", the local path of the `judge_prompts` file of `lang`)."""
    try:
        return "text", str(localised_path(directory, name, lang))
    except FileNotFoundError:
        if not judge_prompts:
            raise
    return "jsonl", sources.resolve(judge_prompts, **({"lang": languages.get(lang).code} if lang else {}))


class TemplateSet:
    """The templates of one protocol, by role (e.g. `turn1`, `turn1_reference`), loaded per language.

    `names` maps role -> versioned template name (config key `judge.<protocol>.templates`); `required`
    the placeholders of each role's .txt template. With `judge_prompts` (a location pattern), names
    without a .txt file are FastChat judge prompts of that file, of type `kind`, needing `prompt_roles`'
    placeholders; its malformed lines stop the load or, with `on_malformed="skip"`, are skipped and
    counted (`skipped_lines`).
    """

    def __init__(
        self,
        directory: str | Path,
        names: dict[str, str],
        required: dict[str, tuple[str, ...]],
        *,
        judge_prompts: str | None = None,
        kind: str | None = None,
        prompt_roles: dict[str, tuple[str, ...]] | None = None,
        on_malformed: str = "stop",
    ):
        self.directory = Path(directory)
        self.names = dict(names)
        self.required = required
        self.judge_prompts = judge_prompts
        self.kind = kind
        self.prompt_roles = prompt_roles or {}
        self.on_malformed = on_malformed
        self._cache: dict[tuple[str, str | None], Template | fastchat.JudgePrompt] = {}
        self._files: dict[str, fastchat.JudgePrompts] = {}
        for role in self.names:
            if role not in required:
                raise ValueError(f"unknown judge template role '{role}' (one of {', '.join(required)})")

    def get(self, role: str, lang: str | None) -> Template | fastchat.JudgePrompt:
        if role not in self.names:
            raise KeyError(f"no judge template configured for role '{role}' (have {', '.join(self.names)})")
        key = (role, lang)
        if key not in self._cache:
            kind, path = source(self.directory, self.names[role], lang, self.judge_prompts)
            if kind == "text":
                self._cache[key] = Template(path, self.required[role])
            else:
                if self.kind is None or role not in self.prompt_roles:
                    raise ValueError(f"judge template '{self.names[role]}': no {self.directory}/{self.names[role]}.txt")
                if path not in self._files:
                    self._files[path] = fastchat.load_judge_prompts(path, self.on_malformed)
                prompt = self._files[path].get(self.names[role])
                self._cache[key] = prompt.check(self.kind, self.prompt_roles[role])
        return self._cache[key]

    def skipped_lines(self) -> dict[str, list[int]]:
        """{judge_prompts file: malformed line numbers skipped} of the files read so far."""
        return {path: f.skipped for path, f in self._files.items() if f.skipped}
