"""The experiment grid a config declares: mixtures, runs (`paths.Run`), learning rates, shards, pairs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from polyinstruct.io import InputError
from polyinstruct.workflow.paths import SELECTED, Run


def lr_token(lr: float) -> str:
    """The {lr} wildcard: a short, exact spelling of the learning rate (3e-4 -> '0.0003')."""
    return f"{float(lr):g}"


def mixture_ids(config: dict) -> list[str]:
    source = config["source_language"]
    others = [lang for lang in config["languages"] if lang != source]
    ids: list[str] = []
    for kind in config["mixtures"]["kinds"]:
        if kind == "english-only":
            ids.append(f"mono-{source}")
        elif kind == "monolingual":
            ids.extend(f"mono-{lang}" for lang in others)
        elif kind == "multilingual":
            ids.append("multilingual")
        elif kind == "downsampled":
            ids.append("downsampled")
        elif kind == "sampled":
            ids.append("sampled")
        elif kind == CROSSLINGUAL:
            ids += [CROSSLINGUAL, *([NO_CROSSLINGUAL] if config["crosslingual"]["ablation"] else [])]
    return list(dict.fromkeys(ids))


CROSSLINGUAL = "crosslingual"  # the mixture of instruction data and cross-lingual instructions (BayLing 2)
NO_CROSSLINGUAL = "no-crosslingual"  # its ablation: the same instruction records, no cross-lingual part


def is_share_mixture(mixture: str) -> bool:
    return mixture in (CROSSLINGUAL, NO_CROSSLINGUAL)


def crosslingual_pairs(config: dict) -> list[tuple[str, str]]:
    """(pivot, language) of every parallel corpus the cross-lingual instructions are built from."""
    x = config["crosslingual"]
    return [(pivot, lang) for pivot in x["pivots"] for lang in x["languages"] if lang != pivot]


def mixture_languages(config: dict, mixture: str) -> list[str]:
    """Languages whose data a mixture reads: editing another language's data leaves it alone."""
    if mixture.startswith("mono-"):
        return [mixture[len("mono-") :]]
    if is_share_mixture(mixture):
        return [key for key in config["crosslingual"]["mixture"]["shares"] if key != CROSSLINGUAL]
    return list(config["languages"])


def mixture_datasets(config: dict) -> list[str]:
    return list(config["mixtures"]["datasets"] or config["datasets"])


def eval_languages(config: dict) -> list[str]:
    return list(config["eval_languages"] or config["languages"])


def translation_languages(config: dict) -> list[str]:
    return [lang for lang in config["languages"] if lang != config["source_language"]]


def learning_rates(config: dict, method: str, model: str | None = None) -> list[str]:
    """The {lr} tokens trained for a method (and model): the model's own list for the method
    (`models.<name>.learning_rates`, BayLing 2's 2e-6 for Llama-3-8B), else the method's, else
    train.learning_rates."""
    own = (config["models"].get(model) or {}).get("learning_rates") or {} if model else {}
    rates = own.get(method) or config["train"][method].get("learning_rates") or config["train"]["learning_rates"]
    return list(dict.fromkeys(lr_token(lr) for lr in rates))


def selects_lr(config: dict) -> bool:
    return config["train"]["lr_selection"]["criterion"] != "none"


def sweep_evaluated(config: dict) -> bool:
    """Whether every sweep point answers the selection eval set (criteria scored on its responses)."""
    return config["train"]["lr_selection"]["criterion"] in ("langid", "surface")


def studied_models(config: dict) -> list[str]:
    """The models trained and evaluated: every configured model but a judge_only one (prepared for judging only)."""
    return [model for model, spec in config["models"].items() if not (spec or {}).get("judge_only")]


def configuration(model: str, method: str, dataset: str, mixture: str) -> str:
    return f"{model}/{method}/{dataset}/{mixture}"


def configured(config: dict, model: str, method: str, dataset: str, mixture: str) -> bool:
    """Whether `train.configurations` (patterns of model/method/dataset/mixture; empty = all) keeps a run."""
    from fnmatch import fnmatchcase

    patterns = config["train"].get("configurations") or []
    name = configuration(model, method, dataset, mixture)
    return not patterns or any(fnmatchcase(name, p) for p in patterns)


def training_runs(config: dict) -> list[Run]:
    """Every (model, method, dataset, mixture, lr) that is trained, sweep points included: the product of
    grid models, methods, datasets and mixtures, kept by `train.configurations` when it lists any."""
    return [
        Run(model, method, dataset, mixture, lr)
        for model in studied_models(config)
        for method in config["train"]["methods"]
        for dataset in mixture_datasets(config)
        for mixture in mixture_ids(config)
        if configured(config, model, method, dataset, mixture)
        for lr in learning_rates(config, method, model)
    ]


def runs(config: dict) -> list[Run]:
    """The runs evaluated: base models first, then the trained ones (the sweep winner, when selecting)."""
    result = [Run.base(model) for model in studied_models(config)]
    if not selects_lr(config):
        return result + training_runs(config)
    winners = dict.fromkeys(Run(r.model, r.method, r.dataset, r.mixture, SELECTED) for r in training_runs(config))
    return result + list(winners)


def lr_selection_languages(config: dict) -> list[str]:
    chosen = config["train"]["lr_selection"]["languages"] or eval_languages(config)
    return [lang for lang in chosen if lang != config["source_language"]]


def lr_selection_evalset(config: dict) -> str:
    return config["train"]["lr_selection"]["evalset"] or next(iter(config["evalsets"]))


#: Surface metrics the `surface` criterion can weigh (Chirkova & Nikoulina's Fig. 3).
SURFACE_METRICS = ("langid", "spelling", "relevance")


def lr_selection_weights(config: dict) -> dict[str, float]:
    """{metric: weight} of the `surface` criterion, metrics with weight 0 left out; {} for other criteria."""
    selection = config["train"]["lr_selection"]
    if selection["criterion"] != "surface":
        return {}
    return {m: float(w) for m, w in selection["weights"].items() if w}


def sweep_units(config: dict) -> list[tuple[Run, str, str]]:
    """(sweep point, eval set, language) of every answer set the lr selection scores (empty unless the
    criterion reads responses: langid, surface)."""
    if not sweep_evaluated(config):
        return []
    evalset = lr_selection_evalset(config)
    return [(run, evalset, lang) for run in training_runs(config) for lang in lr_selection_languages(config)]


def sweep_protocols(config: dict) -> list[str]:
    """Judge protocols run on the sweep points for the selection (relevance, when the surface criterion
    weighs it)."""
    return ["relevance"] if "relevance" in lr_selection_weights(config) else []


def judge_model(config: dict, protocol: str | None = None) -> str:
    """The model under `models` that judges (`protocol`'s own judge model, e.g. surface.relevance.judge.model,
    else score.judge.model, else the first model)."""
    own = protocol_judge(config, protocol).get("model")
    return own or config["score"]["judge"]["model"] or next(iter(config["models"]))


def protocol_judge(config: dict, protocol: str | None) -> dict:
    """The judge overrides of a protocol's block (`<block>.judge`, e.g. surface.relevance.judge), {} if none."""
    if protocol is None:
        return {}
    from polyinstruct.score.judge import protocols

    return protocols.get(protocol).block(config).get("judge") or {}


def untuned_template(config: dict, model: str) -> str:
    """How a model of `models` is prompted when used untuned (its base run, as judge, as llm translator):
    `models.<name>.prompt_template`, else `train.template` (a base model without a chat template is then
    prompted the way its tuned runs are trained)."""
    return (config["models"].get(model) or {}).get("prompt_template") or config["train"]["template"]


PLANNING_KEYS = ("num_items", "turns", "num_segments")  # sizes only the planning summary reads
#: Optional settings of eval sets and MT test sets that are left out of a rule's params while unset (None or
#: empty), so adding one to the schema re-runs nothing. Whatever reads such params reads them with
#: `spec.get(key)` (tests/test_bayling.py checks every script and the modules they hand a spec to).
OPTIONAL_KEYS = ("limit", "dev_lines", "refs")


def without_planning_keys(spec: dict) -> dict:
    """An eval set's or MT test set's spec as its rule's params: the planning-only sizes left out, so
    setting or editing them re-runs nothing, and the unset OPTIONAL_KEYS too (added after results existed), nor
    a zero `offset`."""
    return {
        k: v
        for k, v in spec.items()
        if k not in PLANNING_KEYS
        and not (k in OPTIONAL_KEYS and (v is None or v == {} or v == []))
        and not (k == "offset" and not v)
    }


def count_records(spec: dict, name: str) -> int:
    """Records in a dataset's source, known at planning time, so shards can be wildcards.

    Local JSONL lines are counted (an upper bound: normalisation may drop some, leaving the
    last shard short or empty); hub datasets need `num_records` or the hub's split metadata.
    """
    if spec.get("num_records") is not None:
        return int(spec["num_records"])
    if spec.get("path"):
        from polyinstruct.data import sources

        if sources.is_url(spec["path"]):
            raise InputError(
                f"config key 'datasets.{name}.num_records': set it for '{spec['path']}' (a URL is "
                f"fetched when the workflow runs, and planning downloads nothing)"
            )
        path = Path(spec["path"])
        if not path.exists():
            raise InputError(f"config key 'datasets.{name}.path': file '{path}' does not exist")
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            with open(path, "rb") as fh:
                return sum(1 for line in fh if line.strip())
        if suffix == ".json":
            with open(path, encoding="utf-8") as fh:
                return len(json.load(fh))
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        raise InputError(f"config key 'datasets.{name}.path': unsupported file type '{suffix}' (json, jsonl, parquet)")
    import datasets

    builder = datasets.load_dataset_builder(spec["hub"], spec.get("hub_config"), revision=spec.get("revision"))
    splits = builder.info.splits or {}
    if spec["split"] not in splits:
        raise InputError(
            f"config key 'datasets.{name}.num_records': the hub does not list the size of split "
            f"'{spec['split']}' of '{spec['hub']}'; set num_records"
        )
    return splits[spec["split"]].num_examples


def shard_ids(config: dict, dataset: str) -> list[str]:
    size = config["translate"]["shard_size"]
    spec = config["datasets"][dataset]
    count = count_records(spec, dataset)
    if spec.get("limit") is not None:
        count = min(count, spec["limit"])
    n = max(1, math.ceil(count / size))
    width = max(3, len(str(n - 1)))
    return [f"{i:0{width}d}" for i in range(n)]


def single_protocols(config: dict) -> list[str]:
    """Protocols judging one response at a time, in config order, then the enabled surface-metric protocols
    (relevance when surface.relevance.enabled)."""
    from polyinstruct.score.judge import protocols

    judged = [p for p in config["score"]["judge"]["protocols"] if not protocols.get(p).pairwise]
    surface = [name for name, p in protocols.REGISTRY.items() if p.surface_metric and p.block(config)["enabled"]]
    return judged + surface


def pairwise_protocols(config: dict) -> list[str]:
    from polyinstruct.score.judge import protocols

    return [p for p in config["score"]["judge"]["protocols"] if protocols.get(p).pairwise]


def judges_pairwise(config: dict) -> bool:
    return bool(pairwise_protocols(config))


def agreement_protocol(config: dict) -> str | None:
    """The pairwise protocol whose verdicts are compared with human votes (the first configured)."""
    return next(iter(pairwise_protocols(config)), None)


def baseline_path(config: dict, run: Run, lang: str, protocol: str) -> str:
    """The run path `score.judge.<protocol>.baseline` names for `run` answering in `lang`."""
    pattern = config["score"]["judge"][protocol]["baseline"]
    try:
        return pattern.format(model=run.model, method=run.method, dataset=run.dataset, lr=run.lr, lang=lang)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"config key 'score.judge.{protocol}.baseline': {pattern!r} has an unknown placeholder "
            f"{exc} (allowed: {{model}}, {{method}}, {{dataset}}, {{lr}}, {{lang}})"
        ) from None


def pairwise_pairs(config: dict, protocol: str) -> list[tuple[Run, str, Run]]:
    """(run, language, baseline run) for every run whose baseline is another run of the grid.

    Runs whose baseline path is not in the grid (e.g. base runs, for a mixture baseline) have no pair;
    a baseline that matches no run at all is an error (see config checks).
    """
    evaluated = runs(config)
    by_path = {r.path: r for r in evaluated}
    pairs = []
    for run in evaluated:
        for lang in eval_languages(config):
            baseline = by_path.get(baseline_path(config, run, lang, protocol))
            if baseline is not None and baseline != run:
                pairs.append((run, lang, baseline))
    return pairs


def judge_backend_settings(config: dict, protocol: str | None = None) -> dict:
    """Who answers `protocol`'s prompts: score.judge's backend, model and engine, or the protocol's own
    (`<block>.judge`: relevance asks Llama-2-chat-7B while the criteria go to GPT-3.5)."""
    judge, own = config["score"]["judge"], protocol_judge(config, protocol)
    return {
        "backend": own.get("backend") or judge["backend"],
        "model": judge_model(config, protocol),
        "engine": own.get("engine") or judge["engine"] or config["generate"]["backend"],
    }
