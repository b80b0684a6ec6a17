"""Single grading on Chen et al.'s 1-3 scale: the judge explains, then writes `Rating: [[N]]`.

An answer that does not parse keeps its raw text and a reason; it is never turned into a 0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from polyinstruct import languages

RATING = re.compile(r"\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]")


@dataclass(frozen=True)
class Verdict:
    rating: int | None
    parse_error: str | None  # no_rating | multiple_ratings | out_of_range | not_an_integer


def parse_rating(text: str, low: int = 1, high: int = 3) -> Verdict:
    found = RATING.findall(text)
    if not found:
        return Verdict(None, "no_rating")
    if len(set(found)) > 1:
        return Verdict(None, "multiple_ratings")
    value = float(found[0])
    if not value.is_integer():
        return Verdict(None, "not_an_integer")
    if not low <= value <= high:
        return Verdict(None, "out_of_range")
    return Verdict(int(value), None)


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


class Template:
    """A versioned judge prompt file; the version is its file name (e.g. chen_single_1to3.v1)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.text = self.path.read_text(encoding="utf-8")
        self.version = self.path.stem
        for field in ("{instruction}", "{response}", "{language}"):
            if field not in self.text:
                raise ValueError(f"{self.path}: judge template lacks the placeholder {field}")

    def render(self, instruction: str, response: str, lang: str) -> str:
        return self.text.format(instruction=instruction, response=response, language=languages.get(lang).name)
