"""Per-record scores joined across metrics, and the per-(run, eval set, language) summary.

Chen et al.'s score: the judge rating, set to 0 when fastText says the response is not in the
prompt's language. Judge answers that did not parse are excluded from means and counted.
"""
from __future__ import annotations


def summarise(langid_rows: list[dict], judge_rows: list[dict]) -> tuple[list[dict], dict]:
    judged = {r["id"]: r for r in judge_rows}
    rows = []
    for lid in langid_rows:
        j = judged.get(lid["id"], {})
        rating = j.get("rating")
        rows.append({
            "id": lid["id"],
            "category": lid.get("category"),
            "lang_correct": lid["correct"],
            "judge_rating": rating,
            "judge_parse_error": j.get("parse_error") if j else "not_judged",
            "chen_score": None if rating is None else rating * int(lid["correct"]),
        })
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
