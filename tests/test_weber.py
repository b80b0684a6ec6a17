"""Weber et al.'s preset: its data arms (each dataset's own translations, per-dataset epochs), prompts cut
to fit the context counted, gated scores as an extra column, repeated pairwise verdicts in the agreement,
and the paper's figures (mean per language and turn, % improvement of multilingual over monolingual)."""

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from report_fixtures import write_experiment

from polyinstruct.io import InputError, read_json, write_json
from polyinstruct.report import figures, tables
from polyinstruct.score import agreement, scores
from polyinstruct.translate.engines import PrecomputedEngine
from polyinstruct.workflow import inputs, planning

REPO = Path(__file__).resolve().parents[1]
PRESET = REPO / "configs/weber2024_mtbenchx.yaml"
TWIN = REPO / "configs/twins/weber2024_mtbenchx.yaml"
LIMA_X = REPO / "tests/fixtures/twins/lima_x"


def preset(*layers) -> dict:
    return planning.load_config([PRESET, *layers])


# ---- data arms -----------------------------------------------------------------------------------


def test_the_preset_reads_each_datasets_own_translations_from_the_hub():
    config = preset()
    bactrian = inputs.engine_settings(config, SimpleNamespace(dataset="bactrian-x", lang="de"))
    assert bactrian["source"] == {"hub": "MBZUAI/Bactrian-X", "hub_config": "de", "revision": None, "split": "train"}
    assert bactrian["join"] == "id" and bactrian["path"] is None
    lima = inputs.engine_settings(config, SimpleNamespace(dataset="lima-x", lang="it"))
    assert lima["source"]["hub"] == "lamarr-org/Lima-X" and lima["source"]["hub_config"] == "IT"
    assert lima["join"] == "position" and lima["fields"] == {"messages": "conversations"}
    assert inputs.engine_files(config, SimpleNamespace(dataset="lima-x", lang="it"), "precomputed") == {}


def test_epochs_follow_the_dataset():
    config = preset()
    assert inputs.train_settings(config, "full", "bactrian-x")["epochs"] == 3
    assert inputs.train_settings(config, "full", "lima-x")["epochs"] == 7
    assert inputs.train_settings(config, "full")["epochs"] == 3  # train.full.epochs


def _records(path: Path, dataset: str, fields: dict) -> list[dict]:
    from polyinstruct.data import normalise

    records, dropped = normalise.normalise_instructions(normalise.iter_source({}, str(path)), dataset, "en", fields)
    assert not dropped
    return records


def test_translations_join_by_position_lima_style_conversations():
    fields = {"messages": "conversations"}
    source = _records(LIMA_X / "EN.jsonl", "lima-x", fields)
    engine = PrecomputedEngine(
        str(LIMA_X / "DE.jsonl"),
        source={"split": "train"},
        fields=fields,
        join="position",
        source_ids=[r["id"] for r in source],
    )
    translated, missing = engine.translate_records(source, "en", "de")
    assert not missing and [r["id"] for r in translated] == [r["id"] for r in source]
    assert [len(r["messages"]) for r in translated] == [2, 2, 2, 4, 6, 2]  # multi-turn conversations stay whole
    assert translated[4]["messages"][5]["role"] == "assistant" and translated[4]["lang"] == "de"
    assert translated[2]["messages"][1]["content"].startswith("Hier ist eine iterative Fassung")
    with pytest.raises(InputError, match=r"'lima.join': position joins row i .* 6 rows and the source dataset 5"):
        PrecomputedEngine(
            str(LIMA_X / "DE.jsonl"),
            source={"split": "train"},
            fields=fields,
            join="position",
            source_ids=[r["id"] for r in source[:5]],
            key="lima",
        )


def test_translations_join_by_id_and_count_the_missing(tmp_path):
    fields = {"id": "id", "instruction": "instruction", "input": "input", "output": "output"}
    source = _records(REPO / "resources/data/polyalpaca/en.jsonl", "bactrian-x", fields)[:10]
    german = (REPO / "resources/data/polyalpaca/de.jsonl").read_text().splitlines()
    partial = tmp_path / "de.jsonl"
    partial.write_text("\n".join(german[:8]) + "\n")  # two translations missing
    engine = PrecomputedEngine(str(partial), source={"split": "train"}, fields=fields, join="id")
    translated, missing = engine.translate_records(source, "en", "de")
    assert len(translated) == 8 and missing == {"missing_translation": 2}
    assert translated[0]["instruction"] == "Wodurch entstehen die Jahreszeiten auf der Erde?"
    with pytest.raises(InputError, match=r"'translations.fields.id': joining translations by id needs an id field"):
        PrecomputedEngine(str(partial), source={"split": "train"}, fields={"messages": "conversations"}, join="id")


# ---- no silent truncation ------------------------------------------------------------------------


def test_prompts_cut_to_fit_are_counted_per_turn_and_run(tiny_llama):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from polyinstruct.generate import answers

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    items = [
        {"id": "short", "category": "writing", "turns": ["Hi.", "Again."]},
        {"id": "long", "category": "writing", "turns": ["Tell me " + "about the sea " * 40, "And now?"]},
    ]
    settings = {"batch_size": 2, "max_new_tokens": 3, "max_prompt_length": 48}
    records, stats = answers.answer_eval_items(model, tokenizer, items, "chat", settings)
    assert records[0]["truncated_turns"] == [] and records[1]["truncated_turns"] == [1, 2]
    assert stats["truncated_prompts"] == 2 and stats["truncated_by_turn"] == {"1": 1, "2": 1}
    assert stats["truncated_tokens"] > 0 and stats["max_prompt_length"] == 48
    texts, plain = answers.batched_generate(
        model, tokenizer, ["one two", "three " * 80], batch_size=2, max_new_tokens=2, max_prompt_length=48
    )
    assert plain["truncated"] == [False, True] and plain["truncated_prompts"] == 1


# ---- gating as an extra column -------------------------------------------------------------------


def _summaries(tmp_path: Path, gating: dict) -> list[str]:
    langid = [
        {"id": "1", "lang": "de", "category": "writing", "predicted": ["de", "en"], "correct": False},
        {"id": "2", "lang": "de", "category": "math", "predicted": ["de", "de"], "correct": True},
    ]
    judged = [
        {"id": i, "lang": "de", "category": c, "turn": t, "rating": r, "parse_error": None}
        for i, c, t, r in (("1", "writing", 1, 8), ("1", "writing", 2, 6), ("2", "math", 1, 4), ("2", "math", 2, 2))
    ]
    _, summary = scores.summarise_run(langid, {"mt_bench_single": judged}, gating)
    run = {"model": "m", "method": "full", "dataset": "d", "mixture": "mono-de", "lr": "1e-05"}
    path = tmp_path / "summary.json"
    write_json(path, {"run": run, "evalset": "mt-bench-x", "lang": "de", "summary": summary})
    stats = tmp_path / "stats.json"
    write_json(stats, {"run": run, "evalset": "mt-bench-x", "lang": "de", "truncated_prompts": 3})
    return [str(path)], [str(stats)]


def test_ungated_scores_with_gated_ones_as_an_extra_column(tmp_path):
    paths, stats = _summaries(tmp_path, {"mode": "none", "by_protocol": {}, "extra_mode": "multiply"})
    s = read_json(paths[0])["summary"]["protocols"]["mt_bench_single"]
    assert s["gating"] == "none" and s["gated_mean"] == s["ungated_mean"] == 5.0
    assert s["extra_gating"]["mode"] == "multiply" and s["extra_gating"]["gated_mean"] == (8 + 0 + 4 + 2) / 4
    assert s["extra_gating"]["by_turn"]["2"]["mean"] == 1.0  # turn 2 of item 1 is in English: 0
    table = tables.load_table(paths, [], stats)
    row = table.row(0, named=True)
    assert (row["gating"], row["extra_gating"], row["extra_gated_mean"], row["truncated_prompts"]) == (
        "none",
        "multiply",
        3.5,
        3,
    )
    markdown = tables.markdown(table, "t")
    assert "| truncated |" in markdown and "gated by multiply (score.gating.extra_mode)" in markdown
    assert "| m full mono-de lr=1e-05 | 3.50 |" in markdown
    plain, _ = _summaries(tmp_path / "plain", {"mode": "none", "by_protocol": {}})
    assert "extra_gating" not in read_json(plain[0])["summary"]["protocols"]["mt_bench_single"]


def test_several_datasets_are_told_apart_in_the_tables(tmp_path):
    paths = write_experiment(tmp_path / "a", protocols=("mt_bench_single",))
    for path in paths:  # the same runs once more, trained on a second dataset
        data = read_json(path)
        if data["run"]["method"] != "base":
            data["run"]["dataset"] = "lima-x"
            write_json(path.replace(str(tmp_path / "a"), str(tmp_path / "b")), data)
    both = paths + [str(p) for p in (tmp_path / "b").rglob("*.json")]
    markdown = tables.markdown(tables.load_table(both), "t")
    assert (
        "| small lora mono-en lr=0.0003 (d) |" in markdown and "| small lora mono-en lr=0.0003 (lima-x) |" in markdown
    )


# ---- repeated pairwise judgments in the agreement ------------------------------------------------


def test_a_pair_takes_the_first_repeat_that_decided_it():
    row = {"id": "81", "turn": 1, "first": "a/x", "second": "b/y"}
    rows = [
        {**row, "repeat": 2, "outcome": "loss"},
        {**row, "repeat": 1, "outcome": None},  # inconsistent in the first run
        {**row, "repeat": 3, "outcome": "win"},
        {**row, "id": "82", "repeat": 1, "outcome": None},
        {**row, "id": "82", "repeat": 2, "outcome": None},
    ]
    votes, undecided = agreement.judge_votes(rows)
    assert votes == {("81", 1, "a/x", "b/y"): "loss"} and undecided == 1


# ---- the paper's figures -------------------------------------------------------------------------


def test_turn_means_and_multilingual_improvement(tmp_path):
    paths = write_experiment(tmp_path, protocols=("mt_bench_single",))
    rows = figures.turn_rows(paths)
    assert {r["turn"] for r in rows} == {1, 2} and len(rows) == len(paths) * 2
    by = {(r["model"], r["mixture"], r["lang"], r["turn"]): r["gated_mean"] for r in rows}
    gains = figures.improvement_rows(rows)
    one = next(
        g
        for g in gains
        if (g["model"], g["multilingual"], g["monolingual"], g["lang"], g["turn"])
        == ("large", "multilingual", "mono-en", "fr", 2)
    )
    expected = by[("large", "multilingual", "fr", 2)] - by[("large", "mono-en", "fr", 2)]
    assert one["points"] == pytest.approx(expected) and one["improvement_pct"] == pytest.approx(10 * expected)
    mean = next(
        g
        for g in gains
        if (g["model"], g["multilingual"], g["monolingual"], g["lang"], g["turn"])
        == ("large", "multilingual", "mono-en", "mean", 2)
    )
    per_lang = [by[("large", "multilingual", lang, 2)] - by[("large", "mono-en", lang, 2)] for lang in ("en", "fr")]
    assert mean["points"] == pytest.approx(sum(per_lang) / 2)
    # 3 models x 1 multilingual mixture x 2 monolingual ones x (2 languages + mean) x 2 turns
    assert len(gains) == 3 * 1 * 2 * 3 * 2 and {g["multilingual"] for g in gains} == {"multilingual"}
    written = figures.write_improvement_report(paths, str(tmp_path / "i.csv"), str(tmp_path / "i.png"), "t")
    with open(tmp_path / "i.csv", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(written) == len(gains)
    figures.write_turn_report(paths, str(tmp_path / "t.csv"), str(tmp_path / "t.png"), "t")
    for png in ("i.png", "t.png"):
        assert (tmp_path / png).stat().st_size > 10_000


def test_the_radar_goes_round_the_categories_in_mt_benchs_order():
    found = ["stem", "coding", "writing", "open_qa", "Humanities", "math", "roleplay", "reasoning", "extraction"]
    assert sorted(found, key=figures.category_order) == [
        "writing",
        "roleplay",
        "reasoning",
        "math",
        "coding",
        "extraction",
        "stem",
        "Humanities",
        "open_qa",
    ]


def test_the_figures_say_when_there_is_nothing_to_draw(tmp_path):
    figures.turn_figure([], tmp_path / "t.png", "t")
    figures.improvement_figure([], tmp_path / "i.png", "t")
    assert (tmp_path / "t.png").exists() and (tmp_path / "i.png").exists()


def test_the_twin_layers_on_the_preset():
    config = preset(TWIN)
    assert config["score"]["gating"] == {"mode": "none", "by_protocol": {}, "extra_mode": "multiply"}
    assert config["datasets"]["lima-x"]["translations"]["join"] == "position"
    assert config["evalsets"]["mt-bench-x"]["reference_answers"].startswith("tests/fixtures/twins/")
    settings = inputs.judge_settings(config, "mt_bench_pairwise")["protocol"]
    assert settings["repeats"] == 2 and settings["parser"] == "fastchat"
    assert json.loads(json.dumps(inputs.judge_templates(config, "mt_bench_single", "de"))) == [
        "tests/fixtures/mt_bench_x/mt_bench_DE/judge_prompts.jsonl"
    ]
