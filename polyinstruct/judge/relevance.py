"""Relevance 0/1 (Chirkova & Nikoulina's surface metric): a chat model says whether a response is on topic.

It runs through the same backends, cache and ledger as the judges (a small local chat model by
default) and parses `[[0]]` / `[[1]]` with the single-grading parser. Unparsed answers keep their raw
text and are counted, as in every protocol.
"""
from __future__ import annotations

from polyinstruct import languages
from polyinstruct.judge import templates
from polyinstruct.judge.backend import ask
from polyinstruct.judge.single import parse_rating

RELEVANCE_ROLES = {"relevance": ("instruction", "response")}


def grade(records: list[dict], judge, template_set: templates.TemplateSet) -> tuple[list[dict], dict]:
    """One row per (record, turn) with `rating` 0/1 (None + `parse_error` when unparsed) and `raw`."""
    prompts, versions, keys = [], [], []
    for record in records:
        template = template_set.get("relevance", record["lang"])
        for turn, (instruction, response) in enumerate(zip(record["turns"], record["responses"])):
            prompts.append(template.fill(instruction=instruction, response=response,
                                         language=languages.get(record["lang"]).name))
            versions.append(template.version)
            keys.append((record, turn))
    answers, stats = ask(judge, prompts, versions)
    rows = []
    for (record, turn), version, answer in zip(keys, versions, answers):
        verdict = parse_rating(answer, 0, 1)
        rows.append({"id": record["id"], "lang": record["lang"], "category": record["category"], "turn": turn + 1,
                     "rating": verdict.rating, "parse_error": verdict.parse_error, "raw": answer,
                     "judge": {"model": judge.model, "template": version}})
    stats["parse_failures"] = sum(r["parse_error"] is not None for r in rows)
    return rows, stats
