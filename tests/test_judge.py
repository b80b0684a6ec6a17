from pathlib import Path

import pytest

from polyinstruct.score import scores
from polyinstruct.score.judge import protocols
from polyinstruct.score.judge.single import parse_rating
from polyinstruct.score.judge.templates import Template

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "answer, rating, error",
    [
        ("The answer is helpful and fluent.\nRating: [[3]]", 3, None),
        ("Rating: [[ 2 ]]", 2, None),
        ("Partly right. Rating: [[2]]. As said, [[2]].", 2, None),  # the same rating twice is one rating
        ("It is good. I would give it a three.", None, "no_rating"),
        ("Rating: [[1]] ... on reflection Rating: [[3]]", None, "multiple_ratings"),
        ("Rating: [[7]]", None, "out_of_range"),
        ("Rating: [[2.5]]", None, "not_an_integer"),
        ("", None, "no_rating"),
    ],
)
def test_parse_rating(answer, rating, error):
    verdict = parse_rating(answer, 1, 3)
    assert (verdict.rating, verdict.parse_error) == (rating, error)


CHEN = protocols.get("chen_single")
CHEN_BLOCK = {"templates": {"single": "chen_single_1to3.v1"}}
TEMPLATES = REPO / "resources/prompts/judge"


def test_template_is_versioned_and_names_the_language():
    template = CHEN.templates(TEMPLATES, CHEN_BLOCK).get("single", "fr")
    assert template.version == "chen_single_1to3.v1"
    record = {"id": "1", "lang": "fr", "turns": ["Nomme trois fruits."], "responses": ["Pommes, poires, prunes."]}
    role, fields, _ = CHEN.prompt(record, 0, CHEN_BLOCK)
    prompt = template.fill(**fields)
    assert role == "single" and "written in French" in prompt and "Nomme trois fruits." in prompt and "[[N]]" in prompt


def test_template_without_placeholders_is_rejected(tmp_path):
    bad = tmp_path / "judge.v0.txt"
    bad.write_text("Rate this: {response}")
    with pytest.raises(ValueError, match=r"lacks the placeholder \{instruction\}"):
        Template(bad, CHEN.roles["single"])


def test_unparsed_judge_output_is_counted_not_zeroed():
    langid = [
        {"id": "1", "category": "qa", "correct": True},
        {"id": "2", "category": "qa", "correct": False},
        {"id": "3", "category": "qa", "correct": True},
    ]
    judge = [
        {"id": "1", "rating": 3, "parse_error": None},
        {"id": "2", "rating": 2, "parse_error": None},
        {"id": "3", "rating": None, "parse_error": "no_rating", "raw": "Good answer."},
    ]
    rows, summary = scores.summarise(langid, judge)
    assert [r["chen_score"] for r in rows] == [3, 0, None]
    assert rows[2]["judge_parse_error"] == "no_rating"
    assert summary["judge_parse_failures"] == 1 and summary["judge_rated"] == 2
    assert summary["judge_mean"] == 2.5 and summary["chen_score_mean"] == 1.5 and summary["gating_drop"] == 1.0
    assert summary["chen_score_sum"] == 3 and summary["lang_correct_rate"] == pytest.approx(2 / 3)


def test_grade_keeps_raw_answers_and_parse_errors():
    class CannedJudge:
        model = "judge-x"

        def complete(self, prompts, template):
            assert "written in German" in prompts[0] and template == "chen_single_1to3.v1"
            return ["Fine. Rating: [[3]]", "No idea."], {"prompts": len(prompts)}

    records = [{"id": i, "lang": "de", "turns": ["Frage?"], "responses": ["Antwort."]} for i in ("a", "b")]
    rows, stats = protocols.grade(CHEN, records, CannedJudge(), CHEN.templates(TEMPLATES, CHEN_BLOCK), CHEN_BLOCK)
    assert [(r["rating"], r["parse_error"]) for r in rows] == [(3, None), (None, "no_rating")]
    assert rows[1]["raw"] == "No idea." and rows[0]["judge"] == {"model": "judge-x", "template": "chen_single_1to3.v1"}
