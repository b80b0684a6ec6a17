"""The interface every translation engine has (`registry.py` names them), and the `precomputed` engine.

`precomputed` joins translations that already exist (shipped files, DeepL output, a released
translated dataset) by record id, or by position for releases without ids that keep the source's
order (Chen et al.'s `alpaca_data_cleaned.<lang>.json`: the n-th record translates source record
`<dataset>-<n>`). It reads JSONL or a JSON array. Model engines (`hf-seq2seq`, `ctranslate2`, `llm`) translate
*segments*: `SegmentEngine` cuts every text field with `structure.plan` (code, URLs, placeholders
and markdown stay out of what the model sees), translates the unique segments of a whole shard
in length-sorted batches, and rebuilds each field with its protected spans restored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter

from polyinstruct.data import records as rec
from polyinstruct.io import InputError, Malformed, read_jsonl
from polyinstruct.translate import structure


class Engine(ABC):
    name: str

    @abstractmethod
    def translate_records(self, records: list[dict], source_lang: str, target_lang: str) -> tuple[list[dict], Counter]:
        """Return translated records (same ids, lang=target) and counts of records it could not translate."""


def _with_texts(record: dict, texts: dict[str, str], target_lang: str) -> dict:
    """A copy of `record` in `target_lang` with its text fields replaced (see records.texts)."""
    new = {k: v for k, v in record.items() if k not in ("messages", "qa", *rec.TEXT_FIELDS)}
    if "messages" in record:
        new["messages"] = [
            {"role": m["role"], "content": texts[f"messages.{i}"]} for i, m in enumerate(record["messages"])
        ]
    else:
        new.update({field: texts[field] for field in rec.TEXT_FIELDS})
    new["lang"] = target_lang
    return new


JOINS = ("id", "position")


def _translated_records(path: str, malformed: Malformed | None = None):
    """(location, record) of a JSONL file (a line that cannot be read goes to `malformed`), or of a JSON
    array (`file[n]`)."""
    if str(path).lower().endswith(".json"):
        import json

        with open(path, encoding="utf-8") as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON array of records")
        for i, record in enumerate(data):
            if not isinstance(record, dict):
                raise InputError(f"{path}[{i}]: expected a JSON object, got {type(record).__name__}")
            yield f"{path}[{i}]", record
        return
    for lineno, record in read_jsonl(path, malformed):
        yield f"{path}:{lineno}", record


class PrecomputedEngine(Engine):
    """Translations that already exist, joined to the source records.

    `path` alone: a JSONL (or JSON array) of records with `id` and the translated text fields
    (`translate.precomputed`), or, with `join: position`, without ids: record n translates the source record
    `<dataset>-<n>` (datasets.<name>.ids: position; Chen et al.'s alpaca_data_cleaned.<lang>.json).
    With `source` (a dataset's `translations` spec: a local file or a hub dataset, already filled in for
    the target language) the rows are mapped with `fields` like a dataset's, and joined by their id
    (`join: id`) or by position (`join: position`: row i translates the source dataset's record i, whose
    ids are `source_ids`; the two must have as many rows).
    """

    name = "precomputed"

    def __init__(
        self,
        path: str | None = None,
        *,
        source: dict | None = None,
        fields: dict | None = None,
        join: str = "id",
        source_ids: list[str] | None = None,
        dataset: str | None = None,
        key: str = "translations",
        on_malformed: str = "stop",
    ):
        """`on_malformed: skip` drops unreadable lines of `path` (named in the log); their records then count as
        `missing_translation` in every shard's manifest, like any record without a translation."""
        if join not in JOINS:
            raise InputError(f"config key '{key}.join': {join!r} is not one of {', '.join(JOINS)}")
        self.path = path
        self.by_id: dict[str, tuple[str, dict]] = {}
        if source is not None:
            self._load(source, path, fields or {}, join, source_ids, key)
            return
        if join == "position" and not dataset:
            raise ValueError("a position join needs the dataset name (ids are <dataset>-<n>)")
        from polyinstruct.data.normalise import position_id

        malformed = Malformed(on_malformed, "translate.precomputed")
        for position, (where, record) in enumerate(_translated_records(path, malformed)):
            if join == "position":
                self.by_id[position_id(dataset, position)] = (where, record)
                continue
            if "id" not in record:
                raise InputError(f"{where}: missing field 'id'")
            self.by_id[str(record["id"])] = (where, record)

    def _load(self, source: dict, path: str | None, fields: dict, join: str, source_ids, key: str) -> None:
        from polyinstruct.data import normalise

        if join == "position" and source_ids is None:
            raise InputError(f"config key '{key}.join': position needs the source records' ids")
        if join == "id" and "id" not in fields:
            raise InputError(f"config key '{key}.fields.id': joining translations by id needs an id field")
        rows = list(normalise.iter_source(source, path))
        if join == "position" and len(rows) != len(source_ids):
            raise InputError(
                f"config key '{key}.join': position joins row i to source record i, but the translations have "
                f"{len(rows)} rows and the source dataset {len(source_ids)} records"
            )
        for i, (where, row) in enumerate(rows):
            mapped, _ = normalise.normalise_instructions([(where, row)], "translations", "x", fields)
            if not mapped:
                continue  # an empty translation: its source record is counted as missing_translation
            record = mapped[0]
            rid = source_ids[i] if join == "position" else record["id"]
            if rid in self.by_id:
                raise InputError(f"{where}: translation of id '{rid}' given twice (first at {self.by_id[rid][0]})")
            self.by_id[rid] = (where, record)

    def translate_records(self, records, source_lang, target_lang):
        missing: Counter = Counter()
        out = []
        for record in records:
            found = self.by_id.get(record["id"])
            if found is None:
                missing["missing_translation"] += 1
                continue
            where, translated = found
            texts = {}
            if "messages" in record:
                turns = translated.get("messages")
                if not isinstance(turns, list) or len(turns) != len(record["messages"]):
                    raise InputError(f"{where}: 'messages' must have {len(record['messages'])} turns like the source")
                texts = {f"messages.{i}": t["content"] if isinstance(t, dict) else t for i, t in enumerate(turns)}
            else:
                for field in rec.TEXT_FIELDS:
                    if field in translated:
                        texts[field] = translated[field]
                    elif field == "input" and not record.get("input"):
                        texts[field] = ""
                    else:
                        raise InputError(f"{where}: missing field '{field}'")
            out.append(_with_texts(record, texts, target_lang))
        return out, missing


class SegmentEngine(Engine):
    """An engine that translates plain segments; structure protection happens here, once for all."""

    def __init__(self, *, batch_size: int = 16, segment_max_chars: int = 400):
        self.batch_size = batch_size
        self.segment_max_chars = segment_max_chars

    @abstractmethod
    def translate_texts(self, texts: list[str], source_lang: str, target_lang: str) -> list[str]:
        """Translate plain segments (they may hold ⟦n⟧ tokens to copy), in order."""

    def translate_batched(self, texts: list[str], source_lang: str, target_lang: str) -> list[str]:
        """Unique texts, longest first, in batches: less padding and no repeated work."""
        from tqdm import tqdm

        unique = sorted(set(texts), key=len, reverse=True)
        done: dict[str, str] = {}
        with tqdm(
            total=len(unique), desc=f"{self.name} {source_lang}->{target_lang}", unit="seg", mininterval=5
        ) as bar:
            for start in range(0, len(unique), self.batch_size):
                batch = unique[start : start + self.batch_size]
                done.update(zip(batch, self.translate_texts(batch, source_lang, target_lang)))
                bar.update(len(batch))
        return [done[t] for t in texts]

    def translate_records(self, records, source_lang, target_lang):
        plans = [
            {field: structure.plan(text, max_chars=self.segment_max_chars) for field, text in rec.texts(r).items()}
            for r in records
        ]
        segments = [s.text for p in plans for fp in p.values() for s in fp.segments]
        translated = iter(self.translate_batched(segments, source_lang, target_lang))
        out = []
        for record, fields in zip(records, plans):
            texts, lost = {}, []
            for field, field_plan in fields.items():
                mine = [next(translated) for _ in field_plan.segments]
                texts[field] = self._rebuild(field, field_plan, mine, lost)
            new = _with_texts(record, texts, target_lang)
            new["translation"] = {"engine": self.name, "protected_span_lost": lost}
            out.append(new)
        return out, Counter()

    @staticmethod
    def _rebuild(field: str, field_plan, translations: list[str], lost: list[str]) -> str:
        """Rebuild a field; each segment whose tokens broke stays untranslated and is reported."""
        translations = list(translations)
        for _ in range(len(translations) + 1):
            try:
                return field_plan.rebuild(translations)
            except structure.ProtectionError as error:
                lost.append(f"{field}: {error}")
                translations[error.segment] = field_plan.segments[error.segment].text
        raise AssertionError("unreachable: source segments always rebuild")
