"""What each rule reads and is told, as functions of (config, wildcards).

Kept out of the .smk files so the rules stay declarations and this logic stays testable.
"""
from __future__ import annotations

from polyinstruct import grid

TRAIN_KEYS = ("epochs", "max_steps", "global_batch_size", "micro_batch_size", "max_length", "loss_on_prompt",
              "template", "lr_scheduler", "warmup_ratio", "weight_decay", "eval_every_steps", "lora")


def dataset_source(config: dict, wildcards) -> list[str]:
    path = config["datasets"][wildcards.dataset]["path"]
    return [path] if path else []


def eval_source(config: dict, wildcards) -> dict[str, str]:
    path = config["evalsets"][wildcards.evalset].get("path")
    return {"source": path.format(lang=wildcards.lang)} if path else {}


def engine(config: dict, wildcards) -> str:
    return config["translate"]["engines"].get(wildcards.lang, config["translate"]["engine"])


def engine_settings(config: dict, wildcards) -> dict:
    name = engine(config, wildcards)
    settings = dict(config["translate"].get(name.replace("-", "_"), {}))
    if name == "precomputed":
        settings["path"] = settings["path"].format(dataset=wildcards.dataset, lang=wildcards.lang)
    return settings


def translate_shard(config: dict, wildcards) -> dict[str, str]:
    inputs = {"records": f"results/data/instructions/{wildcards.dataset}.jsonl"}
    if engine(config, wildcards) == "precomputed":
        inputs["translations"] = engine_settings(config, wildcards)["path"]
    return inputs


def language_data(config: dict, dataset: str, lang: str) -> str:
    if lang == config["source_language"]:
        return f"results/data/instructions/{dataset}.jsonl"
    return f"results/translate/{dataset}/{lang}.jsonl"


def mixture_sources(config: dict, wildcards) -> list[str]:
    return [language_data(config, wildcards.dataset, lang) for lang in grid.mixture_languages(config, wildcards.mixture)]


def model_source(config: dict, wildcards) -> list[str]:
    path = config["models"][wildcards.model]["path"]
    return [path] if path else []


def train_settings(config: dict) -> dict:
    return {k: config["train"][k] for k in TRAIN_KEYS}


def generate(wildcards) -> dict[str, str]:
    inputs = {
        "model": f"results/models/{wildcards.model}/model.json",
        "eval": f"results/data/eval/{wildcards.evalset}/{wildcards.lang}.jsonl",
    }
    if wildcards.method != grid.BASE:
        inputs["adapter"] = "results/train/{model}/{method}/{dataset}/{mixture}/{lr}/adapter".format(**wildcards)
    return inputs


def prompt_template(config: dict, wildcards) -> str:
    """Base models are prompted with their chat template; tuned runs the way they were trained."""
    return "chat" if wildcards.method == grid.BASE else config["train"]["template"]
