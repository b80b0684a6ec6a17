"""Pairwise judging (MT-Bench / Weber et al.): A, B, tie (and optionally "both bad"), asked in both orders.

Every (question, turn) is judged twice, with the two answers swapped. Verdicts are mapped to the
first model's point of view (win/loss/tie/both_bad). If the two orders agree, that is the outcome;
if not, the pair is inconsistent and, by the `inconsistent` policy, becomes a tie (FastChat's rule)
or is left undecided and counted. A position flip is the strict case where the judge picked the
same slot both times (A then A, or B then B), so its verdict followed the position, not the answer.

Verdicts are read strictly (`parse_verdict`: exactly one distinct `[[X]]`) or as FastChat reads them
(`parse_fastchat`: `[[A]]` anywhere wins, then `[[B]]`, `[[C]]`, then MT-Bench-X's `[[D]]`). With
`repeats` N > 1 every prompt is asked N times (each repeat its own cache entry, Weber et al. ran their
pairwise judging three times); rows carry their `repeat`, and `summarise` averages each rate over the
repeats.
"""

from __future__ import annotations

import re
from collections import defaultdict

from polyinstruct.io import InputError
from polyinstruct.score.judge import fastchat, templates
from polyinstruct.score.judge.backend import ask
from polyinstruct.score.judge.single import DEFAULT_REFERENCE_CATEGORIES, references_through, render_history

VERDICT = re.compile(r"\[\[\s*([A-D])\s*\]\]")
LETTERS = {"A": "A", "B": "B", "C": "tie", "D": "both_bad"}
OUTCOMES = ("win", "tie", "loss", "both_bad")
INCONSISTENT_POLICIES = ("tie", "count")
PARSERS = ("fastchat", "strict")

#: Template roles and the placeholders each must contain.
PAIR_ROLES = {
    "turn1": ("question", "answer_a", "answer_b"),
    "turn1_reference": ("question", "answer_a", "answer_b", "reference"),
    "multi_turn": ("conversation_a", "conversation_b"),
    "multi_turn_reference": ("conversation_a", "conversation_b", "reference"),
}


def parse_verdict(text: str | None, allow_both_bad: bool = False) -> tuple[str | None, str | None]:
    """(verdict in A | B | tie | both_bad, None) or (None, reason)."""
    if text is None:
        return None, "judge_call_failed"
    found = set(VERDICT.findall(text))
    if not found:
        return None, "no_verdict"
    if len(found) > 1:
        return None, "multiple_verdicts"
    verdict = LETTERS[found.pop()]
    if verdict == "both_bad" and not allow_both_bad:
        return None, "both_bad_not_allowed"
    return verdict, None


def parse_fastchat(text: str | None, allow_both_bad: bool = False) -> tuple[str | None, str | None]:
    """FastChat's verdict (`fastchat.verdict`: the first of [[A]], [[B]], [[C]] found anywhere, then
    MT-Bench-X's [[D]]), as (verdict, None) or (None, reason)."""
    if text is None:
        return None, "judge_call_failed"
    found = fastchat.verdict(text, both_bad=True)
    if found == "error":
        return None, "no_verdict"
    if found == "both bad":
        return (None, "both_bad_not_allowed") if not allow_both_bad else ("both_bad", None)
    return found, None


def outcome_for_first(verdict: str, first_is_a: bool) -> str:
    """The first model's outcome given a verdict about slots A and B."""
    if verdict in ("tie", "both_bad"):
        return verdict
    return "win" if (verdict == "A") == first_is_a else "loss"


def combine(verdict_ab: str | None, verdict_ba: str | None, inconsistent: str = "tie") -> dict:
    """Outcome of the two orders. `verdict_ab` has the first model in slot A, `verdict_ba` in slot B."""
    if verdict_ab is None or verdict_ba is None:
        return {"outcome": None, "consistent": None, "position_flip": None}
    first, second = outcome_for_first(verdict_ab, True), outcome_for_first(verdict_ba, False)
    if first == second:
        return {"outcome": first, "consistent": True, "position_flip": False}
    flip = verdict_ab == verdict_ba and verdict_ab in ("A", "B")
    return {"outcome": "tie" if inconsistent == "tie" else None, "consistent": False, "position_flip": flip}


def _conversation(turns: list[str], responses: list[str]) -> str:
    return render_history(turns, responses)


def pair_prompt(
    question: dict,
    answers_x: list[str],
    answers_y: list[str],
    turn: int,
    template_set: templates.TemplateSet,
    reference_categories,
) -> tuple[str, templates.Template]:
    """(prompt, template) with answers_x in slot A and answers_y in slot B.

    The fields serve FastChat's prompts (`question`, `answer_a`, `answer_b`, `ref_answer_1` on turn 1;
    `question_1`, `question_2`, `answer_a_1`, ..., `ref_answer_2` on turn 2) and the .txt templates
    (`conversation_a`, `conversation_b`, `reference` of the turn judged)."""
    references = references_through(question, turn, reference_categories)
    role = ("turn1" if turn == 0 else "multi_turn") + ("_reference" if references else "")
    template = template_set.get(role, question["lang"])
    fastchat.check_turns(template, question, turn)
    if turn == 0:
        fields = {"question": question["turns"][0], "answer_a": answers_x[0], "answer_b": answers_y[0]}
    else:
        fields = {
            "conversation_a": _conversation(question["turns"][: turn + 1], answers_x[: turn + 1]),
            "conversation_b": _conversation(question["turns"][: turn + 1], answers_y[: turn + 1]),
        }
        for k in range(turn + 1):
            fields[f"question_{k + 1}"] = question["turns"][k]
            fields[f"answer_a_{k + 1}"] = answers_x[k]
            fields[f"answer_b_{k + 1}"] = answers_y[k]
    if references:
        fields["reference"] = references[turn]
        fields.update({f"ref_answer_{k + 1}": ref for k, ref in enumerate(references)})
    return template.fill(**fields), template


def _paired(records_first: list[dict], records_second: list[dict]) -> list[tuple[dict, dict]]:
    by_id = {r["id"]: r for r in records_second}
    missing = [r["id"] for r in records_first if r["id"] not in by_id]
    extra = sorted(set(by_id) - {r["id"] for r in records_first})
    if missing or extra:
        raise InputError(
            f"pairwise judging needs the same eval items from both models; only in the first: "
            f"{missing[:5]}, only in the second: {extra[:5]}"
        )
    pairs = []
    for record in records_first:
        other = by_id[record["id"]]
        if record["turns"] != other["turns"] or len(record["responses"]) != len(other["responses"]):
            raise InputError(f"item '{record['id']}': the two models answered different questions or turn counts")
        pairs.append((record, other))
    return pairs


def compare(
    records_first: list[dict],
    records_second: list[dict],
    judge,
    template_set: templates.TemplateSet,
    *,
    names: tuple[str, str],
    allow_both_bad: bool = False,
    inconsistent: str = "tie",
    reference_categories=DEFAULT_REFERENCE_CATEGORIES,
    parser: str = "strict",
    repeats: int = 1,
) -> tuple[list[dict], dict]:
    """One row per (item, turn, repeat): both verdicts, raw answers, the combined outcome for names[0]."""
    if inconsistent not in INCONSISTENT_POLICIES:
        raise InputError(
            f"config key 'score.judge.mt_bench_pairwise.inconsistent': {inconsistent!r} is not one of "
            f"{', '.join(INCONSISTENT_POLICIES)}"
        )
    if parser not in PARSERS:
        raise InputError(
            f"config key 'score.judge.mt_bench_pairwise.parser': {parser!r} is not one of fastchat, strict"
        )
    if repeats < 1:
        raise InputError(f"config key 'score.judge.mt_bench_pairwise.repeats': must be >= 1, got {repeats}")
    parse = parse_fastchat if parser == "fastchat" else parse_verdict
    prompts, versions, keys = [], [], []
    for first, second in _paired(records_first, records_second):
        for turn in range(len(first["turns"])):
            for x, y in ((first, second), (second, first)):
                prompt, template = pair_prompt(
                    first, x["responses"], y["responses"], turn, template_set, reference_categories
                )
                if allow_both_bad and "[[D]]" not in template.text:
                    raise InputError(
                        f"config key 'score.judge.mt_bench_pairwise.allow_both_bad' is true but template "
                        f"{template.path} never offers the verdict [[D]]"
                    )
                prompts.append(prompt)
                versions.append(template.version)
            keys.append((first, turn))
    rows, stats = [], {}
    for repeat in range(repeats):
        answers, got = ask(judge, prompts, versions, repeat=repeat)
        for name, value in got.items():
            stats[name] = stats.get(name, 0) + value
        for i, (record, turn) in enumerate(keys):
            raw_ab, raw_ba = answers[2 * i], answers[2 * i + 1]
            (v_ab, e_ab), (v_ba, e_ba) = parse(raw_ab, allow_both_bad), parse(raw_ba, allow_both_bad)
            rows.append(
                {
                    "id": record["id"],
                    "lang": record["lang"],
                    "category": record["category"],
                    "turn": turn + 1,
                    "repeat": repeat + 1,
                    "first": names[0],
                    "second": names[1],
                    "verdict_ab": v_ab,
                    "verdict_ba": v_ba,
                    **combine(v_ab, v_ba, inconsistent),
                    "parse_error": e_ab or e_ba,
                    "raw": [raw_ab, raw_ba],
                    "judge": {"model": judge.model, "template": [versions[2 * i], versions[2 * i + 1]]},
                }
            )
    stats["parse_failures"] = sum(r["parse_error"] is not None for r in rows)
    skipped = template_set.skipped_lines()
    if skipped:
        stats["judge_prompt_lines_skipped"] = sum(len(lines) for lines in skipped.values())
    return rows, stats


def _decided(row: dict) -> bool:
    return row["outcome"] is not None


def _both_parsed(row: dict) -> bool:
    return row["consistent"] is not None


def _rate(part: list[dict], numerator, denominator) -> float | None:
    base = [r for r in part if denominator(r)]
    return sum(bool(numerator(r)) for r in base) / len(base) if base else None


def _mean_over_repeats(group: list[dict], numerator, denominator) -> float | None:
    """The rate within each repeat, averaged over the repeats where it is defined (one repeat: the rate)."""
    by_repeat: dict[int, list[dict]] = defaultdict(list)
    for row in group:
        by_repeat[row.get("repeat", 1)].append(row)
    rates = [r for r in (_rate(part, numerator, denominator) for part in by_repeat.values()) if r is not None]
    return sum(rates) / len(rates) if rates else None


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Win/tie/loss(/both-bad) rates and position-bias shares per category, plus "all".

    Rates are over decided rows (outcome not None). `inconsistent_rate` and `position_flip_rate` are
    over rows whose two verdicts both parsed. Undecided rows are counted by reason. With repeated
    judgments, counts are over all repeats and every rate is the mean of the repeats' rates.
    """
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["category"]].append(row)
        groups["all"].append(row)
    out = {}
    for name in sorted(groups, key=lambda g: (g == "all", g)):
        group = groups[name]
        decided = [r for r in group if r["outcome"] is not None]
        counts = {o: sum(r["outcome"] == o for r in decided) for o in OUTCOMES}
        entry = {
            "n": len(group),
            "pairs": len({(r["id"], r["turn"]) for r in group}),
            "decided": len(decided),
            **counts,
            "parse_failures": sum(r["parse_error"] is not None for r in group),
            "gated_out": sum(bool(r.get("gated_out")) for r in group),
            "inconsistent": sum(r["consistent"] is False for r in group),
            "position_flips": sum(bool(r["position_flip"]) for r in group),
        }
        entry["undecided_inconsistent"] = sum(
            r["consistent"] is False and r["outcome"] is None and not r.get("gated_out") for r in group
        )
        entry["repeats"] = len({r.get("repeat", 1) for r in group})
        for o in OUTCOMES:
            entry[f"{o}_rate"] = _mean_over_repeats(group, lambda r, o=o: r["outcome"] == o, _decided)
        entry["inconsistent_rate"] = _mean_over_repeats(group, lambda r: r["consistent"] is False, _both_parsed)
        entry["position_flip_rate"] = _mean_over_repeats(group, lambda r: r["position_flip"], _both_parsed)
        out[name] = entry
    return out
