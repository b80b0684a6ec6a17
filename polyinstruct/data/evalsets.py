"""Loaders that turn the public eval-set shapes into one record shape.

Eval item: {id, lang, category, turns: [user prompt, ...], reference: [answer | None per turn] | None,
modifier: {"name": ..., params} | None}. `category` is the MT-Bench category or the task type.

Shapes read (config key `evalsets.<name>.format`):
- `mt-bench`: FastChat `question.jsonl` (`question_id` int, `category`, `turns`, optional `reference`).
- `mt-bench-x`: the same fields with string ids like `81_DE`; the language is the id's suffix.
- `messages`: each line a list of {role, content} messages or {"messages": [...]}, with a parallel
  `.types` file holding one task type per line.
- `prompts`: one {"prompt": ...} or {"instruction": ..., "input": ...} per line, one file per language.
- `modifiers`: like `prompts`, each item naming its `modifier` (see `polyinstruct.data.modifiers`).

A malformed line (bad bytes, bad JSON) stops the load with file:line, or is skipped and counted under
`on_malformed: skip`; an item that parses but breaks the shape always stops the load with file:line.
"""

from __future__ import annotations

import os
from pathlib import Path

from polyinstruct import languages
from polyinstruct.data import modifiers
from polyinstruct.io import InputError, Malformed, read_json_lines, read_jsonl, read_text_lines

FORMATS = ("mt-bench", "mt-bench-x", "messages", "prompts", "modifiers")

#: Weber et al.'s generation temperatures (FastChat's `temperature_config`), as config data.
MT_BENCH_TEMPERATURES = {
    "default": 0.0,
    "by_category": {"writing": 0.7, "roleplay": 0.7, "stem": 0.1, "humanities": 0.1},
}


def _item(rid: str, lang: str, category: str, turns: list[str], reference, modifier=None) -> dict:
    return {"id": rid, "lang": lang, "category": category, "turns": turns, "reference": reference, "modifier": modifier}


def _strings(value, name: str, where: str, allow_none: bool = False) -> list:
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: '{name}' must be a non-empty list of strings, got {value!r}")
    for text in value:
        if not (isinstance(text, str) or (allow_none and text is None)):
            raise InputError(f"{where}: '{name}' must hold only strings, got {text!r}")
    return value


def _turns_and_reference(record: dict, where: str) -> tuple[list[str], list | None]:
    turns = _strings(record.get("turns"), "turns", where)
    if not all(t.strip() for t in turns):
        raise InputError(f"{where}: empty turn in 'turns'")
    reference = record.get("reference")
    if reference is not None:
        reference = _strings(reference, "reference", where, allow_none=True)
        if len(reference) > len(turns):
            raise InputError(f"{where}: {len(reference)} reference answers for {len(turns)} turns")
        reference = reference + [None] * (len(turns) - len(reference))
    return turns, reference


def _category(record: dict, where: str) -> str:
    category = record.get("category")
    if not isinstance(category, str) or not category.strip():
        raise InputError(f"{where}: missing or empty 'category'")
    return category


def _unique(where_by_id: dict, rid: str, where: str) -> None:
    if rid in where_by_id:
        raise InputError(f"{where}: duplicate id '{rid}' (first at {where_by_id[rid]})")
    where_by_id[rid] = where


def load_mt_bench(path: str | os.PathLike, lang: str, malformed: Malformed | None = None) -> list[dict]:
    """FastChat MT-Bench `question.jsonl`; ids become strings, `lang` is the file's language."""
    lang = languages.get(lang).code
    items, seen = [], {}
    for lineno, record in read_jsonl(path, malformed):
        where = f"{path}:{lineno}"
        qid = record.get("question_id")
        if not isinstance(qid, int) or isinstance(qid, bool):
            raise InputError(f"{where}: 'question_id' must be an integer, got {qid!r}")
        _unique(seen, str(qid), where)
        turns, reference = _turns_and_reference(record, where)
        items.append(_item(str(qid), lang, _category(record, where), turns, reference))
    return items


def mt_bench_x_language(question_id: str, where: str) -> str:
    """The language of an MT-Bench-X id such as `81_DE` (registry code `de`)."""
    number, sep, suffix = question_id.rpartition("_")
    if not sep or not number or not suffix:
        raise InputError(f"{where}: MT-Bench-X id {question_id!r} lacks a language suffix like '81_DE'")
    try:
        return languages.get(suffix.lower()).code
    except languages.UnknownLanguageError as exc:
        raise InputError(f"{where}: id {question_id!r}: {exc}") from None


def load_mt_bench_x(path: str | os.PathLike, lang: str | None = None, malformed: Malformed | None = None) -> list[dict]:
    """MT-Bench-X questions; each id's suffix gives its language and must match `lang` when given."""
    expected = languages.get(lang).code if lang else None
    items, seen = [], {}
    for lineno, record in read_jsonl(path, malformed):
        where = f"{path}:{lineno}"
        qid = record.get("question_id")
        if not isinstance(qid, str):
            raise InputError(f"{where}: MT-Bench-X 'question_id' must be a string like '81_DE', got {qid!r}")
        item_lang = mt_bench_x_language(qid, where)
        if expected and item_lang != expected:
            raise InputError(f"{where}: id '{qid}' is {item_lang}, but the file is declared as {expected}")
        _unique(seen, qid, where)
        turns, reference = _turns_and_reference(record, where)
        items.append(_item(qid, item_lang, _category(record, where), turns, reference))
    return items


def read_types(path: str | os.PathLike) -> list[str]:
    """One task type per line; an empty line is an error (it would shift every later type)."""
    types = []
    for lineno, line in read_text_lines(path):
        if not line.strip():
            raise InputError(f"{path}:{lineno}: empty task type")
        types.append(line.strip())
    return types


def _conversation(value, where: str) -> tuple[list[str], list | None]:
    messages = value.get("messages") if isinstance(value, dict) else value
    if not isinstance(messages, list) or not messages:
        raise InputError(f'{where}: expected a list of messages or {{"messages": [...]}}')
    turns, answers = [], []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise InputError(f"{where}: message {i} must be an object with a string 'content'")
        role = message.get("role")
        if role == "user":
            if not message["content"].strip():
                raise InputError(f"{where}: message {i} is an empty user turn")
            turns.append(message["content"])
            answers.append(None)
        elif role == "assistant":
            if not turns or answers[-1] is not None:
                raise InputError(f"{where}: message {i}: an assistant message must follow a user message")
            answers[-1] = message["content"]
        else:
            raise InputError(f"{where}: message {i} has role {role!r} (eval sets take 'user' and 'assistant')")
    return turns, answers if any(a is not None for a in answers) else None


def load_messages(
    path: str | os.PathLike,
    types_path: str | os.PathLike,
    lang: str,
    id_prefix: str | None = None,
    malformed: Malformed | None = None,
) -> list[dict]:
    """Message-list JSONL plus its parallel `.types` file; user turns are prompts, assistant turns references.

    Task types that name a task modifier in Chirkova & Nikoulina's released files (`short`, `num_items_7`,
    `lang_de`, ...) make the item a modifier item, checked like the `modifiers` format's.

    Ids are the object's `id` when it has one, else `<id_prefix>-<line number>` (prefix: the file stem).
    Line i of the JSONL file goes with line i of the types file; a malformed line skipped under
    `on_malformed: skip` drops its task type with it, and a blank line counts as malformed.
    """
    lang = languages.get(lang).code
    types = read_types(types_path)
    malformed = malformed or Malformed()
    lines = list(read_json_lines(path, malformed, blank_ok=False))
    n_lines = len(lines) + malformed.count
    if n_lines != len(types):
        raise InputError(
            f"{path} has {n_lines} items but {types_path} has {len(types)} task types; "
            "the two files must be parallel, line for line"
        )
    prefix = id_prefix or Path(path).stem
    items, seen = [], {}
    for lineno, value in lines:
        where, task_type = f"{path}:{lineno}", types[lineno - 1]
        turns, reference = _conversation(value, where)
        rid = str(value["id"]) if isinstance(value, dict) and "id" in value else f"{prefix}-{lineno}"
        _unique(seen, rid, where)
        items.append(_item(rid, lang, task_type, turns, reference, modifiers.from_task_type(task_type)))
    return items


def _prompt(record: dict, where: str) -> str:
    if "prompt" in record:
        text = record["prompt"]
    elif "instruction" in record:
        text = record["instruction"]
        extra = record.get("input") or ""
        if not isinstance(extra, str):
            raise InputError(f"{where}: 'input' must be a string")
        if isinstance(text, str) and extra.strip():
            text = f"{text}\n\n{extra}"
    else:
        raise InputError(f"{where}: need a 'prompt' or an 'instruction' field")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: the prompt must be a non-empty string")
    return text


def load_prompts(
    path: str | os.PathLike,
    lang: str,
    *,
    with_modifiers: bool = False,
    default_category: str = "general",
    id_prefix: str | None = None,
    malformed: Malformed | None = None,
) -> list[dict]:
    """One prompt per line; optional `id`, `category` (or `type`), and `modifier` (required if with_modifiers)."""
    lang = languages.get(lang).code
    prefix = id_prefix or Path(path).stem
    items, seen = [], {}
    for lineno, record in read_jsonl(path, malformed):
        where = f"{path}:{lineno}"
        text = _prompt(record, where)
        category = record.get("category", record.get("type", default_category))
        if not isinstance(category, str) or not category.strip():
            raise InputError(f"{where}: 'category' must be a non-empty string")
        modifier = None
        if with_modifiers:
            if "modifier" not in record:
                raise InputError(f"{where}: a task-modifier item must name its 'modifier'")
            modifier = modifiers.normalise(record["modifier"], where)
        elif "modifier" in record:
            raise InputError(f"{where}: item names a modifier, but the eval set's format is not 'modifiers'")
        rid = str(record["id"]) if "id" in record else f"{prefix}-{lineno}"
        _unique(seen, rid, where)
        items.append(_item(rid, lang, category, [text], None, modifier))
    return items


def types_location(spec: dict, location: str | os.PathLike, lang: str) -> str:
    """The task-type file of a `messages` eval set: `types_path` filled in for `lang`, else the eval file's
    sibling `<name>.types` (`alpacaeval_test_subset.fr.jsonl` -> `alpacaeval_test_subset.fr.types`)."""
    from polyinstruct.data import sources

    if spec.get("types_path"):
        return sources.expand(str(spec["types_path"]), lang=lang)
    stem, dot, suffix = str(location).rpartition(".")
    return (stem if dot and "/" not in suffix else str(location)) + ".types"


def load(spec: dict, path: str | os.PathLike, lang: str, name: str, malformed: Malformed | None = None) -> list[dict]:
    """Dispatch on `evalsets.<name>.format`; `path` is the spec's path with `{lang}` filled in; malformed
    lines go to `malformed` (default: the eval set's `on_malformed`)."""
    fmt = spec.get("format")
    if fmt not in FORMATS:
        raise InputError(f"config key 'evalsets.{name}.format': {fmt!r} is not one of {', '.join(FORMATS)}")
    malformed = malformed or Malformed.of(spec, f"evalsets.{name}")
    if fmt == "mt-bench":
        return load_mt_bench(path, lang, malformed)
    if fmt == "mt-bench-x":
        return load_mt_bench_x(path, lang, malformed)
    if fmt == "messages":
        return load_messages(path, types_location(spec, path, lang), lang, malformed=malformed)
    return load_prompts(
        path,
        lang,
        with_modifiers=fmt == "modifiers",
        default_category=spec.get("default_category", "general"),
        malformed=malformed,
    )


def category_temperature(category: str, settings: dict, key: str = "generate.temperature") -> float:
    """The sampling temperature for a category: `by_category[category]`, else `default`.

    `settings` is config data such as MT_BENCH_TEMPERATURES; `key` names it in error messages.
    """
    if not isinstance(settings, dict) or "default" not in settings:
        raise InputError(f"config key '{key}.default': required (the temperature of unlisted categories)")
    by_category = settings.get("by_category") or {}
    if not isinstance(by_category, dict):
        raise InputError(f"config key '{key}.by_category': must map category names to temperatures")
    chosen_key = f"{key}.by_category.{category}" if category in by_category else f"{key}.default"
    value = by_category.get(category, settings["default"])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputError(f"config key '{chosen_key}': temperature must be a number >= 0, got {value!r}")
    return float(value)


def temperatures(items: list[dict], settings: dict, key: str = "generate.temperature") -> dict[str, float]:
    """{item id: temperature} for a list of eval items."""
    return {item["id"]: category_temperature(item["category"], settings, key) for item in items}
