from collections import Counter

import pytest

from polyinstruct.io import write_jsonl
from polyinstruct.mixtures import compose

LANGS = ["en", "fr", "de"]


def parallel(n: int, langs=LANGS, missing: dict | None = None) -> dict[str, list[dict]]:
    missing = missing or {}
    return {
        lang: [
            {
                "id": f"r{i:03d}",
                "source": "d",
                "lang": lang,
                "instruction": f"{lang} {i}",
                "input": "",
                "output": f"{lang} out {i}",
                "qa": {"flags": []},
            }
            for i in range(n)
            if i not in missing.get(lang, ())
        ]
        for lang in langs
    }


def build(mixture, by_lang, seed=1, fraction=0.1, langs=LANGS):
    return compose.build(mixture, by_lang, langs, "en", seed, fraction)


def test_validation_ids_are_the_same_in_every_language():
    train, valid, _ = build("multilingual", parallel(200))
    valid_ids = {lang: {r["id"] for r in valid if r["lang"] == lang} for lang in LANGS}
    assert valid_ids["en"] == valid_ids["fr"] == valid_ids["de"]
    assert not valid_ids["en"] & {r["id"] for r in train}
    assert 5 <= len(valid_ids["en"]) <= 40


def test_monolingual_multilingual_and_downsampled_sizes():
    by_lang = parallel(200)
    mono, mono_valid, counts = build("mono-fr", {"fr": by_lang["fr"]}, langs=["fr"])
    assert set(counts["train"]) == {"fr"} and len(mono) + len(mono_valid) == 200
    multi, _, multi_counts = build("multilingual", by_lang)
    assert multi_counts["train"] == {lang: len(mono) for lang in sorted(LANGS)}
    down, _, down_counts = build("downsampled", by_lang)
    assert len(down) == len(mono)  # one language's size
    assert len(set(down_counts["train"])) == 3  # drawn from all languages
    assert all("qa" not in r for r in multi)


def test_sampled_uses_each_source_id_once_with_balanced_languages():
    train, valid, counts = build("sampled", parallel(300))
    ids = [r["id"] for r in train]
    assert len(ids) == len(set(ids)) == counts["unique_source_ids_train"]
    per_lang = Counter(r["lang"] for r in train)
    assert max(per_lang.values()) - min(per_lang.values()) <= 1


def test_sampled_balances_what_coverage_allows_when_translations_are_missing():
    by_lang = parallel(90, missing={"de": set(range(0, 90, 2))})  # half the German is missing
    train, _, _ = build("sampled", by_lang, fraction=0.0)
    assert len({r["id"] for r in train}) == 90
    assert all(r["lang"] != "de" or int(r["id"][1:]) % 2 for r in train)
    per_lang = Counter(r["lang"] for r in train)
    assert max(per_lang.values()) - min(per_lang.values()) <= 1


def test_rebuilding_gives_byte_identical_files_and_seed_matters(tmp_path):
    by_lang = parallel(120)
    first, _, _ = build("sampled", by_lang, seed=5)
    again, _, _ = build("sampled", parallel(120), seed=5)
    write_jsonl(tmp_path / "a.jsonl", first)
    write_jsonl(tmp_path / "b.jsonl", again)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    other, _, _ = build("sampled", by_lang, seed=6)
    assert [r["id"] for r in other] != [r["id"] for r in first]


def test_unknown_mixture_is_an_error():
    with pytest.raises(ValueError, match="unknown mixture 'bilingual'"):
        build("bilingual", parallel(10))
