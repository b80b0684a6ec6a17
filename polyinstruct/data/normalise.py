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

from polyinstruct.data import sources
from polyinstruct.io import InputError, read_jsonl, sha256_file

ROLE_ALIASES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def iter_source(spec: dict, path: str | None = None) -> Iterator[tuple[str, dict]]:
    """Yield (location, raw record); location is `file:line` or `hub-id[split][index]`."""
    path = path or spec.get("path")
    if path:
        suffix = Path(path).suffix.lower()
        if suffix == ".jsonl":
            for lineno, record in read_jsonl(path):
                yield f"{path}:{lineno}", record
        elif suffix == ".json":
            with open(path, encoding="utf-8") as fh:
                try:
                    data = json.load(fh)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
            if not isinstance(data, list):
                raise InputError(f"{path}: expected a JSON array of records")
            for i, record in enumerate(data):
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
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{where}: 'messages' must be a non-empty list of turns")
    out = []
    for turn in raw:
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
            user = next((m["content"] for m in messages if m["role"] == "user"), "")
            answer = next((m["content"] for m in messages if m["role"] == "assistant"), "")
            body = {"messages": messages}
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


def normalise_eval(rows, evalset: str, lang: str, fields: dict, filter_lang: bool) -> tuple[list[dict], Counter]:
    """Map raw rows to eval records for one language."""
    key = f"evalsets.{evalset}"
    dropped: Counter = Counter()
    seen: set[str] = set()
    records = []
    for where, row in rows:
        if filter_lang:
            row_lang = _field(row, fields, "lang", where, key)
            if row_lang != lang:
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
        raw_id = _field(row, fields, "id", where, key)
        rid = str(raw_id)
        if rid in seen:
            dropped["duplicate_id"] += 1
            continue
        seen.add(rid)
        records.append({"id": rid, "lang": lang, "category": str(category), "turns": turns, "reference": reference})
    return records, dropped


def manifest(spec: dict, path: str | None, n_out: int, dropped: Counter) -> dict:
    source = (
        {"path": path, "sha256": sha256_file(path)}
        if path
        else {"hub": spec.get("hub"), "revision": spec.get("revision"), "split": spec.get("split")}
    )
    if sources.is_url(spec.get("path")):  # `path` is the local copy fetched from it
        source["url"] = spec["path"]
    return {
        "source": source,
        "fields": spec.get("fields"),
        "records": n_out,
        "dropped": dict(sorted(dropped.items())),
        "dropped_total": sum(dropped.values()),
    }


def load_eval(spec: dict, path: str | None, evalset: str, lang: str) -> tuple[list[dict], Counter]:
    """Eval records for one language: a public shape when `evalsets.<name>.format` is set, else the field
    mapping; the first `offset` items left out (counted as before_offset), then the first `limit` items
    kept when set (the rest counted as over_limit)."""
    if spec.get("format"):
        from polyinstruct.data import evalsets

        if path is None:
            raise InputError(f"config key 'evalsets.{evalset}.format': a formatted eval set is read from 'path'")
        records, dropped = evalsets.load(spec, path, lang, evalset), Counter()
    else:
        records, dropped = normalise_eval(
            iter_source(spec, path),
            evalset,
            lang,
            spec["fields"],
            filter_lang=not sources.per_language(spec.get("path")),
        )
    offset = spec.get("offset") or 0
    if offset:
        dropped["before_offset"] += min(offset, len(records))
        records = records[offset:]
    limit = spec.get("limit")
    if limit is not None and len(records) > limit:
        dropped["over_limit"] += len(records) - limit
        records = records[:limit]
    return records, dropped
