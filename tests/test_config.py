from pathlib import Path

import pytest
import yaml

from polyinstruct.workflow import config as configuration

REPO = Path(__file__).resolve().parents[1]
SCHEMA = configuration.load_schema(REPO / "schemas/config.schema.yaml")


def default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def test_default_config_is_valid_and_filled_with_defaults():
    cfg = configuration.validate(default_config(), SCHEMA)
    lora = cfg["train"]["lora"]
    assert (lora["r"], lora["alpha"], lora["dropout"], lora["target_modules"]) == (8, 16, 0.05, "qkv")
    assert lora["learning_rates"] is None and lora["merge"] is False
    assert cfg["train"]["lr_scheduler"] == "cosine"
    assert cfg["score"]["langid"]["scheme"] == "lid176"
    assert cfg["datasets"]["polyalpaca"]["fields"]["instruction"] == "instruction"


def test_schema_defaults_are_chen_et_al_lora_settings():
    cfg = configuration.validate(
        {"datasets": {"d": {"path": "x.jsonl"}}, "evalsets": {}, "models": {"m": {"hub": "org/model"}}}, SCHEMA
    )
    train = cfg["train"]
    assert (train["learning_rates"], train["global_batch_size"], train["epochs"]) == ([3e-4], 128, 5)
    assert train["loss_on_prompt"] is False
    # full fine-tuning: Chen et al.'s rate, ZeRO-3 and gradient checkpointing
    assert (train["full"]["learning_rates"], train["full"]["deepspeed"], train["full"]["gradient_checkpointing"]) == (
        [2e-5],
        "zero3",
        True,
    )
    assert train["checkpoint_selection"] == "best" and train["lr_selection"]["criterion"] == "none"


def test_every_schema_property_has_description_and_default():
    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            assert "description" in sub, f"{path}.{name} has no description"
            if name not in node.get("required", []) and not (path.endswith("evalsets.*") and name == "path"):
                assert "default" in sub, f"{path}.{name} has no default"
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")

    walk(SCHEMA, "config")


def test_unknown_key_is_named():
    cfg = default_config()
    cfg["train"]["epochz"] = 3
    with pytest.raises(configuration.ConfigError, match=r"config key 'train.epochz': unknown key"):
        configuration.validate(cfg, SCHEMA)


def test_wrong_type_is_named():
    cfg = default_config()
    cfg["generate"]["max_new_tokens"] = "many"
    with pytest.raises(configuration.ConfigError, match=r"config key 'generate.max_new_tokens': 'many' is not of type"):
        configuration.validate(cfg, SCHEMA)


def test_warmup_share_must_stay_below_one():
    # transformers 5 reads warmup_steps >= 1 as a step count, so a share of 1 could not mean the same there
    cfg = default_config()
    cfg["train"]["warmup_ratio"] = 1
    with pytest.raises(configuration.ConfigError, match=r"config key 'train.warmup_ratio': 1 is greater than"):
        configuration.validate(cfg, SCHEMA)


def test_unknown_language_code_is_named_with_suggestions():
    cfg = default_config()
    cfg["languages"] = ["en", "fz"]
    with pytest.raises(
        configuration.ConfigError, match=r"config key 'languages\[1\]': unknown language code 'fz'; did you mean"
    ):
        configuration.validate(cfg, SCHEMA)


def test_model_needs_exactly_one_source():
    cfg = default_config()
    cfg["models"]["smollm2-135m"]["hub"] = "HuggingFaceTB/SmolLM2-135M-Instruct"
    with pytest.raises(configuration.ConfigError, match=r"models.smollm2-135m': set exactly one of"):
        configuration.validate(cfg, SCHEMA)


def test_judge_must_name_a_configured_model():
    cfg = default_config()
    cfg["score"]["judge"]["model"] = "gpt-judge"
    with pytest.raises(configuration.ConfigError, match=r"score.judge.model': no model named 'gpt-judge'"):
        configuration.validate(cfg, SCHEMA)


def test_every_epoch_selection_refuses_step_evaluation():
    cfg = default_config()
    cfg["train"].update(checkpoint_selection="every-epoch", eval_every_steps=10)
    with pytest.raises(configuration.ConfigError, match=r"train.eval_every_steps': every-epoch"):
        configuration.validate(cfg, SCHEMA)


def test_langid_lr_selection_languages_must_be_eval_languages():
    cfg = default_config()
    cfg["train"]["lr_selection"] = {"criterion": "langid", "languages": ["fr", "sw"]}
    with pytest.raises(
        configuration.ConfigError, match=r"train.lr_selection.languages\[1\]': 'sw' is not an eval language"
    ):
        configuration.validate(cfg, SCHEMA)
    cfg["train"]["lr_selection"] = {"criterion": "langid", "languages": ["en"]}
    with pytest.raises(configuration.ConfigError, match="needs a non-source language"):
        configuration.validate(cfg, SCHEMA)


def test_unknown_training_method_is_named():
    cfg = default_config()
    cfg["train"]["methods"] = ["lora", "qlora"]
    with pytest.raises(configuration.ConfigError, match=r"config key 'train.methods.1': 'qlora' is not one of"):
        configuration.validate(cfg, SCHEMA)
