"""MT-Bench single and pairwise judging, multi-criteria JSON judging, and localised templates."""

import re
from pathlib import Path

import pytest

from polyinstruct.data import evalsets
from polyinstruct.io import InputError
from polyinstruct.score.judge import criteria, pairwise, protocols, single
from polyinstruct.score.judge.templates import Template, TemplateSet, localised_path

REPO = Path(__file__).resolve().parents[1]
PROMPTS = REPO / "resources/prompts/judge"
FIXTURES = Path(__file__).resolve().parent / "fixtures/evalsets"

SINGLE_NAMES = {
    "turn1": "mt_bench_single.v1",
    "turn1_reference": "mt_bench_single_reference.v1",
    "multi_turn": "mt_bench_single_multi.v1",
    "multi_turn_reference": "mt_bench_single_multi_reference.v1",
}
PAIR_NAMES = {
    "turn1": "mt_bench_pair.v1",
    "turn1_reference": "mt_bench_pair_reference.v1",
    "multi_turn": "mt_bench_pair_multi.v1",
    "multi_turn_reference": "mt_bench_pair_multi_reference.v1",
}


class ScriptedJudge:
    """Answers each prompt with `answer(prompt)` and records (template, prompt) per call."""

    model = "scripted-judge"

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def complete(self, prompts, template):
        self.calls += [(template, p) for p in prompts]
        return [self.answer(p) for p in prompts], {"prompts": len(prompts)}


def answered(items, responses):
    return [{**item, "responses": responses[item["id"]]} for item in items]


# --- templates ---


def test_localised_template_overrides_default_and_falls_back():
    assert localised_path(PROMPTS, "mt_bench_single.v1", "de").name == "mt_bench_single.v1.de.txt"
    assert localised_path(PROMPTS, "mt_bench_single.v1", "fr").name == "mt_bench_single.v1.txt"
    assert localised_path(PROMPTS, "mt_bench_single.v1", None).name == "mt_bench_single.v1.txt"
    templates = TemplateSet(PROMPTS, SINGLE_NAMES, single.TURN_ROLES)
    assert templates.get("turn1", "de").version == "mt_bench_single.v1.de"
    assert templates.get("turn1_reference", "de").version == "mt_bench_single_reference.v1"
    with pytest.raises(FileNotFoundError, match="judge template 'nope.v1' not found"):
        localised_path(PROMPTS, "nope.v1", "de")


def test_template_set_rejects_unknown_roles_and_missing_placeholders(tmp_path):
    with pytest.raises(ValueError, match="unknown judge template role 'turn3'"):
        TemplateSet(PROMPTS, {"turn3": "mt_bench_single.v1"}, single.TURN_ROLES)
    (tmp_path / "broken.v1.txt").write_text("Rate {answer} to the question.")
    templates = TemplateSet(tmp_path, {"turn1": "broken.v1"}, single.TURN_ROLES)
    with pytest.raises(ValueError, match=r"broken.v1.txt: judge template lacks the placeholder \{question\}"):
        templates.get("turn1", "en")


def test_fill_substitutes_only_known_fields_once():
    template = Template(PROMPTS / "chirkova_criteria.v1.txt", criteria.CRITERIA_ROLES["criteria"])
    prompt = template.fill(instruction="Say {response} literally.", response="{instruction} {x}", language="French")
    assert 'for example:\n{"helpfulness": 2' in prompt  # the JSON example's braces survive
    assert "Say {response} literally." in prompt and "{instruction} {x}" in prompt
    assert "written in French" in prompt


# --- MT-Bench single grading ---


@pytest.mark.parametrize(
    "answer, rating, error",
    [
        ("Good answer. Rating: [[8]]", 8, None),
        ("[[10]]", 10, None),
        ("Rating: [[0]]", None, "out_of_range"),
        ("Rating: [[11]]", None, "out_of_range"),
        ("Rating: [[7]] ... actually [[6]]", None, "multiple_ratings"),
        ("Rating: 7/10", None, "no_rating"),
        (None, None, "judge_call_failed"),
    ],
)
def test_parse_rating_on_the_ten_point_scale(answer, rating, error):
    verdict = single.parse_rating(answer, 1, 10)
    assert (verdict.rating, verdict.parse_error) == (rating, error)


def test_fractional_ratings_only_when_allowed():
    assert single.parse_rating("[[7.5]]", 1, 10).parse_error == "not_an_integer"
    assert single.parse_rating("[[7.5]]", 1, 10, integer=False).rating == 7.5


def grade_mt_bench(records, judge):
    entry = protocols.get("mt_bench_single")
    block = {
        "templates": SINGLE_NAMES,
        "scale": [1, 10],
        "integer_only": True,
        "reference_categories": ["math", "reasoning", "coding"],
    }
    return protocols.grade(entry, records, judge, entry.templates(PROMPTS, block), block)


def test_grade_turns_uses_references_history_and_parses_every_turn():
    items = evalsets.load_mt_bench(FIXTURES / "mt_bench_question.jsonl", "en")
    records = answered(
        items,
        {
            "81": ["Aloha! Hawaii was wonderful.", "A trip. Aloha."],
            "111": ["The area is 3.", "The circle's area is 5 pi."],
            "131": ["[5, 1, 3]", "I cannot."],
        },
    )

    def answer(prompt):
        if "Aloha! Hawaii" in prompt and "### User:" not in prompt:
            return "Lovely. Rating: [[9]]"
        if "I cannot." in prompt:
            return "Refusal, I would say 2 out of 10."  # no [[N]]
        return "Rating: [[6]]"

    judge = ScriptedJudge(answer)
    rows, stats = grade_mt_bench(records, judge)
    assert [(r["id"], r["turn"], r["rating"], r["parse_error"]) for r in rows] == [
        ("81", 1, 9, None),
        ("81", 2, 6, None),
        ("111", 1, 6, None),
        ("111", 2, 6, None),
        ("131", 1, 6, None),
        ("131", 2, None, "no_rating"),
    ]
    assert rows[5]["raw"] == "Refusal, I would say 2 out of 10."
    assert [r["judge"]["template"] for r in rows] == [
        "mt_bench_single.v1",
        "mt_bench_single_multi.v1",
        "mt_bench_single_reference.v1",
        "mt_bench_single_multi_reference.v1",
        "mt_bench_single.v1",
        "mt_bench_single_multi.v1",
    ]
    assert [r["reference_used"] for r in rows] == [False, False, True, True, False, False]
    math_turn2 = next(p for t, p in judge.calls if t == "mt_bench_single_multi_reference.v1")
    assert "5pi" in math_turn2 and "### User:\nThe vertices of a triangle" in math_turn2
    assert "### Assistant:\nThe area is 3." in math_turn2 and "The circle's area is 5 pi." in math_turn2
    assert len(judge.calls) == 6 and stats["parse_failures"] == 1 and stats["reference_missing"] == 0
    by_turn = single.mean_by(rows, "turn")
    assert by_turn["1"] == {"n": 3, "scored": 3, "unscored": 0, "mean": 7.0}
    assert by_turn["2"] == {"n": 3, "scored": 2, "unscored": 1, "mean": 6.0}
    assert single.mean_by(rows, "category", "turn")["writing/1"]["mean"] == 9


def test_grade_turns_uses_the_translated_judge_prompt_and_counts_missing_references():
    items = evalsets.load_mt_bench_x(FIXTURES / "mt_bench_x_de.jsonl")
    records = answered(items, {i["id"]: ["Antwort eins.", "Antwort zwei."] for i in items})
    judge = ScriptedJudge(lambda p: "Bewertung: [[7]]")
    rows, stats = grade_mt_bench(records, judge)
    assert rows[0]["judge"]["template"] == "mt_bench_single.v1.de"
    assert judge.calls[0][1].startswith("[Anweisung]\nBitte handle als unparteiischer Richter")
    # coding turn 2 has no reference (null in the file): graded without one, and counted
    assert [(r["id"], r["turn"], r["reference_used"]) for r in rows if r["category"] == "coding"] == [
        ("121_DE", 1, True),
        ("121_DE", 2, False),
    ]
    assert stats["reference_missing"] == 1 and all(r["rating"] == 7 for r in rows)


# --- pairwise ---


@pytest.mark.parametrize(
    "text, both_bad, expected",
    [
        ("A is better. [[A]]", False, ("A", None)),
        ("[[B]]", False, ("B", None)),
        ("Equal. [[C]]", False, ("tie", None)),
        ("Both wrong. [[D]]", True, ("both_bad", None)),
        ("Both wrong. [[D]]", False, (None, "both_bad_not_allowed")),
        ("[[A]] no wait [[B]]", False, (None, "multiple_verdicts")),
        ("[[A]] as I said, [[A]]", False, ("A", None)),
        ("Assistant A wins.", False, (None, "no_verdict")),
        (None, False, (None, "judge_call_failed")),
    ],
)
def test_parse_verdict(text, both_bad, expected):
    assert pairwise.parse_verdict(text, both_bad) == expected


@pytest.mark.parametrize(
    "ab, ba, policy, outcome, consistent, flip",
    [
        ("A", "B", "tie", "win", True, False),  # first model wins in both orders
        ("B", "A", "tie", "loss", True, False),
        ("tie", "tie", "tie", "tie", True, False),
        ("A", "A", "tie", "tie", False, True),  # the judge picked slot A both times: position bias
        ("A", "A", "count", None, False, True),
        ("A", "tie", "tie", "tie", False, False),  # inconsistent but not a flip of position
        ("B", "B", "count", None, False, True),
        (None, "A", "tie", None, None, None),
    ],
)
def test_combine_both_orders(ab, ba, policy, outcome, consistent, flip):
    assert pairwise.combine(ab, ba, policy) == {"outcome": outcome, "consistent": consistent, "position_flip": flip}


def _slot(prompt: str, slot: str) -> str:
    match = re.search(rf"\[The Start of Assistant {slot}'s Answer\]\n(.*?)\n\[The End", prompt, re.DOTALL)
    if match:
        return match.group(1)
    return re.search(rf"Assistant {slot}'s Conversation with User\|>\n(.*?)\n<\|The End", prompt, re.DOTALL).group(1)


def content_judge(prompt: str) -> str:
    """Prefers the answer containing GOOD; always picks slot A on questions about Hawaii (position bias)."""
    if "Hawaii" in prompt:
        return "Verdict: [[A]]"
    a, b = "GOOD" in _slot(prompt, "A"), "GOOD" in _slot(prompt, "B")
    return "[[A]]" if a and not b else "[[B]]" if b and not a else "[[C]]"


def test_compare_runs_both_orders_and_reports_rates_per_category():
    items = evalsets.load_mt_bench(FIXTURES / "mt_bench_question.jsonl", "en")
    first = answered(
        items, {"81": ["Hawaii post.", "A post."], "111": ["GOOD: 3", "GOOD: 5 pi"], "131": ["[1]", "GOOD json"]}
    )
    second = answered(
        items, {"81": ["Other post.", "Another."], "111": ["4", "GOOD: 5pi"], "131": ["GOOD [5, 1]", "GOOD json too"]}
    )
    judge = ScriptedJudge(content_judge)
    rows, stats = pairwise.compare(
        first, second, judge, TemplateSet(PROMPTS, PAIR_NAMES, pairwise.PAIR_ROLES), names=("mono", "multi")
    )
    assert len(judge.calls) == 12  # 3 questions x 2 turns x 2 orders
    got = {(r["id"], r["turn"]): (r["verdict_ab"], r["verdict_ba"], r["outcome"], r["position_flip"]) for r in rows}
    assert got == {
        ("81", 1): ("A", "A", "tie", True),
        ("81", 2): ("A", "A", "tie", True),
        ("111", 1): ("A", "B", "win", False),
        ("111", 2): ("tie", "tie", "tie", False),
        ("131", 1): ("B", "A", "loss", False),
        ("131", 2): ("tie", "tie", "tie", False),
    }
    math_turn2 = [p for t, p in judge.calls if t == "mt_bench_pair_multi_reference.v1"]
    assert len(math_turn2) == 2 and all("5pi" in p for p in math_turn2)
    assert rows[0]["raw"] == ["Verdict: [[A]]", "Verdict: [[A]]"] and rows[0]["first"] == "mono"
    summary = pairwise.summarise(rows)
    assert summary["writing"]["position_flip_rate"] == 1.0 and summary["writing"]["tie_rate"] == 1.0
    assert summary["math"]["win_rate"] == 0.5 and summary["math"]["tie_rate"] == 0.5
    assert summary["extraction"]["loss_rate"] == 0.5
    assert summary["all"]["n"] == 6 and summary["all"]["position_flips"] == 2
    assert summary["all"]["position_flip_rate"] == pytest.approx(2 / 6)
    assert list(summary) == ["extraction", "math", "writing", "all"]


def test_inconsistent_pairs_can_be_counted_instead_of_tied():
    items = evalsets.load_mt_bench(FIXTURES / "mt_bench_question.jsonl", "en")[:1]
    records = answered(items, {"81": ["Hawaii 1", "Hawaii 2"]})
    rows, _ = pairwise.compare(
        records,
        records,
        ScriptedJudge(content_judge),
        TemplateSet(PROMPTS, PAIR_NAMES, pairwise.PAIR_ROLES),
        names=("x", "y"),
        inconsistent="count",
    )
    summary = pairwise.summarise(rows)["all"]
    assert [r["outcome"] for r in rows] == [None, None]
    assert summary["decided"] == 0 and summary["undecided_inconsistent"] == 2 and summary["win_rate"] is None


def test_both_bad_needs_a_template_that_offers_it():
    items = evalsets.load_prompts(FIXTURES / "prompts_fr.jsonl", "fr")
    a = answered(items, {i["id"]: ["mauvais"] for i in items})
    bothbad = TemplateSet(PROMPTS, {"turn1": "mt_bench_pair_bothbad.v1"}, pairwise.PAIR_ROLES)
    rows, stats = pairwise.compare(
        a, a, ScriptedJudge(lambda p: "[[D]]"), bothbad, names=("x", "y"), allow_both_bad=True
    )
    assert pairwise.summarise(rows)["all"]["both_bad_rate"] == 1.0
    with pytest.raises(InputError, match=r"allow_both_bad' is true but template .*mt_bench_pair.v1.txt never"):
        pairwise.compare(
            a,
            a,
            ScriptedJudge(lambda p: "[[D]]"),
            TemplateSet(PROMPTS, PAIR_NAMES, pairwise.PAIR_ROLES),
            names=("x", "y"),
            allow_both_bad=True,
        )
    rows, stats = pairwise.compare(a, a, ScriptedJudge(lambda p: "[[D]]"), bothbad, names=("x", "y"))
    assert stats["parse_failures"] == 3 and {r["parse_error"] for r in rows} == {"both_bad_not_allowed"}


def test_compare_needs_the_same_items_from_both_models():
    items = evalsets.load_prompts(FIXTURES / "prompts_fr.jsonl", "fr")
    a = answered(items, {i["id"]: ["x"] for i in items})
    with pytest.raises(InputError, match=r"only in the first: \['prompts_fr-3'\]"):
        pairwise.compare(
            a,
            a[:2],
            ScriptedJudge(content_judge),
            TemplateSet(PROMPTS, PAIR_NAMES, pairwise.PAIR_ROLES),
            names=("x", "y"),
        )
    with pytest.raises(InputError, match="score.judge.mt_bench_pairwise.inconsistent"):
        pairwise.compare(
            a,
            a,
            ScriptedJudge(content_judge),
            TemplateSet(PROMPTS, PAIR_NAMES, pairwise.PAIR_ROLES),
            names=("x", "y"),
            inconsistent="drop",
        )


# --- multi-criteria ---

GOOD_JSON = (
    '{"helpfulness": 2, "correct_language": 2, "fluency": 1, "factuality": 2, '
    '"logical_coherence": 2, "harmlessness": 2}'
)


@pytest.mark.parametrize(
    "text, error, detail",
    [
        (GOOD_JSON, None, None),
        ("Here is my evaluation:\n```json\n" + GOOD_JSON + "\n```\nDone.", None, None),
        ("Scores: " + GOOD_JSON.replace('"fluency": 1', '"fluency": 1, "note": "ok"'), None, None),
        ("{'helpfulness': 2}", "invalid_json", "Expecting property name enclosed in double quotes at column 2"),
        (GOOD_JSON.replace('"fluency": 1, ', ""), "schema_violation", "<object>: 'fluency' is a required property"),
        (
            GOOD_JSON.replace('"fluency": 1', '"fluency": 3'),
            "schema_violation",
            "fluency: 3 is greater than the maximum of 2",
        ),
        (GOOD_JSON.replace('"fluency": 1', '"fluency": "1 star"'), None, None),  # "N stars" is read as N
        (
            GOOD_JSON.replace('"fluency": 1', '"fluency": "good"'),
            "schema_violation",
            "fluency: 'good' is not of type 'integer'",
        ),
        ("[1, 2, 3]", "no_json", None),
        ("I rate it highly.", "no_json", None),
        (None, "judge_call_failed", None),
    ],
)
def test_parse_criteria(text, error, detail):
    scores, got_error, got_detail = criteria.parse_criteria(text)
    assert (got_error, got_detail) == (error, detail)
    if error is None:
        assert scores == {
            "helpfulness": 2,
            "correct_language": 2,
            "fluency": 1,
            "factuality": 2,
            "logical_coherence": 2,
            "harmlessness": 2,
        }
    else:
        assert scores is None


def test_criteria_grade_and_summary_by_task_type():
    items = evalsets.load_messages(FIXTURES / "alpacafarm_fr.jsonl", FIXTURES / "alpacafarm_fr.types", "fr")
    records = answered(
        items,
        {
            "alpacafarm_fr-1": ["Brigitte Bardot."],
            "alpacafarm_fr-2": ["Feuilles mortes."],
            "alpacafarm_fr-3": ["Dormir.", "Une sieste."],
        },
    )

    def answer(prompt):
        if "Une sieste." in prompt:
            return "not json at all"
        if "Feuilles mortes." in prompt:
            return GOOD_JSON.replace('"helpfulness": 2', '"helpfulness": 0')
        return GOOD_JSON

    judge = ScriptedJudge(answer)
    entry, block = protocols.get("criteria"), {"templates": {"criteria": "chirkova_criteria.v1"}}
    rows, stats = protocols.grade(entry, records, judge, entry.templates(PROMPTS, block), block)
    assert [(r["id"], r["turn"], r["parse_error"]) for r in rows] == [
        ("alpacafarm_fr-1", 1, None),
        ("alpacafarm_fr-2", 1, None),
        ("alpacafarm_fr-3", 1, None),
        ("alpacafarm_fr-3", 2, "no_json"),
    ]
    assert rows[3]["raw"] == "not json at all" and stats["parse_failures"] == 1
    assert "written in French" in judge.calls[0][1]
    assert "### User:\nDonne trois conseils" in judge.calls[3][1]  # turn 2 shows the conversation so far
    overall = criteria.summarise(rows)["all"]
    assert overall["helpfulness"] == pytest.approx(4 / 3) and overall["helpfulness_n"] == 3
    assert overall["fluency"] == 1 and overall["parse_failures"] == 1
    by_type = criteria.summarise(rows, by="category")
    assert by_type["creative_writing"]["helpfulness"] == 0 and by_type["advice"]["helpfulness"] == 2
