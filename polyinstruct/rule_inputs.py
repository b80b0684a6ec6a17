"""What each rule reads and is told, as functions of (config, wildcards).

Kept out of the .smk files so the rules stay declarations and this logic stays testable.
"""
from __future__ import annotations

from polyinstruct import grid

# train.* keys every method reads, and those a method's own section may override
TRAIN_KEYS = ("epochs", "max_steps", "max_tokens", "global_batch_size", "micro_batch_size", "max_length",
              "loss_on_prompt", "template", "lr_scheduler", "warmup_ratio", "weight_decay", "adam_beta1", "adam_beta2",
              "gradient_checkpointing", "batching", "checkpoint_selection", "eval_every_steps", "save_every_steps")
METHOD_OVERRIDES = ("epochs", "max_steps", "max_tokens", "global_batch_size", "micro_batch_size", "lr_scheduler",
                    "warmup_ratio", "weight_decay", "adam_beta1", "adam_beta2", "gradient_checkpointing")


def dataset_source(config: dict, wildcards) -> list[str]:
    path = config["datasets"][wildcards.dataset]["path"]
    return [path] if path else []


def eval_source(config: dict, wildcards) -> dict[str, str]:
    path = config["evalsets"][wildcards.evalset].get("path")
    return {"source": path.format(lang=wildcards.lang)} if path else {}


MODEL_ENGINES = ("hf-seq2seq", "ctranslate2", "llm")


def engine(config: dict, wildcards) -> str:
    return config["translate"]["engines"].get(wildcards.lang, config["translate"]["engine"])


def llm_model(config: dict) -> str:
    return config["translate"]["llm"]["model"] or next(iter(config["models"]))


def ct2_dir(config: dict, lang: str) -> str:
    """Where the converted model lives: one per causal LM, or one per target language for MT models
    (OPUS-MT has a model per pair)."""
    if config["translate"]["ctranslate2"]["source"] == "llm":
        return f"results/models/{llm_model(config)}/ct2"
    return f"results/models/mt/ct2/{lang}"


def engine_settings(config: dict, wildcards, name: str | None = None) -> dict:
    """Keyword arguments of `translate.make_engine` for one (dataset, language) and engine."""
    t = config["translate"]
    name = name or engine(config, wildcards)
    lang, src = wildcards.lang, config["source_language"]
    if name == "precomputed":
        return {"path": t["precomputed"]["path"].format(dataset=wildcards.dataset, lang=lang)}
    common = {"segment_max_chars": t["segment_max_chars"]}
    if name == "hf-seq2seq":
        return {**common, **t["hf_seq2seq"]}
    if name == "llm":
        return {**common, "pointer": f"results/models/{llm_model(config)}/model.json",
                "few_shot": t["llm"]["few_shot"].get(lang, []), "batch_size": t["llm"]["batch_size"],
                "max_new_tokens": t["llm"]["max_new_tokens"]}
    ct2 = t["ctranslate2"]
    settings = {**common, "model_dir": ct2_dir(config, lang), "compute_type": ct2["compute_type"],
                "batch_size": ct2["batch_size"], "max_length": ct2["max_length"], "beam_size": ct2["beam_size"]}
    if ct2["source"] == "llm":
        return {**settings, "kind": "generator", "tokenizer": f"results/models/{llm_model(config)}/model.json",
                "few_shot": t["llm"]["few_shot"].get(lang, [])}
    return {**settings, "kind": "translator", "family": t["hf_seq2seq"]["family"],
            "tokenizer": t["hf_seq2seq"]["model"].format(src=src, tgt=lang)}


def engine_files(config: dict, wildcards, name: str) -> dict[str, str]:
    """Files an engine reads, so editing or rebuilding them re-runs the shard."""
    if name == "precomputed":
        return {f"{name}_translations": engine_settings(config, wildcards, name)["path"]}
    if name == "llm" or (name == "ctranslate2" and config["translate"]["ctranslate2"]["source"] == "llm"):
        files = {f"{name}_model": f"results/models/{llm_model(config)}/model.json"}
    else:
        files = {}
    if name == "ctranslate2":
        files[f"{name}_converted"] = ct2_dir(config, wildcards.lang) + "/model.bin"
    return files


def translate_shard(config: dict, wildcards) -> dict[str, str]:
    inputs = {"records": f"results/data/instructions/{wildcards.dataset}.jsonl"}
    inputs.update(engine_files(config, wildcards, engine(config, wildcards)))
    fallback = config["translate"]["qa"]["fallback_engine"]
    if config["translate"]["qa"]["policy"] == "fallback" and fallback:
        inputs.update(engine_files(config, wildcards, fallback))
    return inputs


def fallback_settings(config: dict, wildcards) -> dict | None:
    fallback = config["translate"]["qa"]["fallback_engine"]
    if config["translate"]["qa"]["policy"] != "fallback" or not fallback:
        return None
    return {"name": fallback, "settings": engine_settings(config, wildcards, fallback)}


def translate_gpus(config: dict, wildcards) -> int:
    return int(engine(config, wildcards) in MODEL_ENGINES)


def language_data(config: dict, dataset: str, lang: str) -> str:
    if lang == config["source_language"]:
        return f"results/data/instructions/{dataset}.jsonl"
    return f"results/translate/{dataset}/{lang}.jsonl"


def mixture_sources(config: dict, wildcards) -> list[str]:
    return [language_data(config, wildcards.dataset, lang) for lang in grid.mixture_languages(config, wildcards.mixture)]


def model_source(config: dict, wildcards) -> list[str]:
    path = config["models"][wildcards.model]["path"]
    return [path] if path else []


def train_settings(config: dict, method: str) -> dict:
    """The settings of one method's runs: train.* with the method's own overrides applied."""
    train = config["train"]
    settings = {k: train[k] for k in TRAIN_KEYS}
    own = train[method]
    settings.update({k: own[k] for k in METHOD_OVERRIDES if own.get(k) is not None})
    if method == "lora":
        settings["lora"] = {k: own[k] for k in ("r", "alpha", "dropout", "target_modules")}
    else:
        settings["deepspeed"] = own["deepspeed"]
    return settings


def trained_weights(config: dict, wildcards) -> dict[str, object]:
    """The weights a tuned run generates with; for the `selected` lr, the sweep's choice and every candidate."""
    w = wildcards
    if w.lr != grid.SELECTED:
        return {"weights": grid.weights_path(w.model, w.method, w.dataset, w.mixture, w.lr)}
    return {"selection": grid.selection_path(w.model, w.method, w.dataset, w.mixture),
            "candidates": [grid.weights_path(w.model, w.method, w.dataset, w.mixture, lr)
                           for lr in grid.learning_rates(config, w.method)]}


def generate(config: dict, wildcards) -> dict[str, object]:
    inputs = {
        "model": f"results/models/{wildcards.model}/model.json",
        "eval": f"results/data/eval/{wildcards.evalset}/{wildcards.lang}.jsonl",
    }
    if wildcards.method != grid.BASE:
        inputs.update(trained_weights(config, wildcards))
    return inputs


def lr_candidates(config: dict, wildcards) -> dict[str, dict]:
    """Per {lr} of a sweep, the files its winner is chosen from: metrics, and for langid its dev responses' language ID."""
    w = wildcards
    langid = config["train"]["lr_selection"]["criterion"] == "langid"
    evalset = grid.lr_selection_evalset(config) if langid else None
    candidates = {}
    for lr in grid.learning_rates(config, w.method):
        run = f"{w.model}/{w.method}/{w.dataset}/{w.mixture}/{lr}"
        candidates[lr] = {
            "metrics": f"results/train/{run}/metrics.json",
            "langid": [f"results/score/langid/{run}/{evalset}/{lang}.jsonl"
                       for lang in grid.lr_selection_languages(config)] if langid else [],
        }
    return candidates


def lr_selection(config: dict, wildcards) -> list[str]:
    return [path for c in lr_candidates(config, wildcards).values() for path in (c["metrics"], *c["langid"])]


def train_targets(config: dict) -> list[str]:
    """Every trained run's metrics; the sweep choices when selecting; merged LoRA weights when asked for."""
    targets = []
    for r in grid.training_runs(config):
        targets.append(f"results/train/{r.path}/metrics.json")
        if r.method == "lora" and config["train"]["lora"]["merge"]:
            targets.append(f"results/train/{r.path}/merged")
    if grid.selects_lr(config):
        targets += list(dict.fromkeys(grid.selection_path(r.model, r.method, r.dataset, r.mixture)
                                      for r in grid.training_runs(config)))
    return targets


def prompt_template(config: dict, wildcards) -> str:
    """Base models are prompted with their chat template; tuned runs the way they were trained."""
    return "chat" if wildcards.method == grid.BASE else config["train"]["template"]
