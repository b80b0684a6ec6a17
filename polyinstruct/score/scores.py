"""Per-record scores joined across metrics, and the per-(run, eval set, language) summary.

Chen et al.'s score: the judge rating, set to 0 when fastText says the response is not in the
prompt's language. Judge answers that did not parse are excluded from means and counted.

Every protocol is gated the same way (`gating`, mode from `score.gating`), and each summary keeps
the ungated mean beside the gated one, so the report can show the drop gating causes. With
`score.gating.extra_mode`, a second gating is summarised beside the first (`extra_gating`): Weber et al.
did not gate, so their preset reports ungated scores with gated ones as an extra column.
"""

from __future__ import annotations

from polyinstruct.score import gating
from polyinstruct.score.judge import criteria, pairwise, protocols
from polyinstruct.score.judge.single import mean_by

HEADLINE_CRITERION = "helpfulness"


def summarise(langid_rows: list[dict], judge_rows: list[dict]) -> tuple[list[dict], dict]:
    judged = {r["id"]: r for r in judge_rows}
    rows = []
    for lid in langid_rows:
        j = judged.get(lid["id"], {})
        rating = j.get("rating")
        rows.append(
            {
                "id": lid["id"],
                "category": lid.get("category"),
                "lang_correct": lid["correct"],
                "judge_rating": rating,
                "judge_parse_error": j.get("parse_error") if j else "not_judged",
                "chen_score": None if rating is None else rating * int(lid["correct"]),
            }
        )
    n = len(rows)
    rated = [r for r in rows if r["judge_rating"] is not None]
    judge_mean = sum(r["judge_rating"] for r in rated) / len(rated) if rated else None
    chen_mean = sum(r["chen_score"] for r in rated) / len(rated) if rated else None
    summary = {
        "n": n,
        "lang_correct_rate": sum(r["lang_correct"] for r in rows) / n if n else None,
        "judge_rated": len(rated),
        "judge_parse_failures": n - len(rated),
        "judge_mean": judge_mean,
        "chen_score_sum": sum(r["chen_score"] for r in rated),
        "chen_score_mean": chen_mean,
        "gating_drop": (judge_mean - chen_mean) if rated else None,
    }
    return rows, summary


def gating_mode(settings: dict, protocol: str) -> str:
    """`score.gating.by_protocol.<protocol>`, else `score.gating.mode`."""
    return gating.check_mode(settings["by_protocol"].get(protocol) or settings["mode"])


def _parse_errors(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        if row["parse_error"] is not None:
            out[row["parse_error"]] = out.get(row["parse_error"], 0) + 1
    return dict(sorted(out.items()))


def extra_gating(protocol: str, judge_rows: list[dict], correct: dict, mode: str | None) -> dict | None:
    """The summary's `extra_gating`: mean and drop under a second gating mode (None when not asked for)."""
    if mode is None:
        return None
    entry = protocols.get(protocol)
    if entry.summary == "criteria":
        head = gating.criteria_drop(gating.gate_criteria(judge_rows, correct, mode))[HEADLINE_CRITERION]
        return {"mode": mode, **head}
    gated = gating.gate_ratings(judge_rows, correct, mode)
    out = {"mode": mode, **gating.rating_drop(gated)}
    if entry.unit == protocols.TURN:
        out["by_turn"] = mean_by(gated, "turn", score="score")
    return out


def summarise_protocol(protocol: str, judge_rows: list[dict], correct: dict, mode: str) -> tuple[list[dict], dict]:
    """(gated rows, summary) of one one-response protocol; summary has ungated/gated means and the drop."""
    base = {
        "protocol": protocol,
        "gating": mode,
        "n": len(judge_rows),
        "parse_failures": sum(r["parse_error"] is not None for r in judge_rows),
        "parse_errors": _parse_errors(judge_rows),
    }
    entry = protocols.get(protocol)
    if entry.summary == "criteria":
        gated = gating.gate_criteria(judge_rows, correct, mode)
        drops = gating.criteria_drop(gated)
        head = drops[HEADLINE_CRITERION]
        return gated, {
            **base,
            "headline": HEADLINE_CRITERION,
            "ungated_mean": head["ungated_mean"],
            "gated_mean": head["gated_mean"],
            "drop": head["drop"],
            "gated_out": sum(r["gated_out"] for r in gated),
            "wrong_language": sum(not r["lang_correct"] for r in gated),
            "criteria": criteria.summarise(gated)["all"] if gated else {},
            "gated_criteria": criteria.summarise(gated, field="gated_criteria")["all"] if gated else {},
            "criteria_drop": drops,
            "by_category": criteria.summarise(gated, by="category", field="gated_criteria"),
        }
    if entry.summary != "rating":
        raise ValueError(f"no one-response summary for protocol {protocol!r}")
    gated = gating.gate_ratings(judge_rows, correct, mode)
    summary = {
        **base,
        **gating.rating_drop(gated),
        "gated_sum": sum(r["score"] for r in gated if r["score"] is not None),
    }
    if entry.unit == protocols.TURN:
        summary["by_turn"] = {"ungated": mean_by(gated, "turn"), "gated": mean_by(gated, "turn", score="score")}
        summary["by_category"] = {
            "ungated": mean_by(gated, "category"),
            "gated": mean_by(gated, "category", score="score"),
        }
    return gated, summary


def summarise_run(
    langid_rows: list[dict], judge_rows: dict[str, list[dict]], gating_settings: dict
) -> tuple[list[dict], dict]:
    """All one-response protocols of one (run, eval set, language): gated rows (with `protocol`) and summary."""
    correct = gating.turn_correctness(langid_rows)
    n = len(langid_rows)
    summary = {
        "n": n,
        "lang_correct_rate": sum(bool(r["correct"]) for r in langid_rows) / n if n else None,
        "protocols": {},
    }
    rows: list[dict] = []
    extra_mode = gating_settings.get("extra_mode")
    for protocol, protocol_rows in judge_rows.items():
        gated, protocol_summary = summarise_protocol(
            protocol, protocol_rows, correct, gating_mode(gating_settings, protocol)
        )
        extra = extra_gating(protocol, protocol_rows, correct, extra_mode and gating.check_mode(extra_mode))
        if extra is not None:
            protocol_summary["extra_gating"] = extra
        summary["protocols"][protocol] = protocol_summary
        rows += [{"protocol": protocol, **r} for r in gated]
    return rows, summary


def summarise_pair(
    rows: list[dict], langid_first: list[dict], langid_second: list[dict], gating_settings: dict, protocol: str
) -> tuple[list[dict], dict]:
    """Gated pairwise rows and {gated, ungated} win/tie/loss and position-bias rates per category, plus the drop."""
    mode = gating_mode(gating_settings, protocol)
    correct_first, correct_second = gating.turn_correctness(langid_first), gating.turn_correctness(langid_second)
    gated = gating.gate_pairwise(rows, correct_first, correct_second, mode)
    summary = {
        "protocol": protocol,
        "gating": mode,
        "n": len(rows),
        "parse_failures": sum(r["parse_error"] is not None for r in rows),
        "parse_errors": _parse_errors(rows),
        "ungated": pairwise.summarise(rows),
        "gated": pairwise.summarise(gated),
        "drop": gating.pairwise_drop(gated),
    }
    extra_mode = gating_settings.get("extra_mode")
    if extra_mode:
        extra = gating.gate_pairwise(rows, correct_first, correct_second, gating.check_mode(extra_mode))
        summary["extra_gating"] = {"mode": extra_mode, **gating.pairwise_drop(extra)}
    return gated, summary
