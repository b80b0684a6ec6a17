from pathlib import Path

import pytest
import yaml

from polyinstruct.io import InputError
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import grid, paths
from polyinstruct.workflow.paths import Run

REPO = Path(__file__).resolve().parents[1]


def cfg(**overrides):
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    raw.update(overrides)
    return configuration.load(raw, REPO / "schemas/config.schema.yaml")


def test_lr_tokens_are_exact_and_short():
    assert [grid.lr_token(x) for x in (3e-4, 2e-5, 1e-6, 0.001)] == ["0.0003", "2e-05", "1e-06", "0.001"]


def test_default_grid():
    c = cfg()
    assert grid.mixture_ids(c) == ["mono-en", "multilingual", "downsampled"]
    runs = grid.runs(c)
    assert runs[0].path == "smollm2-135m/base/none/none/0" and runs[0].is_base
    assert [r.mixture for r in runs[1:]] == grid.mixture_ids(c)
    assert grid.mixture_languages(c, "mono-en") == ["en"]
    assert grid.mixture_languages(c, "downsampled") == ["en", "fr", "de"]
    assert grid.translation_languages(c) == ["fr", "de"]
    assert grid.shard_ids(c, "polyalpaca") == ["000"]  # 48 records (limit) / 48 per shard


def test_lr_sweep_multiplies_runs():
    c = cfg()
    c["train"]["learning_rates"] = [1e-4, 3e-4]
    assert len(grid.runs(c)) == 1 + 3 * 2


def test_methods_have_their_own_rates_and_selection_evaluates_winners():
    c = cfg()
    c["train"].update(methods=["lora", "full"], learning_rates=[1e-4, 3e-4])
    c["train"]["full"]["learning_rates"] = [2e-5]
    assert grid.learning_rates(c, "lora") == ["0.0001", "0.0003"] and grid.learning_rates(c, "full") == ["2e-05"]
    assert len(grid.training_runs(c)) == 3 * 2 + 3 and len(grid.runs(c)) == 1 + 3 * 3
    c["train"]["lr_selection"]["criterion"] = "valid_loss"
    evaluated = grid.runs(c)[1:]
    assert len(evaluated) == 3 * 2 and {r.lr for r in evaluated} == {paths.SELECTED}
    assert len(grid.training_runs(c)) == 3 * 2 + 3  # every sweep point is still trained
    assert Run("m", "full", "d", "x", "2e-05").weights() == "results/train/m/full/d/x/2e-05/weights"
    assert Run("m", "lora", "d", "x", "2e-05").weights(merged=True) == "results/train/m/lora/d/x/2e-05/merged"
    assert Run("m", "lora", "d", "x", "selected").selection() == "results/train/m/lora/d/x/selected/selection.json"


def test_method_overrides_reach_the_training_settings():
    from polyinstruct.workflow import inputs

    c = cfg()
    c["train"]["full"].update(epochs=3, global_batch_size=256)
    full, lora = inputs.train_settings(c, "full"), inputs.train_settings(c, "lora")
    assert (full["epochs"], full["global_batch_size"], full["deepspeed"], full["gradient_checkpointing"]) == (
        3,
        256,
        "zero3",
        True,
    )
    assert (lora["epochs"], lora["global_batch_size"], lora["gradient_checkpointing"]) == (2, 8, False)
    assert lora["lora"]["target_modules"] == "qkv" and "deepspeed" not in lora
    c["train"]["full"].update(checkpoint_selection="last", warmup_steps=100, eval_every_steps=50)
    full, lora = inputs.train_settings(c, "full"), inputs.train_settings(c, "lora")
    assert (full["checkpoint_selection"], full["warmup_steps"], full["eval_every_steps"]) == ("last", 100, 50)
    assert (lora["checkpoint_selection"], lora["warmup_steps"], lora["eval_every_steps"]) == ("last", None, None)


def test_shard_count_of_missing_file_names_key(tmp_path):
    spec = {"path": str(tmp_path / "nope.jsonl")}
    with pytest.raises(InputError, match="config key 'datasets.d.path'"):
        grid.count_records(spec, "d")


def test_a_judge_only_model_is_prepared_and_judges_but_is_never_trained_or_evaluated():
    from polyinstruct.workflow import targets

    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    judge = next(iter(raw["models"]))
    raw["models"]["other"] = {"path": "models/other"}
    raw["models"][judge]["judge_only"] = True
    raw["score"]["judge"]["model"] = judge
    c = configuration.load(raw, REPO / "schemas/config.schema.yaml")
    assert {r.model for r in grid.runs(c)} == {"other"} and {r.model for r in grid.training_runs(c)} == {"other"}
    jobs = targets.jobs(c)
    assert paths.MODEL.format(model=judge) in jobs["prepare_model"]
    assert all(f"/{judge}/" not in p for p in jobs["train"] + jobs["generate"])
    raw["score"]["judge"]["model"] = "other"
    with pytest.raises(
        configuration.ConfigError, match=rf"config key 'models\.{judge}\.judge_only': '{judge}' is no local judge"
    ):
        configuration.load(raw, REPO / "schemas/config.schema.yaml")
