import json

import pytest

from polyinstruct.data import normalise
from polyinstruct.io import InputError

FIELDS = {"id": "id", "instruction": "instruction", "input": "input", "output": "output"}


def rows(path):
    return normalise.iter_source({"path": str(path)})


def test_alpaca_records_are_normalised_and_empty_ones_counted(tmp_path):
    path = tmp_path / "alpaca.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": 1, "instruction": " Name a colour. ", "input": "", "output": "Blue."},
                {"id": 2, "instruction": "   ", "input": "x", "output": "y"},
                {"id": 3, "instruction": "Say hi.", "output": ""},
                {"id": 1, "instruction": "Duplicate id.", "output": "Dup."},
                {"id": 4, "instruction": "Translate.", "input": "Hallo", "output": "Hello"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    records, dropped = normalise.normalise_instructions(rows(path), "alp", "en", FIELDS)
    assert records == [
        {"id": "1", "source": "alp", "lang": "en", "instruction": "Name a colour.", "input": "", "output": "Blue."},
        {"id": "4", "source": "alp", "lang": "en", "instruction": "Translate.", "input": "Hallo", "output": "Hello"},
    ]
    assert dropped == {"empty_instruction": 1, "empty_output": 1, "duplicate_id": 1}
    manifest = normalise.manifest({"fields": FIELDS}, str(path), len(records), dropped)
    assert manifest["dropped_total"] == 3 and manifest["records"] == 2 and len(manifest["source"]["sha256"]) == 64


def test_missing_field_names_file_line_and_config_key(tmp_path):
    path = tmp_path / "alpaca.jsonl"
    path.write_text('{"id": 1, "instruction": "a", "output": "b"}\n{"id": 2, "prompt": "a", "output": "b"}\n')
    with pytest.raises(
        InputError, match=rf"{path}:2: missing field 'instruction' \(config key 'datasets.alp.fields.instruction'\)"
    ):
        normalise.normalise_instructions(rows(path), "alp", "en", FIELDS)


def test_field_mapping_and_content_ids(tmp_path):
    path = tmp_path / "dolly.json"
    path.write_text(
        json.dumps(
            [
                {"instruction": "Why is the sky blue?", "context": "", "response": "Rayleigh scattering."},
                {"instruction": "Sum 2 and 3.", "context": "", "response": "5"},
            ]
        )
    )
    fields = {"instruction": "instruction", "input": "context", "output": "response"}
    first, _ = normalise.normalise_instructions(rows(path), "dolly", "en", fields)
    again, _ = normalise.normalise_instructions(reversed(list(rows(path))), "dolly", "en", fields)
    assert {r["id"] for r in first} == {r["id"] for r in again}  # ids follow content, not position
    assert all(r["id"].startswith("dolly-") for r in first)


def test_sharegpt_messages_and_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "chat.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"cid": "a", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]},
            ]
        ),
        path,
    )
    records, dropped = normalise.normalise_instructions(
        rows(path), "chat", "en", {"id": "cid", "messages": "conversations"}
    )
    assert records == [
        {
            "id": "a",
            "source": "chat",
            "lang": "en",
            "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
        }
    ]
    assert not dropped


def test_eval_sets_single_file_filtered_by_language(tmp_path):
    path = tmp_path / "mtbench.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"question_id": 81, "category": "writing", "turns": ["Write.", "Shorter."], "lang": "en"},
                {"question_id": 81, "category": "writing", "turns": ["Schreib.", "Kürzer."], "lang": "de"},
                {"question_id": 101, "category": "math", "turns": "2+2?", "reference": "4", "lang": "de"},
            ]
        )
        + "\n"
    )
    fields = {"id": "question_id", "category": "category", "turns": "turns", "reference": "reference", "lang": "lang"}
    records, _ = normalise.normalise_eval(rows(path), "mt", "de", fields, filter_lang=True)
    assert records == [
        {"id": "81", "lang": "de", "category": "writing", "turns": ["Schreib.", "Kürzer."], "reference": None},
        {"id": "101", "lang": "de", "category": "math", "turns": ["2+2?"], "reference": ["4"]},
    ]


def test_shipped_eval_sets_are_parallel():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    fields = {"id": "id", "category": "category", "turns": "turns", "reference": "reference"}
    ids = {}
    for lang in ("en", "fr", "de"):
        path = repo / f"resources/data/polyeval/{lang}.jsonl"
        records, dropped = normalise.normalise_eval(rows(path), "polyeval", lang, fields, filter_lang=False)
        assert not dropped and len(records) == 12
        ids[lang] = [(r["id"], r["category"]) for r in records]
    assert ids["en"] == ids["fr"] == ids["de"]


def test_hub_dataset_path_maps_fields(monkeypatch):
    import datasets

    calls = {}

    def fake_load_dataset(name, config_name=None, split=None, revision=None):
        calls.update(name=name, config_name=config_name, split=split, revision=revision)
        return datasets.Dataset.from_list([{"instruction": "Hi", "context": "", "response": "Hello"}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    spec = {"hub": "databricks/databricks-dolly-15k", "hub_config": None, "split": "train", "revision": "abc"}
    fields = {"instruction": "instruction", "input": "context", "output": "response"}
    records, _ = normalise.normalise_instructions(normalise.iter_source(spec), "dolly", "en", fields)
    assert calls == {
        "name": "databricks/databricks-dolly-15k",
        "config_name": None,
        "split": "train",
        "revision": "abc",
    }
    assert records[0]["output"] == "Hello" and records[0]["id"].startswith("dolly-")


def test_limit_keeps_first_records_and_counts_the_rest(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps({"id": i, "instruction": f"q{i}", "output": f"a{i}"}) + "\n" for i in range(5)))
    records, dropped = normalise.normalise_instructions(rows(path), "a", "en", FIELDS, limit=3)
    assert [r["id"] for r in records] == ["0", "1", "2"] and dropped == {"over_limit": 2}
