"""Single grading: the judge rates one answer alone and writes `[[N]]`.

Two protocols share the parser: Chen et al.'s 1-3 rating of the first turn (`grade`), and
MT-Bench's 1-10 rating of every turn (`grade_turns`), where math/reasoning/coding questions show
the judge a reference answer and turns after the first show the conversation so far.

An answer that does not parse keeps its raw text and a reason; it is never turned into a 0.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from polyinstruct import languages
from polyinstruct.judge import templates
from polyinstruct.judge.backend import ask

RATING = re.compile(r"\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]")

#: Template roles of the per-turn protocol and the placeholders each must contain.
TURN_ROLES = {
    "turn1": ("question", "answer"),
    "turn1_reference": ("question", "answer", "reference"),
    "multi_turn": ("history", "question", "answer"),
    "multi_turn_reference": ("history", "question", "answer", "reference"),
}
DEFAULT_REFERENCE_CATEGORIES = ("math", "reasoning", "coding")


@dataclass(frozen=True)
class Verdict:
    rating: int | float | None
    parse_error: str | None  # no_rating | multiple_ratings | out_of_range | not_an_integer | judge_call_failed


def parse_rating(text: str | None, low: int = 1, high: int = 3, integer: bool = True) -> Verdict:
    if text is None:
        return Verdict(None, "judge_call_failed")
    found = RATING.findall(text)
    if not found:
        return Verdict(None, "no_rating")
    if len({float(f) for f in found}) > 1:
        return Verdict(None, "multiple_ratings")
    value = float(found[0])
    if integer and not value.is_integer():
        return Verdict(None, "not_an_integer")
    if not low <= value <= high:
        return Verdict(None, "out_of_range")
    return Verdict(int(value) if value.is_integer() else value, None)


def grade(records: list[dict], judge, template: "Template", judge_name: str) -> tuple[list[dict], dict]:
    """Judge each record's first turn and answer; rows keep the raw answer and any parse error."""
    prompts = [template.render(r["turns"][0], r["responses"][0], r["lang"]) for r in records]
    answers, stats = judge.complete(prompts)
    rows = []
    for record, answer in zip(records, answers):
        verdict = parse_rating(answer, 1, 3)
        rows.append({"id": record["id"], "lang": record["lang"], "rating": verdict.rating,
                     "parse_error": verdict.parse_error, "raw": answer,
                     "judge": {"model": judge_name, "template": template.version}})
    return rows, stats


class Template(templates.Template):
    """Chen et al.'s template: {instruction}, {response} and {language} (the language's English name)."""

    def __init__(self, path: str | Path):
        super().__init__(path, ("instruction", "response", "language"))

    def render(self, instruction: str, response: str, lang: str) -> str:
        return self.fill(instruction=instruction, response=response, language=languages.get(lang).name)


def render_history(turns: list[str], responses: list[str]) -> str:
    """Earlier turns of a conversation, as the multi-turn judge template shows them."""
    return "".join(f"### User:\n{q}\n\n### Assistant:\n{a}\n\n" for q, a in zip(turns, responses)).rstrip()


def turn_prompt(record: dict, turn: int, template_set: templates.TemplateSet,
                reference_categories=DEFAULT_REFERENCE_CATEGORIES) -> tuple[str, str, bool]:
    """(prompt, template version, reference shown) for one 0-based turn of an answered eval record."""
    reference = (record.get("reference") or [None] * len(record["turns"]))[turn]
    with_reference = record["category"] in reference_categories and reference is not None
    role = ("turn1" if turn == 0 else "multi_turn") + ("_reference" if with_reference else "")
    template = template_set.get(role, record["lang"])
    fields = {"question": record["turns"][turn], "answer": record["responses"][turn],
              "language": languages.get(record["lang"]).name}
    if turn > 0:
        fields["history"] = render_history(record["turns"][:turn], record["responses"][:turn])
    if with_reference:
        fields["reference"] = reference
    return template.fill(**fields), template.version, with_reference


def grade_turns(records: list[dict], judge, template_set: templates.TemplateSet, *, scale=(1, 10),
                integer: bool = True, reference_categories=DEFAULT_REFERENCE_CATEGORIES) -> tuple[list[dict], dict]:
    """MT-Bench single grading: one row per (record, turn) with rating or parse error and raw answer.

    A record in a reference category whose turn has no reference is graded without one and counted
    in stats["reference_missing"].
    """
    prompts, versions, keys = [], [], []
    missing = 0
    for record in records:
        for turn in range(len(record["turns"])):
            prompt, version, with_reference = turn_prompt(record, turn, template_set, reference_categories)
            missing += record["category"] in reference_categories and not with_reference
            prompts.append(prompt)
            versions.append(version)
            keys.append((record, turn, with_reference))
    answers, stats = ask(judge, prompts, versions)
    rows = []
    for (record, turn, with_reference), version, answer in zip(keys, versions, answers):
        verdict = parse_rating(answer, scale[0], scale[1], integer)
        rows.append({"id": record["id"], "lang": record["lang"], "category": record["category"], "turn": turn + 1,
                     "rating": verdict.rating, "parse_error": verdict.parse_error, "raw": answer,
                     "reference_used": with_reference, "judge": {"model": judge.model, "template": version}})
    stats["reference_missing"] = missing
    stats["parse_failures"] = sum(r["parse_error"] is not None for r in rows)
    return rows, stats


def mean_by(rows: list[dict], *fields: str, score: str = "rating") -> dict:
    """{group: {n, scored, unscored, mean}} grouped by `fields` ("category", "turn"); keys joined by '/'.

    `score` is "rating" (as judged) or "score" (after `gating.gate_ratings`); unscored rows are
    parse failures, plus gated-out rows when gated.
    """
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups["/".join(str(row[f]) for f in fields) if fields else "all"].append(row)
    out = {}
    for name in sorted(groups):
        rated = [r[score] for r in groups[name] if r[score] is not None]
        out[name] = {"n": len(groups[name]), "scored": len(rated), "unscored": len(groups[name]) - len(rated),
                     "mean": sum(rated) / len(rated) if rated else None}
    return out
