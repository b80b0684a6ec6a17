"""The workflow as Snakemake runs it: plans, an end-to-end run, minimal re-runs, bad inputs."""

import json
import time
from pathlib import Path

import pytest
from conftest import REPO, job_counts, snakemake

pytestmark = pytest.mark.workflow


def dry_run(workdir: Path, *targets: str) -> dict[str, int]:
    return job_counts(snakemake(workdir, "-n", *targets).stdout)


def test_default_config_plans_the_whole_grid():
    import subprocess
    import sys

    # --forceall: plan every job whatever this checkout has already built
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-n", "--forceall", "--cores", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = job_counts(proc.stdout)
    runs, langs = 1 + 3, 3  # base + English-only, multilingual, downsampled; en, fr, de
    assert counts == {
        "normalise_instructions": 1,
        "normalise_eval": 3,
        "translate_shard": 2,  # fr and de, one shard each
        "merge_translations": 2,
        "build_mixture": 3,
        "prepare_model": 1,
        "train": 3,
        "generate": runs * langs,
        "langid_responses": runs * langs,
        "judge": runs * langs,
        "summarise_scores": runs * langs,
        "report_language_fidelity": 1,
        "report_significance": 1,
        "report_tables": 1,
        "report_browse": 1,
        "all": 1,
    }


def test_tiny_config_plan(finished_tiny_run):
    """The plan of the tiny experiment, as its end-to-end run printed it before the first job."""
    assert job_counts((finished_tiny_run / "run.log").read_text(encoding="utf-8")) == {
        "normalise_instructions": 1,
        "normalise_eval": 2,
        "translate_shard": 2,
        "merge_translations": 1,
        "build_mixture": 2,
        "prepare_model": 1,
        "train": 2,
        "generate": 6,
        "langid_responses": 6,
        "judge": 6,
        "summarise_scores": 6,
        "report_language_fidelity": 1,
        "report_significance": 1,
        "report_tables": 1,
        "report_browse": 1,
        "all": 1,
    }


def test_one_result_file_is_a_valid_target(tiny_workdir):
    target = "results/score/langid/tiny-llama/base/none/none/0/mini/fr.jsonl"
    assert dry_run(tiny_workdir, target) == {
        "normalise_eval": 1,
        "prepare_model": 1,
        "generate": 1,
        "langid_responses": 1,
    }


def test_stage_target_rules(tiny_workdir):
    assert dry_run(tiny_workdir, "all_mixtures") == {
        "normalise_instructions": 1,
        "translate_shard": 2,
        "merge_translations": 1,
        "build_mixture": 2,
        "all_mixtures": 1,
    }


def test_unknown_language_stops_before_any_job(tiny_workdir):
    config = (tiny_workdir / "tiny.yaml").read_text().replace("- fr\n", "- xx\n", 1)
    (tiny_workdir / "tiny.yaml").write_text(config)
    proc = snakemake(tiny_workdir, "-n", check=False)
    assert proc.returncode != 0
    assert "config key 'languages[1]': unknown language code 'xx'" in proc.stdout + proc.stderr
    assert not (tiny_workdir / "results").exists()


def test_malformed_source_line_fails_naming_file_and_line(tiny_workdir):
    source = tiny_workdir / "inputs/tiny/en.jsonl"
    lines = source.read_text().splitlines()
    lines[4] = lines[4][:-1]  # cut the closing brace
    source.write_text("\n".join(lines) + "\n")
    proc = snakemake(tiny_workdir, "results/data/instructions/tiny.jsonl", check=False)
    assert proc.returncode != 0
    log = (tiny_workdir / "logs/data/instructions/tiny.log").read_text()
    assert f"{source}:5: malformed JSON" in log
    assert not (tiny_workdir / "results/data/instructions/tiny.jsonl").exists()


def test_end_to_end_run_writes_every_artifact(finished_tiny_run):
    root = finished_tiny_run
    import polars as pl

    table = pl.read_csv(root / "results/report/scores.csv")
    assert table.height == 3 * 2  # (base + 2 mixtures) x (en, fr)
    assert set(table["mixture"]) == {"none", "mono-en", "multilingual"}
    assert table["lang_correct_rate"].is_between(0, 1).all()
    assert ((table["parse_failures"] >= 0) & (table["parse_failures"] <= table["n"])).all()
    assert set(table["protocol"]) == {"chen_single"} and (table["gating"] == "multiply").all()
    assert (table["calls"] + table["cache_hits"] == table["n"]).all()  # every prompt answered by a call or the cache
    assert (root / "results/report/scores_by_language.png").stat().st_size > 10_000
    assert "| tiny-llama base |" in (root / "results/report/scores.md").read_text()
    page = (root / "results/report/browse/index.html").read_text()  # the answer browser, data inlined
    chunks = sorted((root / "results/report/browse/data").glob("*.js"))
    assert [c.name for c in chunks] == ["chunk-0.js", "chunk-1.js"] and page.count('<script>browseChunk("') == 2
    french = json.loads(chunks[1].read_text().removeprefix('browseChunk("1",').removesuffix(");\n"))
    assert french["lang"] == "fr" and len(french["items"]) == 3 and len(french["answers"]) == 3
    assert all(a["judge"]["chen_single"]["turns"][0]["raw"] is not None for a in french["answers"]["0"])
    manifest = json.loads((root / "results/mixtures/tiny/multilingual/manifest.json").read_text())
    assert set(manifest["train"]) == {"en", "fr"} and manifest["seed"] == 7
    metrics = json.loads((root / "results/train/tiny-llama/lora/tiny/multilingual/0.0003/metrics.json").read_text())
    assert metrics["train_examples"] == manifest["train_total"] and metrics["best_eval_loss"] is not None
    responses = [
        json.loads(ln)
        for ln in (root / "results/generate/tiny-llama/lora/tiny/mono-en/0.0003/mini/fr.jsonl").read_text().splitlines()
    ]
    assert len(responses) == 3 and all(len(r["responses"]) == 1 for r in responses)
    judged = [
        json.loads(ln)
        for ln in (root / "results/score/judge/chen_single/tiny-llama/base/none/none/0/mini/en.jsonl")
        .read_text()
        .splitlines()
    ]
    assert all(j["raw"].startswith("Rating: [[") for j in judged)
    assert all((j["rating"] is None) == (j["parse_error"] is not None) for j in judged)
    for path in (
        "logs/train/tiny-llama/lora/tiny/mono-en/0.0003.tsv",
        "logs/generate/tiny-llama/base/none/none/0/mini/en.log",
    ):
        assert (root / path).exists(), path
    # a finished run has nothing left to do
    assert dry_run(root) == {}


def test_changing_a_hyperparameter_reruns_training_not_data(finished_tiny_run):
    root = finished_tiny_run
    original = (root / "tiny.yaml").read_text()
    (root / "tiny.yaml").write_text(original.replace("max_length: 96", "max_length: 80"))
    try:
        counts = dry_run(root)
    finally:
        (root / "tiny.yaml").write_text(original)
    assert "build_mixture" not in counts and "normalise_eval" not in counts
    assert counts["train"] == 2 and counts["generate"] == 4  # base runs are not retrained or regenerated
    assert dry_run(root) == {}


def test_editing_one_language_reruns_only_its_downstream_jobs(finished_tiny_run):
    root = finished_tiny_run
    french = root / "inputs/tiny/fr.jsonl"
    time.sleep(1)
    french.write_text(french.read_text().replace("e", "é", 1))
    counts = dry_run(root)
    # fr shards, fr merge, the multilingual mixture and what follows it; mono-en and base untouched
    assert counts == {
        "translate_shard": 2,
        "merge_translations": 1,
        "build_mixture": 1,
        "train": 1,
        "generate": 2,
        "langid_responses": 2,
        "judge": 2,
        "summarise_scores": 2,
        "report_language_fidelity": 1,
        "report_significance": 1,
        "report_tables": 1,
        "report_browse": 1,
        "all": 1,
    }


def test_mixtures_are_byte_identical_when_rebuilt(finished_tiny_run):
    # last: it leaves the run's downstream jobs out of date
    root = finished_tiny_run
    path = root / "results/mixtures/tiny/multilingual/train.jsonl"
    before = path.read_bytes()
    snakemake(root, "--forcerun", "build_mixture", "results/mixtures/tiny/multilingual/train.jsonl")
    assert path.read_bytes() == before


@pytest.mark.parametrize("engine", ["llm", "ctranslate2"])
def test_switching_the_translation_engine_is_one_config_line(tiny_workdir, engine):
    config = tiny_workdir / "tiny.yaml"
    text = config.read_text().replace(
        "translate:\n",
        f"translate:\n  engine: {engine}\n  llm: {{max_new_tokens: 12}}\n  ctranslate2: {{source: llm}}\n",
        1,
    )
    config.write_text(text)
    snakemake(tiny_workdir, "all_mixtures")
    qa = json.loads((tiny_workdir / "results/translate/tiny/fr/shard-000.qa.json").read_text())
    assert qa["engine"] == engine and qa["records_in"] == 16
    assert qa["records_out"] == qa["translated"] == 16  # policy keep: flagged records stay, with reasons
    records = [json.loads(ln) for ln in (tiny_workdir / "results/translate/tiny/fr.jsonl").read_text().splitlines()]
    assert len(records) == 24 and all(r["lang"] == "fr" and "flags" in r["qa"] for r in records)
    assert all(r["translation"]["engine"] == engine for r in records)
    if engine == "ctranslate2":
        assert (tiny_workdir / "results/models/tiny-llama/ct2/model.bin").exists()


def _train_config(workdir: Path, **train) -> None:
    import yaml

    path = workdir / "tiny.yaml"
    config = yaml.safe_load(path.read_text())
    config["train"].update(train)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


SWEEP = dict(
    methods=["lora", "full"],
    learning_rates=[1e-3, 5e-2],
    lr_selection={"criterion": "valid_loss"},
    full={"deepspeed": None, "learning_rates": [1e-5, 1e-3]},
    lora={"merge": True},
)


def test_lr_sweep_selects_a_winner_and_evaluation_follows_it(tiny_workdir):
    _train_config(tiny_workdir, **SWEEP)
    counts = dry_run(tiny_workdir)
    # 2 mixtures x 2 rates per method are trained, one choice per (method, mixture); only winners are evaluated
    assert counts["train"] == 8 and counts["select_lr"] == counts["merge_lora"] == 4
    assert counts["generate"] == (1 + 4) * 2 and counts["summarise_scores"] == (1 + 4) * 2

    target = "results/generate/tiny-llama/full/tiny/multilingual/selected/mini/fr.stats.json"
    snakemake(tiny_workdir, target)
    train_dir = tiny_workdir / "results/train/tiny-llama/full/tiny/multilingual"
    selection = json.loads((train_dir / "selected/selection.json").read_text())
    losses = {
        lr: json.loads((train_dir / lr / "metrics.json").read_text())["best_eval_loss"] for lr in ("1e-05", "0.001")
    }
    assert selection["criterion"] == "valid_loss" and selection["selected_lr"] == min(losses, key=losses.get)
    assert {c["lr"]: c["best_eval_loss"] for c in selection["candidates"]} == losses
    stats = json.loads((tiny_workdir / target).read_text())
    assert stats["run"]["lr"] == "selected" and stats["run"]["selected_lr"] == selection["selected_lr"]
    assert (train_dir / selection["selected_lr"] / "weights/model.safetensors").exists()


def test_langid_lr_selection_generates_dev_responses_for_every_rate(tiny_workdir):
    _train_config(tiny_workdir, learning_rates=[1e-3, 5e-2], lr_selection={"criterion": "langid"})
    counts = dry_run(tiny_workdir, "all_train")
    # each rate of each mixture answers the (non-source) fr dev prompts and gets language-ID scored
    assert counts["train"] == 4 and counts["select_lr"] == 2
    assert counts["generate"] == counts["langid_responses"] == 4

    target = "results/train/tiny-llama/lora/tiny/mono-en/selected/selection.json"
    snakemake(tiny_workdir, target)
    selection = json.loads((tiny_workdir / target).read_text())
    assert selection["criterion"] == "langid" and selection["selected_lr"] in ("0.001", "0.05")
    for candidate in selection["candidates"]:
        rows = tiny_workdir / f"results/score/langid/tiny-llama/lora/tiny/mono-en/{candidate['lr']}/mini/fr.jsonl"
        rows = [json.loads(line) for line in rows.read_text().splitlines()]
        assert candidate["langid_correct"] == sum(r["correct"] for r in rows) / len(rows)


def test_bad_lr_selection_config_names_the_key(tiny_workdir):
    _train_config(tiny_workdir, lr_selection={"criterion": "langid", "evalset": "nope"})
    proc = snakemake(tiny_workdir, "-n", check=False)
    assert proc.returncode != 0 and "config key 'train.lr_selection.evalset'" in proc.stdout + proc.stderr
