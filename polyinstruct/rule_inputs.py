"""What each rule reads and is told, as functions of (config, wildcards).

Kept out of the .smk files so the rules stay declarations and this logic stays testable.
"""
from __future__ import annotations

from polyinstruct import grid, sources

# train.* keys every method reads, and those a method's own section may override
TRAIN_KEYS = ("epochs", "max_steps", "max_tokens", "global_batch_size", "micro_batch_size", "max_length",
              "loss_on_prompt", "template", "lr_scheduler", "warmup_ratio", "weight_decay", "adam_beta1", "adam_beta2",
              "gradient_checkpointing", "batching", "checkpoint_selection", "eval_every_steps", "save_every_steps")
METHOD_OVERRIDES = ("epochs", "max_steps", "max_tokens", "global_batch_size", "micro_batch_size", "lr_scheduler",
                    "warmup_ratio", "weight_decay", "adam_beta1", "adam_beta2", "gradient_checkpointing")


def dataset_source(config: dict, wildcards) -> list[str]:
    path = config["datasets"][wildcards.dataset]["path"]
    return [sources.local(path)] if path else []


def eval_source(config: dict, wildcards) -> dict[str, str]:
    """The eval file of one language (fetched first when it is a URL), and the task-type file of `messages` sets."""
    spec = config["evalsets"][wildcards.evalset]
    path = spec.get("path")
    if not path:
        return {}
    from polyinstruct import evalsets

    location = sources.expand(path, lang=wildcards.lang)
    out = {"source": sources.local(location)}
    if spec.get("format") == "messages":
        out["types"] = sources.local(evalsets.types_location(spec, location, wildcards.lang))
    return out


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
        return {"path": sources.resolve(t["precomputed"]["path"], dataset=wildcards.dataset, lang=lang)}
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


def mixture_sources(config: dict, wildcards) -> dict[str, str]:
    """Per part of the mixture (a language, or `crosslingual`), the records it is drawn from.

    The ablation (`no-crosslingual`) does not read the cross-lingual instructions: its draw of the
    other parts does not depend on them."""
    sources = {lang: language_data(config, wildcards.dataset, lang)
               for lang in grid.mixture_languages(config, wildcards.mixture)}
    if wildcards.mixture == grid.CROSSLINGUAL:
        sources[grid.CROSSLINGUAL] = CROSSLINGUAL_INSTRUCTIONS
    return sources


CROSSLINGUAL_INSTRUCTIONS = "results/crosslingual/instructions.jsonl"


def crosslingual_sources(config: dict) -> list[str]:
    from polyinstruct import crosslingual

    spec = config["crosslingual"]["parallel"]
    paths = [path for pivot, lang in grid.crosslingual_pairs(config)
             for path in crosslingual.parallel_paths(spec, pivot, lang).values()]
    return list(dict.fromkeys(paths))


def mixture_settings(config: dict, wildcards) -> dict | None:
    """Shares and budget of a share-drawn mixture (crosslingual and its ablation); None for the others."""
    if not grid.is_share_mixture(wildcards.mixture):
        return None
    return {**config["crosslingual"]["mixture"],
            "drop": [grid.CROSSLINGUAL] if wildcards.mixture == grid.NO_CROSSLINGUAL else []}


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


def _served_weights(config: dict, path: str) -> str:
    """vLLM with `generate.vllm.lora: merged` serves LoRA runs from the merged weights next to the adapter."""
    g = config["generate"]
    if g["backend"] == "vllm" and g["vllm"]["lora"] == "merged" and path.endswith("/adapter"):
        return path[:-len("adapter")] + "merged"
    return path


def trained_weights(config: dict, wildcards) -> dict[str, object]:
    """The weights a tuned run generates with; for the `selected` lr, the sweep's choice and every candidate."""
    w = wildcards
    if w.lr != grid.SELECTED:
        return {"weights": _served_weights(config, grid.weights_path(w.model, w.method, w.dataset, w.mixture, w.lr))}
    return {"selection": grid.selection_path(w.model, w.method, w.dataset, w.mixture),
            "candidates": [_served_weights(config, grid.weights_path(w.model, w.method, w.dataset, w.mixture, lr))
                           for lr in grid.learning_rates(config, w.method, w.model)]}


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
    for lr in grid.learning_rates(config, w.method, w.model):
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


# ---- judging, scoring, surface metrics, agreement ------------------------------------------------

def _run_path(w, prefix: str = "") -> str:
    return "/".join(w[prefix + k] for k in ("model", "method", "dataset", "mixture", "lr"))


def responses_path(run_path: str, evalset: str, lang: str) -> str:
    return f"results/generate/{run_path}/{evalset}/{lang}.jsonl"


def langid_path(run_path: str, evalset: str, lang: str) -> str:
    return f"results/score/langid/{run_path}/{evalset}/{lang}.jsonl"


def judge_settings(config: dict, protocol: str) -> dict:
    """Everything one judging job of `protocol` needs: backend, its settings, the protocol block, cache, prices.

    Only the selected backend's settings are included, so editing the other one re-runs nothing.
    """
    judge = config["score"]["judge"]
    settings = {**grid.judge_backend_settings(config), "template_dir": judge["template_dir"],
                "cache_dir": judge["cache_dir"], "chunk_size": judge["chunk_size"], "prices": judge["prices"]}
    if protocol == "chen_single":
        block = {"template": judge["template"], "response_prefix": judge["response_prefix"]}
    elif protocol == "relevance":
        block = dict(config["surface"]["relevance"])
    else:
        block = dict(judge[protocol])
    settings["protocol"] = block
    if settings["backend"] == "openai":
        settings["openai"] = judge["openai"]
    else:
        settings["local"] = {"batch_size": judge["batch_size"], "max_new_tokens": judge["max_new_tokens"],
                             "response_prefix": block.get("response_prefix", "")}
        if settings["engine"] == "vllm":
            settings["generate"] = {k: config["generate"][k] for k in ("vllm", "repetition_penalty")}
    return settings


def judge_templates(config: dict, protocol: str, lang: str) -> list[str]:
    """Template files a job reads (translated ones where present), so editing one re-runs its jobs."""
    from polyinstruct.judge.templates import localised_path

    block = judge_settings(config, protocol)["protocol"]
    if protocol == "chen_single":
        return [block["template"]]
    directory = config["score"]["judge"]["template_dir"]
    return sorted({str(localised_path(directory, name, lang)) for name in block["templates"].values()})


def _judge_model_input(config: dict) -> dict[str, str]:
    if config["score"]["judge"]["backend"] == "local":
        return {"judge_model": f"results/models/{grid.judge_model(config)}/model.json"}
    return {}


def judge(config: dict, wildcards) -> dict[str, object]:
    w = wildcards
    return {"responses": responses_path(_run_path(w), w.evalset, w.lang), **_judge_model_input(config),
            "templates": judge_templates(config, w.protocol, w.lang)}


def judge_pairwise(config: dict, wildcards) -> dict[str, object]:
    w = wildcards
    return {"first": responses_path(_run_path(w), w.evalset, w.lang),
            "second": responses_path(_run_path(w, "b_"), w.evalset, w.lang), **_judge_model_input(config),
            "templates": judge_templates(config, grid.PAIRWISE, w.lang)}


def pair_names(wildcards) -> list[str]:
    return [_run_path(wildcards), _run_path(wildcards, "b_")]


def score_summary(config: dict, wildcards) -> dict[str, str]:
    """Language ID and the rows of every one-response protocol of one (run, eval set, language)."""
    w = wildcards
    run = _run_path(w)
    inputs = {"langid": langid_path(run, w.evalset, w.lang)}
    for protocol in grid.single_protocols(config):
        inputs[protocol] = f"results/score/judge/{protocol}/{run}/{w.evalset}/{w.lang}.jsonl"
    return inputs


def pairwise_summary(config: dict, wildcards) -> dict[str, str]:
    w = wildcards
    first, second = _run_path(w), _run_path(w, "b_")
    return {"rows": f"results/score/pairwise/{first}/{w.evalset}/{w.lang}/vs/{second}.jsonl",
            "langid_first": langid_path(first, w.evalset, w.lang),
            "langid_second": langid_path(second, w.evalset, w.lang)}


def pair_targets(config: dict, pattern: str, evalset: str | None = None, lang: str | None = None) -> list[str]:
    """`pattern` (with {first}, {second}, {evalset}, {lang}) over every pair, optionally one eval set/language."""
    if not grid.judges_pairwise(config):
        return []
    return [pattern.format(first=run.path, second=baseline.path, evalset=e, lang=pair_lang)
            for run, pair_lang, baseline in grid.pairwise_pairs(config)
            for e in config["evalsets"]
            if (evalset is None or e == evalset) and (lang is None or pair_lang == lang)]


PAIR_SUMMARY = "results/score/pairwise_summary/{first}/{evalset}/{lang}/vs/{second}.json"
PAIR_GATED = "results/score/pairwise_summary/{first}/{evalset}/{lang}/vs/{second}.jsonl"


def agreement(config: dict, wildcards) -> dict[str, object]:
    return {"votes": config["agreement"]["human_votes"][wildcards.evalset][wildcards.lang],
            "pairs": pair_targets(config, PAIR_GATED, wildcards.evalset, wildcards.lang)}


def agreement_targets(config: dict) -> list[str]:
    return [f"results/score/agreement/{evalset}/{lang}.json"
            for evalset, by_lang in config["agreement"]["human_votes"].items() for lang in by_lang]


def surface_evalsets(config: dict) -> list[str]:
    """Eval sets with surface metrics: all when spelling is on, else those of task modifiers."""
    return [name for name, spec in config["evalsets"].items()
            if config["surface"]["spelling"]["enabled"] or spec.get("format") == "modifiers"]


def judge_plan_jobs(config: dict) -> list[dict]:
    """Every judging job of the grid as {protocol, responses, names}, for the dry-run call count."""
    jobs = []
    for protocol in grid.single_protocols(config):
        for evalset in config["evalsets"]:
            for lang in grid.eval_languages(config):
                for run in grid.runs(config):
                    jobs.append({"protocol": protocol, "responses": [responses_path(run.path, evalset, lang)],
                                 "names": [run.path]})
    if grid.judges_pairwise(config):
        for run, lang, baseline in grid.pairwise_pairs(config):
            for evalset in config["evalsets"]:
                jobs.append({"protocol": grid.PAIRWISE, "names": [run.path, baseline.path],
                             "responses": [responses_path(run.path, evalset, lang),
                                           responses_path(baseline.path, evalset, lang)]})
    return jobs


def judge_plan(config: dict) -> dict[str, object]:
    responses = sorted({path for job in judge_plan_jobs(config) for path in job["responses"]})
    return {"responses": responses, **_judge_model_input(config)}


def judge_plan_settings(config: dict) -> dict[str, dict]:
    protocols = [*grid.single_protocols(config), *([grid.PAIRWISE] if grid.judges_pairwise(config) else [])]
    return {p: judge_settings(config, p) for p in protocols}


def engine_env(engine: str) -> str:
    """The conda env of a job that runs `engine` (vLLM pins its own torch)."""
    return "../envs/vllm.yaml" if engine == "vllm" else "../envs/torch.yaml"


def judge_env(config: dict) -> str:
    settings = grid.judge_backend_settings(config)
    return engine_env(settings["engine"]) if settings["backend"] == "local" else "../envs/torch.yaml"


# ---- benchmarks: MT test sets (sacrebleu, COMET) and lm-evaluation-harness tasks -----------------

def mt_directions(config: dict) -> list[tuple[str, str, str]]:
    """(test set, src, tgt) of every configured MT direction."""
    from polyinstruct import mt_eval

    return [(name, src, tgt) for name, spec in config["mt_eval"]["testsets"].items()
            for src, tgt in mt_eval.directions(spec)]


def mt_languages(config: dict) -> list[str]:
    return sorted({lang for _, src, tgt in mt_directions(config) for lang in (src, tgt)})


def mt_files(config: dict, wildcards) -> dict[str, str]:
    from polyinstruct import mt_eval

    spec = config["mt_eval"]["testsets"][wildcards.testset]
    return mt_eval.files(spec, wildcards.src, wildcards.tgt, wildcards.testset)


MT_DATA = "results/mt/data/{testset}/{src}-{tgt}"


def _run_weights(config: dict, wildcards, merged: bool = False) -> dict[str, object]:
    if wildcards.method == grid.BASE:
        return {}
    weights = trained_weights(config, wildcards)
    if merged and wildcards.method == "lora":
        swap = lambda path: path[:-len("adapter")] + "merged" if path.endswith("/adapter") else path  # noqa: E731
        weights = {k: ([swap(p) for p in v] if isinstance(v, list) else (v if k == "selection" else swap(v)))
                   for k, v in weights.items()}
    return weights


def mt_translate(config: dict, wildcards) -> dict[str, object]:
    w = wildcards
    return {"model": f"results/models/{w.model}/model.json",
            "segments": MT_DATA.format(testset=w.testset, src=w.src, tgt=w.tgt) + ".jsonl",
            "prompts": f"{config['crosslingual']['prompts_dir']}/{config['mt_eval']['prompt_language']}.yaml",
            **_run_weights(config, w)}


def mt_targets(config: dict, pattern: str) -> list[str]:
    """`pattern` ({model}..{lr}, {testset}, {src}, {tgt}) over every run and direction."""
    return [pattern.format(model=r.model, method=r.method, dataset=r.dataset, mixture=r.mixture, lr=r.lr,
                           testset=t, src=s, tgt=g)
            for r in grid.runs(config) for t, s, g in mt_directions(config)]


MT_SCORES = "results/mt/scores/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.json"
MT_COMET = "results/mt/comet/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.json"
LM_EVAL = "results/lm_eval/{model}/{method}/{dataset}/{mixture}/{lr}/{task}.json"


def comet_gpus(config: dict) -> int:
    return int(config["mt_eval"]["comet"]["gpus"])


def lm_eval_tasks(config: dict) -> list[str]:
    from polyinstruct import lm_tasks

    lm = config["lm_eval"]
    return lm_tasks.expand(lm["tasks"], lm["languages"] or grid.eval_languages(config))


def lm_eval(config: dict, wildcards) -> dict[str, object]:
    return {"model": f"results/models/{wildcards.model}/model.json",
            **_run_weights(config, wildcards, merged=config["lm_eval"]["lora"] == "merged")}


def lm_eval_targets(config: dict) -> list[str]:
    return [LM_EVAL.format(model=r.model, method=r.method, dataset=r.dataset, mixture=r.mixture, lr=r.lr, task=task)
            for r in grid.runs(config) for task in lm_eval_tasks(config)]


def benchmark_report(config: dict) -> dict[str, list[str]]:
    """Every score the benchmark report reads (empty lists for what is not configured)."""
    return {"mt": mt_targets(config, MT_SCORES),
            "comet": mt_targets(config, MT_COMET) if config["mt_eval"]["comet"]["enabled"] else [],
            "lm_eval": lm_eval_targets(config)}


def benchmarks_configured(config: dict) -> bool:
    return bool(config["mt_eval"]["testsets"] or config["lm_eval"]["tasks"])
