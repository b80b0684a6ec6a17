"""Language gating of judge scores, for every judge protocol, and the score drop it causes.

A response the language-ID model places outside the expected language (the prompt's, or the one a
task modifier asks for: "answer in German") is not a good answer, however the judge rated it.
Modes (config key `score.gating.mode`):
- `multiply`: score x language-correct (Chen et al.: a wrong-language answer scores 0);
- `exclude`: wrong-language answers leave the means (Chirkova & Nikoulina: from every criterion
  except correct_language), and are counted as `gated_out`;
- `none`: scores as the judge gave them.
Ungated values stay in each row beside the gated ones, so the drop can always be reported.
"""

from __future__ import annotations

from polyinstruct import languages
from polyinstruct.io import InputError
from polyinstruct.score.judge.criteria import CRITERIA

MODES = ("multiply", "exclude", "none")
UNGATED_CRITERIA = ("correct_language",)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError(f"config key 'score.gating.mode': {mode!r} is not one of {', '.join(MODES)}")
    return mode


def turn_correctness(langid_rows: list[dict]) -> dict[tuple[str, int | None], bool]:
    """{(id, turn): correct} for 1-based turns, and {(id, None): all turns correct} per record.

    Correct means in the row's `expected` language (the one an `answer_in_language` modifier asks for),
    else the prompt's; rows written before `expected` existed fall back to `lang`."""
    from polyinstruct.score.langid import same_language

    out: dict[tuple[str, int | None], bool] = {}
    for row in langid_rows:
        expected = row.get("expected") or row["lang"]
        for turn, predicted in enumerate(row["predicted"], start=1):
            out[(row["id"], turn)] = languages.is_known(predicted) and same_language(predicted, expected)
        out[(row["id"], None)] = bool(row["correct"])
    return out


def _correct(correct: dict, row: dict) -> bool:
    key = (row["id"], row.get("turn"))
    if key not in correct:
        turn = f" turn {row['turn']}" if row.get("turn") else ""
        raise InputError(
            f"item '{row['id']}'{turn} has a judge row but no language-ID row; gating needs both for every response"
        )
    return correct[key]


def gate_ratings(rows: list[dict], correct: dict, mode: str, score: str = "rating") -> list[dict]:
    """Rows with `lang_correct`, `gated_out` and `score` (the gated `rating`); `rating` is kept."""
    check_mode(mode)
    out = []
    for row in rows:
        ok = _correct(correct, row)
        value = row[score]
        gated_out = mode == "exclude" and not ok
        if value is not None and mode == "multiply":
            value = value * int(ok)
        out.append({**row, "lang_correct": ok, "gated_out": gated_out, "score": None if gated_out else value})
    return out


def gate_criteria(rows: list[dict], correct: dict, mode: str) -> list[dict]:
    """Rows with `gated_criteria`: wrong-language answers zeroed (multiply) or None (exclude),
    except correct_language, which is about the language itself and is never gated."""
    check_mode(mode)
    out = []
    for row in rows:
        ok = _correct(correct, row)
        gated = row["criteria"]
        if gated is not None and mode != "none" and not ok:
            gated = {
                name: value if name in UNGATED_CRITERIA else (0 if mode == "multiply" else None)
                for name, value in gated.items()
            }
        out.append({**row, "lang_correct": ok, "gated_out": mode == "exclude" and not ok, "gated_criteria": gated})
    return out


def gate_pairwise(rows: list[dict], correct_first: dict, correct_second: dict, mode: str) -> list[dict]:
    """Pairwise rows gated by both answers' language; `outcome_ungated` keeps the judge's outcome.

    multiply: the answer in the right language wins against one in the wrong language, and two
    wrong-language answers tie. exclude: a pair with any wrong-language answer is left out.
    """
    check_mode(mode)
    out = []
    for row in rows:
        first_ok, second_ok = _correct(correct_first, row), _correct(correct_second, row)
        outcome, gated_out = row["outcome"], False
        if mode == "multiply" and not (first_ok and second_ok):
            outcome = "tie" if first_ok == second_ok else ("win" if first_ok else "loss")
        elif mode == "exclude" and not (first_ok and second_ok):
            outcome, gated_out = None, True
        out.append(
            {
                **row,
                "outcome_ungated": row["outcome"],
                "outcome": outcome,
                "gated_out": gated_out,
                "lang_correct": [first_ok, second_ok],
            }
        )
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _drop(ungated: list, gated: list) -> dict:
    before, after = _mean(ungated), _mean(gated)
    return {
        "ungated_mean": before,
        "gated_mean": after,
        "drop": None if before is None or after is None else before - after,
        "ungated_n": sum(v is not None for v in ungated),
        "gated_n": sum(v is not None for v in gated),
    }


def rating_drop(gated_rows: list[dict]) -> dict:
    """Mean rating before and after gating, their difference (Chen et al.'s Fig. 6), and counts."""
    return {
        **_drop([r["rating"] for r in gated_rows], [r["score"] for r in gated_rows]),
        "gated_out": sum(r["gated_out"] for r in gated_rows),
        "wrong_language": sum(not r["lang_correct"] for r in gated_rows),
    }


def criteria_drop(gated_rows: list[dict]) -> dict[str, dict]:
    """Per criterion: mean before and after gating and the drop."""
    out = {}
    for name in CRITERIA:
        before = [r["criteria"][name] if r["criteria"] else None for r in gated_rows]
        after = [r["gated_criteria"][name] if r["gated_criteria"] else None for r in gated_rows]
        out[name] = _drop(before, after)
    return out


def pairwise_drop(gated_rows: list[dict]) -> dict:
    """Win rate of the first model before and after gating (over decided pairs), and counts."""

    def win_rate(outcomes):
        decided = [o for o in outcomes if o is not None]
        return sum(o == "win" for o in decided) / len(decided) if decided else None

    before = win_rate([r["outcome_ungated"] for r in gated_rows])
    after = win_rate([r["outcome"] for r in gated_rows])
    return {
        "ungated_win_rate": before,
        "gated_win_rate": after,
        "drop": None if before is None or after is None else before - after,
        "gated_out": sum(r["gated_out"] for r in gated_rows),
        "changed": sum(r["outcome"] != r["outcome_ungated"] and not r["gated_out"] for r in gated_rows),
    }
