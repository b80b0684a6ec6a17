"""Single grading: the judge rates one answer alone and writes `[[N]]`.

Two protocols (protocols.py) share this: Chen et al.'s 1-3 rating of the first turn, and MT-Bench's
1-10 rating of every turn, where math/reasoning/coding questions show the judge a reference answer
and turns after the first show the conversation so far (`turn_fields`).

Two parsers: `parse_rating` (strict: one distinct `[[N]]` in range, integers unless allowed), and
`parse_fastchat` (FastChat's own rule, `fastchat.rating`: the first `[[x]]`, else the first `[x]`,
fractions allowed, kept as judged; FastChat's -1 for "no rating" is a parse failure here).

An answer that does not parse keeps its raw text and a reason; it is never turned into a 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from polyinstruct import languages
from polyinstruct.score.judge import fastchat

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


def parse_fastchat(text: str | None) -> Verdict:
    """FastChat's rating (`fastchat.rating`); its -1 ("no rating", also every "$ERROR$" row) is a parse failure."""
    if text is None:
        return Verdict(None, "judge_call_failed")
    value = fastchat.rating(text)
    return Verdict(None, "no_rating") if value == fastchat.NO_RATING else Verdict(value, None)


def render_history(turns: list[str], responses: list[str]) -> str:
    """Earlier turns of a conversation, as the multi-turn judge template shows them."""
    return "".join(f"### User:\n{q}\n\n### Assistant:\n{a}\n\n" for q, a in zip(turns, responses)).rstrip()


def references_through(record: dict, turn: int, reference_categories) -> list[str] | None:
    """The references of turns 1..turn+1 when the record's category shows references and every one of
    them exists (FastChat's multi-turn reference prompt shows both turns' references), else None."""
    if record["category"] not in reference_categories:
        return None
    found = (record.get("reference") or [None] * len(record["turns"]))[: turn + 1]
    return found if len(found) == turn + 1 and all(r is not None for r in found) else None


def turn_fields(record: dict, turn: int, reference_categories=DEFAULT_REFERENCE_CATEGORIES) -> tuple[dict, str, bool]:
    """(template fields, template role, reference shown) for one 0-based turn of an answered eval record.

    The fields serve both template families: FastChat's (`question`, `answer`, `ref_answer_1` on turn 1;
    `question_1`, `question_2`, `answer_1`, `answer_2`, `ref_answer_1`, `ref_answer_2` on turn 2) and
    the .txt templates' (`history`, `question`, `answer`, `reference` of the turn judged). A record in a
    reference category lacking a reference for this or an earlier turn is judged without one."""
    references = references_through(record, turn, reference_categories)
    with_reference = references is not None
    role = ("turn1" if turn == 0 else "multi_turn") + ("_reference" if with_reference else "")
    fields = {
        "question": record["turns"][turn],
        "answer": record["responses"][turn],
        "language": languages.get(record["lang"]).name,
    }
    for k in range(turn + 1):
        fields[f"question_{k + 1}"] = record["turns"][k]
        fields[f"answer_{k + 1}"] = record["responses"][k]
    if turn > 0:
        fields["history"] = render_history(record["turns"][:turn], record["responses"][:turn])
    if with_reference:
        fields["reference"] = references[turn]
        fields.update({f"ref_answer_{k + 1}": ref for k, ref in enumerate(references)})
    return fields, role, with_reference


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
        out[name] = {
            "n": len(groups[name]),
            "scored": len(rated),
            "unscored": len(groups[name]) - len(rated),
            "mean": sum(rated) / len(rated) if rated else None,
        }
    return out
