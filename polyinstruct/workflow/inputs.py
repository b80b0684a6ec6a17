"""What each rule reads and is told, as functions of (config, wildcards).

Kept out of the .smk files so the rules stay declarations and this logic stays testable. Every path
comes from `paths`; which jobs exist at all is `targets`' business.
"""

from __future__ import annotations

from polyinstruct.data import sources
from polyinstruct.io import InputError
from polyinstruct.workflow import grid, paths
from polyinstruct.workflow.paths import Run

# train.* keys every method reads, and those a method's own section may override
TRAIN_KEYS = (
    "epochs",
    "max_steps",
    "max_tokens",
    "global_batch_size",
    "micro_batch_size",
    "max_length",
    "loss_on_prompt",
    "template",
    "lr_scheduler",
    "min_lr_ratio",
    "warmup_ratio",
    "warmup_steps",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "gradient_checkpointing",
    "batching",
    "batch_tokens",
    "accumulate_batches",
    "token_buffer",
    "checkpoint_selection",
    "eval_every_steps",
    "save_every_steps",
)
METHOD_OVERRIDES = (
    "epochs",
    "max_steps",
    "max_tokens",
    "global_batch_size",
    "micro_batch_size",
    "lr_scheduler",
    "min_lr_ratio",
    "warmup_ratio",
    "warmup_steps",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "gradient_checkpointing",
    "batch_tokens",
    "accumulate_batches",
    "checkpoint_selection",
    "eval_every_steps",
)
TOKEN_BATCHING_KEYS = ("batch_tokens", "accumulate_batches", "token_buffer")
#: Memory (MB) and time (min) a training job asks for, by method: full fine-tuning holds optimizer
#: states for every weight.
TRAIN_RESOURCES = {"lora": {"mem_mb": 32000, "runtime": 720}, "full": {"mem_mb": 64000, "runtime": 1440}}


# ---- data -------------------------------------------------------------------------------------------


def dataset_source(config: dict, wildcards) -> list[str]:
    path = config["datasets"][wildcards.dataset]["path"]
    return [sources.local(path)] if path else []


def eval_source(config: dict, wildcards) -> dict[str, str]:
    """The eval file of one language (fetched first when it is a URL), and the task-type file of a `messages`
    set when it has one (`evalsets.types_location`: optional, as in Chirkova & Nikoulina's release)."""
    spec = config["evalsets"][wildcards.evalset]
    path = spec.get("path")
    if not path:
        return {}
    from polyinstruct.data import evalsets

    location = sources.expand(path, lang=wildcards.lang)
    out = {"source": sources.local(location)}
    if spec.get("format") == "messages":
        types = evalsets.types_location(spec, location, wildcards.lang)
        if types is not None:
            out["types"] = sources.local(types)
    if spec.get("reference_answers"):
        out["references"] = sources.resolve(spec["reference_answers"], lang=wildcards.lang)
    return out


def model_source(config: dict, wildcards) -> list[str]:
    path = config["models"][wildcards.model]["path"]
    return [path] if path else []


# ---- translate --------------------------------------------------------------------------------------


def engine(config: dict, wildcards) -> str:
    return config["translate"]["engines"].get(wildcards.lang, config["translate"]["engine"])


def llm_model(config: dict) -> str:
    return config["translate"]["llm"]["model"] or next(iter(config["models"]))


def ct2_dir(config: dict, lang: str) -> str:
    """Where the converted model lives: one per causal LM, or one per target language for MT models
    (OPUS-MT has a model per pair)."""
    if config["translate"]["ctranslate2"]["source"] == "llm":
        return paths.CT2_LLM.format(model=llm_model(config))
    return paths.CT2_MT.format(lang=lang)


def engine_settings(config: dict, wildcards, name: str | None = None) -> dict:
    """Keyword arguments of `translate.make_engine` for one (dataset, language) and engine."""
    t = config["translate"]
    name = name or engine(config, wildcards)
    lang, src = wildcards.lang, config["source_language"]
    if name == "precomputed":
        own = config["datasets"][wildcards.dataset].get("translations")
        if own:
            return precomputed_source(own, wildcards.dataset, lang)
        settings = {
            "path": sources.resolve(t["precomputed"]["path"], dataset=wildcards.dataset, lang=lang),
            "on_malformed": t["precomputed"]["on_malformed"],
        }
        if t["precomputed"]["join"] == "position":
            settings.update(join="position", dataset=wildcards.dataset)
        return settings
    common = {"segment_max_chars": t["segment_max_chars"]}
    pointer = paths.MODEL.format(model=llm_model(config))
    if name == "hf-seq2seq":
        return {**common, **t["hf_seq2seq"]}
    if name == "llm":
        return {
            **common,
            "pointer": pointer,
            "template": grid.untuned_template(config, llm_model(config)),
            "few_shot": t["llm"]["few_shot"].get(lang, []),
            "batch_size": t["llm"]["batch_size"],
            "max_new_tokens": t["llm"]["max_new_tokens"],
        }
    ct2 = t["ctranslate2"]
    settings = {
        **common,
        "model_dir": ct2_dir(config, lang),
        "compute_type": ct2["compute_type"],
        "batch_size": ct2["batch_size"],
        "max_length": ct2["max_length"],
        "beam_size": ct2["beam_size"],
    }
    if ct2["source"] == "llm":
        return {
            **settings,
            "kind": "generator",
            "tokenizer": pointer,
            "few_shot": t["llm"]["few_shot"].get(lang, []),
            "template": grid.untuned_template(config, llm_model(config)),
        }
    return {
        **settings,
        "kind": "translator",
        "family": t["hf_seq2seq"]["family"],
        "tokenizer": t["hf_seq2seq"]["model"].format(src=src, tgt=lang),
    }


def precomputed_source(spec: dict, dataset: str, lang: str) -> dict:
    """The precomputed engine's settings for a dataset's own translations (`datasets.<name>.translations`)."""
    source = {k: spec[k] for k in ("hub", "revision", "split")}
    source["hub_config"] = sources.expand(spec["hub_config"], lang=lang) if spec.get("hub_config") else None
    path = sources.resolve(spec["path"], lang=lang) if spec.get("path") else None
    if not path and not spec.get("hub"):
        raise InputError(f"config key 'datasets.{dataset}.translations': needs a path or a hub dataset")
    return {
        "path": path,
        "source": source,
        "fields": spec["fields"],
        "join": spec["join"],
        "key": f"datasets.{dataset}.translations",
    }


def engine_files(config: dict, wildcards, name: str) -> dict[str, str]:
    """Files an engine reads, so editing or rebuilding them re-runs the shard."""
    if name == "precomputed":
        path = engine_settings(config, wildcards, name)["path"]
        return {f"{name}_translations": path} if path else {}
    if name == "llm" or (name == "ctranslate2" and config["translate"]["ctranslate2"]["source"] == "llm"):
        files = {f"{name}_model": paths.MODEL.format(model=llm_model(config))}
    else:
        files = {}
    if name == "ctranslate2":
        files[f"{name}_converted"] = f"{ct2_dir(config, wildcards.lang)}/{paths.CT2_MODEL}"
    return files


def langid_model(config: dict) -> dict[str, str]:
    """The language-ID model file as a job input (fetched first when it is a URL or hub file); none for pkg://."""
    from polyinstruct.score import langid

    found = langid.model_file(config["score"]["langid"]["model"])
    return {"lid_model": found} if found else {}


def translate_shard(config: dict, wildcards) -> dict[str, str]:
    inputs = {"records": paths.INSTRUCTIONS.format(dataset=wildcards.dataset), **langid_model(config)}
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
    from polyinstruct.translate import registry

    return int(registry.entry(engine(config, wildcards)).uses_model)


def translation_shards(shards: dict[str, list[str]], wildcards) -> dict[str, list[str]]:
    """Every shard's records and QA counts of one (dataset, language), for the merge."""
    keys = {"dataset": wildcards.dataset, "lang": wildcards.lang}
    ids = shards[wildcards.dataset]
    return {
        "shards": [paths.SHARD.format(**keys, shard=s) for s in ids],
        "qa": [paths.SHARD_QA.format(**keys, shard=s) for s in ids],
    }


# ---- mixtures ---------------------------------------------------------------------------------------


def language_data(config: dict, dataset: str, lang: str) -> str:
    if lang == config["source_language"]:
        return paths.INSTRUCTIONS.format(dataset=dataset)
    return paths.TRANSLATION.format(dataset=dataset, lang=lang)


def mixture_sources(config: dict, wildcards) -> dict[str, str]:
    """Per part of the mixture (a language, or `crosslingual`), the records it is drawn from.

    The ablation (`no-crosslingual`) reads the cross-lingual instructions too: how many there are decides
    the realised counts of every part when a part falls short (crosslingual.mixture.shortfall), and the
    ablation keeps the full mixture's records of the other parts."""
    parts = {
        lang: language_data(config, wildcards.dataset, lang)
        for lang in grid.mixture_languages(config, wildcards.mixture)
    }
    if grid.is_share_mixture(wildcards.mixture):
        parts[grid.CROSSLINGUAL] = paths.CROSSLINGUAL
    return parts


def mixture_indexes(config: dict, wildcards) -> list[str]:
    """The line indexes of the mixture's part files (`paths.lines_index`): the builder reads them instead of
    parsing every part file again for every mixture."""
    return [paths.lines_index(path) for path in mixture_sources(config, wildcards).values()]


def crosslingual_sources(config: dict) -> list[str]:
    from polyinstruct.mixtures import crosslingual

    spec = config["crosslingual"]["parallel"]
    found = [
        path
        for pivot, lang in grid.crosslingual_pairs(config)
        for path in crosslingual.parallel_paths(spec, pivot, lang).values()
    ]
    return list(dict.fromkeys(found))


def mixture_settings(config: dict, wildcards) -> dict | None:
    """Shares and budget of a share-drawn mixture (crosslingual and its ablation); None for the others."""
    if not grid.is_share_mixture(wildcards.mixture):
        return None
    return {
        **config["crosslingual"]["mixture"],
        "drop": [grid.CROSSLINGUAL] if wildcards.mixture == grid.NO_CROSSLINGUAL else [],
    }


# ---- train ------------------------------------------------------------------------------------------


def train_settings(config: dict, method: str, dataset: str | None = None) -> dict:
    """The settings of one method's runs: train.* with the method's own overrides applied, and the
    dataset's epochs (`datasets.<name>.epochs`) over both."""
    train = config["train"]
    settings = {k: train[k] for k in TRAIN_KEYS}
    own = train[method]
    settings.update({k: own[k] for k in METHOD_OVERRIDES if own.get(k) is not None})
    if dataset is not None and config["datasets"].get(dataset, {}).get("epochs") is not None:
        settings["epochs"] = config["datasets"][dataset]["epochs"]
    # settings added later are left out while unused, so existing runs keep their params (and are not re-run)
    if settings["batching"] != "tokens":
        for key in TOKEN_BATCHING_KEYS:
            del settings[key]
    if settings["min_lr_ratio"] is None:
        del settings["min_lr_ratio"]
    if method == "lora":
        settings["lora"] = {k: own[k] for k in ("r", "alpha", "dropout", "target_modules")}
    else:
        settings["deepspeed"] = own["deepspeed"]
    return settings


def train_resource(name: str):
    """A training job's `name` resource (mem_mb, runtime) by its method."""
    return lambda wildcards: TRAIN_RESOURCES[wildcards.method][name]


def trained_weights(config: dict, run: Run, merged: bool = False) -> dict[str, object]:
    """The weights a tuned run uses (the merged LoRA weights when `merged`); for the `selected` lr, the
    sweep's choice and every candidate's weights."""
    if run.lr != paths.SELECTED:
        return {"weights": run.weights(merged=merged)}
    return {
        "selection": run.selection(),
        "candidates": [
            Run(run.model, run.method, run.dataset, run.mixture, lr).weights(merged=merged)
            for lr in grid.learning_rates(config, run.method, run.model)
        ],
    }


def run_weights(config: dict, run: Run, merged: bool = False) -> dict[str, object]:
    return {} if run.is_base else trained_weights(config, run, merged)


def lr_candidates(config: dict, wildcards) -> dict[str, dict]:
    """Per {lr} of a sweep, the files its winner is chosen from: its metrics, and per selection language the
    dev responses' language ID (langid, surface), surface metrics (spelling) and relevance judge rows."""
    w = wildcards
    weights = grid.lr_selection_weights(config)
    languages = grid.lr_selection_languages(config) if grid.sweep_evaluated(config) else []
    evalset = grid.lr_selection_evalset(config) if languages else None
    candidates = {}
    for lr in grid.learning_rates(config, w.method, w.model):
        run = Run(w.model, w.method, w.dataset, w.mixture, lr)
        files = {"metrics": run.fill(paths.TRAIN_METRICS)}
        files["langid"] = {lang: run.fill(paths.LANGID, evalset=evalset, lang=lang) for lang in languages}
        if "spelling" in weights:
            files["spelling"] = {lang: run.fill(paths.SURFACE, evalset=evalset, lang=lang) for lang in languages}
        if "relevance" in weights:
            files["relevance"] = {
                lang: run.fill(paths.JUDGE, protocol="relevance", evalset=evalset, lang=lang) for lang in languages
            }
        candidates[lr] = files
    return candidates


def lr_selection(config: dict, wildcards) -> list[str]:
    return [
        path
        for files in lr_candidates(config, wildcards).values()
        for value in files.values()
        for path in ([value] if isinstance(value, str) else value.values())
    ]


def prompt_template(config: dict, wildcards) -> str:
    """Tuned runs are prompted the way they were trained (`train.template`); base runs with the model's
    `prompt_template` (default: `train.template` too)."""
    if wildcards.method == paths.BASE:
        return grid.untuned_template(config, wildcards.model)
    return config["train"]["template"]


# ---- generate ---------------------------------------------------------------------------------------


def generate(config: dict, wildcards) -> dict[str, object]:
    """The model, the eval set, and a tuned run's weights (vLLM with `generate.vllm.lora: merged` serves
    LoRA runs from the merged weights)."""
    g = config["generate"]
    merged = g["backend"] == "vllm" and g["vllm"]["lora"] == "merged"
    return {
        "model": paths.MODEL.format(model=wildcards.model),
        "eval": paths.EVAL.format(evalset=wildcards.evalset, lang=wildcards.lang),
        **run_weights(config, Run.of(wildcards), merged),
    }


def run_info(wildcards) -> dict[str, str]:
    return Run.of(wildcards).keys


def engine_env(engine: str) -> str:
    """The conda env of a job that runs `engine` (vLLM pins its own torch)."""
    return "../envs/vllm.yaml" if engine == "vllm" else "../envs/torch.yaml"


# ---- score: judging, summaries, surface metrics, agreement ------------------------------------------


def judge_settings(config: dict, protocol: str) -> dict:
    """Everything one judging job of `protocol` needs: backend, its settings, the protocol block, cache, prices.

    The backend is score.judge's, or the protocol's own (`<block>.judge`, e.g. surface.relevance.judge).
    Only the selected backend's settings are included, so editing the other one re-runs nothing.
    """
    from polyinstruct.score.judge import protocols

    judge = config["score"]["judge"]
    own = grid.protocol_judge(config, protocol)
    settings = {
        **grid.judge_backend_settings(config, protocol),
        "template_dir": judge["template_dir"],
        "cache_dir": judge["cache_dir"],
        "chunk_size": judge["chunk_size"],
        "prices": judge["prices"],
    }
    block = {k: v for k, v in protocols.get(protocol).block(config).items() if k not in ("enabled", "judge")}
    settings["protocol"] = block
    if settings["backend"] == "openai":
        settings["openai"] = {**judge["openai"], **(own.get("openai") or {})}
        if block.get("response_format"):
            settings["openai"]["response_format"] = block["response_format"]
    else:
        settings["local"] = {
            "batch_size": own.get("batch_size") or judge["batch_size"],
            "max_new_tokens": own.get("max_new_tokens") or judge["max_new_tokens"],
            "response_prefix": block.get("response_prefix", ""),
            "template": judge["prompt_template"] or grid.untuned_template(config, settings["model"]),
        }
        if settings["engine"] == "vllm":
            settings["generate"] = {k: config["generate"][k] for k in ("vllm", "repetition_penalty")}
    return settings


def judge_templates(config: dict, protocol: str, lang: str) -> list[str]:
    """Template files a job reads (translated ones where present, the local copy of a fetched
    judge_prompts file), so editing one re-runs its jobs."""
    from polyinstruct.score.judge.templates import source

    block = judge_settings(config, protocol)["protocol"]
    directory = config["score"]["judge"]["template_dir"]
    return sorted(
        {source(directory, name, lang, block.get("judge_prompts"))[1] for name in block["templates"].values()}
    )


def judge_model_input(config: dict, protocol: str | None = None) -> dict[str, str]:
    """The local judge model's pointer (of `protocol`'s judge), or nothing for an API judge."""
    backend = grid.judge_backend_settings(config, protocol)
    if backend["backend"] == "local":
        return {"judge_model": paths.MODEL.format(model=backend["model"])}
    return {}


def judge(config: dict, wildcards) -> dict[str, object]:
    w = wildcards
    return {
        "responses": Run.of(w).fill(paths.RESPONSES, evalset=w.evalset, lang=w.lang),
        **judge_model_input(config, w.protocol),
        "templates": judge_templates(config, w.protocol, w.lang),
    }


def judge_pairwise(config: dict, wildcards) -> dict[str, object]:
    w = wildcards
    return {
        "first": Run.of(w).fill(paths.RESPONSES, evalset=w.evalset, lang=w.lang),
        "second": Run.of(w, paths.BASELINE_PREFIX).fill(paths.RESPONSES, evalset=w.evalset, lang=w.lang),
        **judge_model_input(config),
        "templates": judge_templates(config, w.protocol, w.lang),
    }


def pair_names(wildcards) -> list[str]:
    return [Run.of(wildcards).path, Run.of(wildcards, paths.BASELINE_PREFIX).path]


def score_summary(config: dict, wildcards) -> dict[str, str]:
    """Language ID and the rows of every one-response protocol of one (run, eval set, language)."""
    w = wildcards
    run = Run.of(w)
    inputs = {"langid": run.fill(paths.LANGID, evalset=w.evalset, lang=w.lang)}
    for protocol in grid.single_protocols(config):
        inputs[protocol] = run.fill(paths.JUDGE, protocol=protocol, evalset=w.evalset, lang=w.lang)
    return inputs


def pairwise_summary(config: dict, wildcards) -> dict[str, str]:
    w = wildcards
    first, second = Run.of(w), Run.of(w, paths.BASELINE_PREFIX)
    return {
        "rows": first.fill(paths.PAIRWISE, second, protocol=w.protocol, evalset=w.evalset, lang=w.lang),
        "langid_first": first.fill(paths.LANGID, evalset=w.evalset, lang=w.lang),
        "langid_second": second.fill(paths.LANGID, evalset=w.evalset, lang=w.lang),
    }


def agreement_seed(config: dict) -> int:
    seed = config["agreement"]["seed"]
    return config["seed"] if seed is None else seed


def judge_env(config: dict, protocol: str | None = None) -> str:
    settings = grid.judge_backend_settings(config, protocol)
    return engine_env(settings["engine"]) if settings["backend"] == "local" else "../envs/torch.yaml"


def judge_resource(config: dict, name: str):
    """A judging job's `gpu` (local judge) or `judge_api` (API judge, capped with --resources judge_api=N)
    resource, by its protocol's judge."""
    wanted = {"gpu": "local", "judge_api": "openai"}[name]
    return lambda wildcards: int(grid.judge_backend_settings(config, wildcards.protocol)["backend"] == wanted)


def judge_plan_settings(config: dict) -> dict[str, dict]:
    return {p: judge_settings(config, p) for p in [*grid.single_protocols(config), *grid.pairwise_protocols(config)]}


def judge_plan_models(config: dict) -> dict[str, str]:
    """{protocol: pointer file} of every protocol a local model judges, for the judge dry run."""
    protocols = [*grid.single_protocols(config), *grid.pairwise_protocols(config)]
    return {p: path for p in protocols for path in judge_model_input(config, p).values()}


# ---- mt and lm_eval ---------------------------------------------------------------------------------


def mt_files(config: dict, wildcards) -> dict[str, str]:
    from polyinstruct.mt import mt_eval

    spec = config["mt_eval"]["testsets"][wildcards.testset]
    return mt_eval.files(spec, wildcards.src, wildcards.tgt, wildcards.testset)


def mt_translate(config: dict, wildcards) -> dict[str, object]:
    w = wildcards
    keys = {"testset": w.testset, "src": w.src, "tgt": w.tgt}
    return {
        "model": paths.MODEL.format(model=w.model),
        "segments": paths.MT_SEGMENTS.format(**keys),
        "prompts": f"{config['crosslingual']['prompts_dir']}/{config['mt_eval']['prompt_language']}.yaml",
        **run_weights(config, Run.of(w)),
    }


def comet_gpus(config: dict) -> int:
    return int(config["mt_eval"]["comet"]["gpus"])


def lm_eval(config: dict, wildcards) -> dict[str, object]:
    return {
        "model": paths.MODEL.format(model=wildcards.model),
        **run_weights(config, Run.of(wildcards), merged=config["lm_eval"]["lora"] == "merged"),
    }
