"""Normalise instruction datasets and eval sets into polyinstruct's JSONL schemas.

Sources are local JSON/JSONL/Parquet files or Hugging Face datasets (`datasets.load_dataset`),
mapped field by field from config. A malformed line or a missing field stops the job with
file:line; a record that is unusable but well-formed (empty instruction, duplicate id) is
dropped and counted in the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from polyinstruct import languages
from polyinstruct.data import sources
from polyinstruct.io import InputError, Malformed, read_json, read_jsonl, sha256_file

ROLE_ALIASES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def iter_source(spec: dict, path: str | None = None, malformed: Malformed | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (location, raw record); location is `file:line` or `hub-id[split][index]`.

    A line or element that is not a JSON object goes to `malformed` (default: stop naming file:line).
    """
    path = path or spec.get("path")
    malformed = malformed or Malformed()
    if path:
        suffix = Path(path).suffix.lower()
        if suffix == ".jsonl":
            for lineno, record in read_jsonl(path, malformed):
                yield f"{path}:{lineno}", record
        elif suffix == ".json":
            data = read_json(path)
            if not isinstance(data, list):
                raise InputError(f"{path}: expected a JSON array of records, got a {type(data).__name__}")
            for i, record in enumerate(data):
                if not isinstance(record, dict):
                    malformed(f"{path}[{i}]", f"expected a JSON object, got {type(record).__name__}")
                    continue
                yield f"{path}[{i}]", record
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            for i, record in enumerate(pq.read_table(path).to_pylist()):
                yield f"{path}[row {i}]", record
        else:
            raise InputError(f"{path}: unsupported file type '{suffix}' (json, jsonl, parquet)")
        return
    import datasets

    ds = datasets.load_dataset(spec["hub"], spec.get("hub_config"), split=spec["split"], revision=spec.get("revision"))
    for i, record in enumerate(ds):
        yield f"{spec['hub']}[{spec['split']}][{i}]", record


def _field(record: dict, mapping: dict, name: str, where: str, key: str, required: bool = True):
    source_name = mapping.get(name)
    if source_name is None or source_name not in record:
        if required:
            raise InputError(f"{where}: missing field '{source_name or name}' (config key '{key}.fields.{name}')")
        return None
    return record[source_name]


def _content_id(dataset: str, *parts: str) -> str:
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]
    return f"{dataset}-{digest}"


def _messages(raw, where: str) -> list[dict]:
    """Turns as {role, content}: from role/content or from/value objects, or from a list of plain strings
    (LIMA's `conversations`), which alternate user, assistant, user, ..."""
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{where}: 'messages' must be a non-empty list of turns")
    if all(isinstance(turn, str) for turn in raw):
        return [{"role": ("user", "assistant")[i % 2], "content": text} for i, text in enumerate(raw)]
    out = []
    for turn in raw:
        if not isinstance(turn, dict):
            raise InputError(f"{where}: bad turn {turn!r} (need role/content or from/value objects, or only strings)")
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if role not in ROLE_ALIASES or not isinstance(content, str):
            raise InputError(f"{where}: bad turn {turn!r} (need role/content or from/value)")
        out.append({"role": ROLE_ALIASES[role], "content": content})
    return out


def position_id(dataset: str, position: int) -> str:
    """The id of the record at 0-based `position` of a dataset whose ids are positions (`datasets.<name>.ids`)."""
    return f"{dataset}-{position}"


def normalise_instructions(
    rows, dataset: str, lang: str, fields: dict, limit: int | None = None, ids: str = "field"
) -> tuple[list[dict], Counter]:
    """Map raw rows to instruction records; returns (records, counts of dropped records by reason).

    `ids`: "field" (the `id` field, else a content hash) or "position" (`<dataset>-<n>`, n the row's
    0-based position in the source, dropped rows included, so a position-aligned translation joins)."""
    key = f"datasets.{dataset}"
    dropped: Counter = Counter()
    seen: set[str] = set()
    records = []
    for position, (where, row) in enumerate(rows):
        if "messages" in fields:
            messages = _messages(_field(row, fields, "messages", where, key), where)
            users = [m["content"] for m in messages if m["role"] == "user"]
            answers = [m["content"] for m in messages if m["role"] == "assistant"]
            # every turn must hold text: an empty later turn is as unusable as an empty first one
            user = users[0] if users and all(u.strip() for u in users) else ""
            answer = answers[0] if answers and all(a.strip() for a in answers) else ""
            body = {"messages": messages}
            if messages[-1]["role"] != "assistant":
                dropped["no_final_answer"] += 1  # nothing to learn from: the conversation ends with a question
                continue
        else:
            instruction = _field(row, fields, "instruction", where, key)
            extra = _field(row, fields, "input", where, key, required=False) or ""
            answer = _field(row, fields, "output", where, key)
            if not isinstance(instruction, str) or not isinstance(answer, str) or not isinstance(extra, str):
                raise InputError(f"{where}: instruction, input and output must be strings")
            user = instruction
            body = {"instruction": instruction.strip(), "input": extra.strip(), "output": answer.strip()}
        if not user.strip():
            dropped["empty_instruction"] += 1
            continue
        if not answer.strip():
            dropped["empty_output"] += 1
            continue
        if ids == "position":
            rid = position_id(dataset, position)
        else:
            raw_id = _field(row, fields, "id", where, key, required=False) if "id" in fields else None
            rid = str(raw_id) if raw_id is not None else _content_id(dataset, json.dumps(body, sort_keys=True))
        if rid in seen:
            dropped["duplicate_id"] += 1
            continue
        seen.add(rid)
        if limit is not None and len(records) >= limit:
            dropped["over_limit"] += 1
            continue
        records.append({"id": rid, "source": dataset, "lang": lang, **body})
    return records, dropped


def normalise_eval(
    rows, evalset: str, lang: str, fields: dict, filter_lang: bool, other_languages: Counter | None = None
) -> tuple[list[dict], Counter]:
    """Map raw rows to eval records for one language.

    With `filter_lang`, rows whose language field is another language are left out (counted by language
    in `other_languages`, for the error that an empty result gets). Without an `id` in `fields`, ids are
    `<evalset>-<position in the file>`.
    """
    key = f"evalsets.{evalset}"
    dropped: Counter = Counter()
    seen: set[str] = set()
    records = []
    for position, (where, row) in enumerate(rows):
        if filter_lang:
            if fields.get("lang") not in row:
                raise InputError(
                    f"{where}: missing field '{fields.get('lang', 'lang')}' (config key '{key}.fields.lang'): a file "
                    f"without {{lang}} in its path is filtered by each record's language; if the whole file is in "
                    f"one language, name it with config key '{key}.lang'"
                )
            row_lang = row[fields["lang"]]
            if row_lang != lang:
                if other_languages is not None:
                    other_languages[str(row_lang)] += 1
                continue
        turns = _field(row, fields, "turns", where, key)
        if isinstance(turns, str):
            turns = [turns]
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            raise InputError(f"{where}: 'turns' must be a string or a list of strings")
        if not turns or not turns[0].strip():
            dropped["empty_instruction"] += 1
            continue
        reference = _field(row, fields, "reference", where, key, required=False)
        if isinstance(reference, str):
            reference = [reference]
        category = _field(row, fields, "category", where, key, required=False) or "general"
        rid = str(_field(row, fields, "id", where, key)) if "id" in fields else f"{evalset}-{position}"
        if rid in seen:
            dropped["duplicate_id"] += 1
            continue
        seen.add(rid)
        records.append({"id": rid, "lang": lang, "category": str(category), "turns": turns, "reference": reference})
    return records, dropped


def _describe(dropped: Counter) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(dropped.items()))


def require_records(records: list, dropped: Counter, source: str, what: str, other_languages: Counter | None = None):
    """Refuse an empty result, naming the source and what dropped its records (training or evaluating on
    nothing is never what the user meant)."""
    if records:
        return
    if dropped:
        why = f"all {sum(dropped.values())} dropped ({_describe(dropped)})"
    elif other_languages:
        why = f"no record is in this language (found: {_describe(other_languages)})"
    else:
        why = "the source holds no records"
    raise InputError(f"{source}: no {what} left: {why}")


def _source_name(spec: dict, path: str | None) -> str:
    return path or f"{spec.get('hub')}[{spec.get('split')}]"


def load_instructions(spec: dict, path: str | None, dataset: str, lang: str) -> tuple[list[dict], Counter]:
    """Instruction records of `datasets.<dataset>` (path: the local copy of its file, if any) with the counts
    of dropped records; malformed lines follow `on_malformed`; a source left with no records is refused."""
    malformed = Malformed.of(spec, f"datasets.{dataset}")
    records, dropped = normalise_instructions(
        iter_source(spec, path, malformed), dataset, lang, spec["fields"], spec.get("limit"), spec.get("ids", "field")
    )
    malformed.add_to(dropped)
    require_records(records, dropped, _source_name(spec, path), f"training records for 'datasets.{dataset}'")
    return records, dropped


def manifest(spec: dict, path: str | None, n_out: int, dropped: Counter, extra: dict | None = None) -> dict:
    """What was read (the local file and its checksum, or the hub split) and what was kept and dropped."""
    source = (
        {"path": path, "sha256": sha256_file(path)}
        if path
        else {"hub": spec.get("hub"), "revision": spec.get("revision"), "split": spec.get("split")}
    )
    if path and spec.get("path") and sources.is_url(spec["path"]):
        source["url"] = spec["path"]
    return {
        "source": source,
        "fields": spec.get("fields"),
        "records": n_out,
        "dropped": dict(sorted(dropped.items())),
        "dropped_total": sum(dropped.values()),
        **(extra or {}),
    }


def load_eval(spec: dict, path: str | None, evalset: str, lang: str) -> tuple[list[dict], Counter]:
    """Eval records for one language: a public shape when `evalsets.<name>.format` is set, else the field
    mapping; the first `offset` items left out (counted as before_offset), then the first `limit` items kept
    when set (the rest counted as over_limit). Malformed lines follow `on_malformed`; an eval set left with no
    items is refused naming the file and what dropped them.

    A file without {lang} in its path holds every language and is filtered by its language field, unless
    `evalsets.<name>.lang` says the whole file is in one language.
    """
    key = f"evalsets.{evalset}"
    fixed = spec.get("lang")
    if fixed and languages.get(fixed).code != languages.get(lang).code:
        raise InputError(f"config key '{key}.lang': the eval set is in '{fixed}' only, so it has no items in '{lang}'")
    malformed = Malformed.of(spec, key)
    other_languages: Counter = Counter()
    if spec.get("format"):
        from polyinstruct.data import evalsets

        if path is None:
            raise InputError(f"config key '{key}.format': a formatted eval set is read from 'path'")
        records, dropped = evalsets.load(spec, path, lang, evalset, malformed), Counter()
    else:
        filter_lang = not sources.per_language(spec.get("path")) and not fixed
        records, dropped = normalise_eval(
            iter_source(spec, path, malformed), evalset, lang, spec["fields"], filter_lang, other_languages
        )
    malformed.add_to(dropped)
    offset = spec.get("offset") or 0
    if offset:
        dropped["before_offset"] += min(offset, len(records))
        records = records[offset:]
    require_records(records, dropped, _source_name(spec, path), f"items in '{lang}' for '{key}'", other_languages)
    limit = spec.get("limit")
    if limit is not None and len(records) > limit:
        dropped["over_limit"] += len(records) - limit
        records = records[:limit]
    return records, dropped
