"""Translation engines behind one interface.

`precomputed` joins translations that already exist (shipped files, DeepL output, a released
translated dataset) by record id. Model engines (hf-seq2seq, ctranslate2, llm) plug in here.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter

from polyinstruct import records as rec
from polyinstruct.io import InputError, read_jsonl


class Engine(ABC):
    name: str

    @abstractmethod
    def translate_records(self, records: list[dict], source_lang: str, target_lang: str) -> tuple[list[dict], Counter]:
        """Return translated records (same ids, lang=target) and counts of records it could not translate."""


class PrecomputedEngine(Engine):
    name = "precomputed"

    def __init__(self, path: str):
        self.path = path
        self.by_id: dict[str, tuple[str, dict]] = {}
        for lineno, record in read_jsonl(path):
            if "id" not in record:
                raise InputError(f"{path}:{lineno}: missing field 'id'")
            self.by_id[str(record["id"])] = (f"{path}:{lineno}", record)

    def translate_records(self, records, source_lang, target_lang):
        missing: Counter = Counter()
        out = []
        for record in records:
            found = self.by_id.get(record["id"])
            if found is None:
                missing["missing_translation"] += 1
                continue
            where, translated = found
            new = {k: v for k, v in record.items() if k not in ("messages", *rec.TEXT_FIELDS)}
            if "messages" in record:
                turns = translated.get("messages")
                if not isinstance(turns, list) or len(turns) != len(record["messages"]):
                    raise InputError(f"{where}: 'messages' must have {len(record['messages'])} turns like the source")
                new["messages"] = [
                    {"role": m["role"], "content": t["content"] if isinstance(t, dict) else t}
                    for m, t in zip(record["messages"], turns)
                ]
            else:
                for field in rec.TEXT_FIELDS:
                    if field not in translated:
                        if field == "input" and not record.get("input"):
                            new["input"] = ""
                            continue
                        raise InputError(f"{where}: missing field '{field}'")
                    new[field] = translated[field]
            new["lang"] = target_lang
            out.append(new)
        return out, missing


def make_engine(name: str, settings: dict) -> Engine:
    if name == "precomputed":
        return PrecomputedEngine(settings["path"])
    raise InputError(f"config key 'translate.engine': unknown engine '{name}'")
