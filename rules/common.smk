# Config validation, wildcard constraints and the input functions the rules share.
# Everything else lives in the polyinstruct package (grid.py holds the experiment grid).
import re

from polyinstruct import config as configuration
from polyinstruct import grid
from polyinstruct import report_figures as figures
from polyinstruct import significance
from polyinstruct import rule_inputs as inputs
from polyinstruct import sources
from polyinstruct.fingerprint import fingerprint

try:
    config = configuration.load(
        config, workflow.source_path("../schemas/config.schema.yaml"), repo=workflow.basedir
    )
except configuration.ConfigError as error:
    raise WorkflowError(str(error))

RUNS = grid.runs(config)
MIXTURES = grid.mixture_ids(config)
EVAL_LANGUAGES = grid.eval_languages(config)
JUDGE_MODEL = grid.judge_model(config)
SINGLE_PROTOCOLS = grid.single_protocols(config)
GENERATE_ENV = inputs.engine_env(config["generate"]["backend"])
JUDGE_ENV = inputs.judge_env(config)
JUDGE_GPUS = int(config["score"]["judge"]["backend"] == "local")
JUDGE_API = int(config["score"]["judge"]["backend"] == "openai")  # cap concurrent API jobs with --resources judge_api=N
SHARDS = {dataset: grid.shard_ids(config, dataset) for dataset in config["datasets"]}


def _alternatives(values):
    return "|".join(re.escape(str(v)) for v in sorted(set(values)))


wildcard_constraints:
    dataset=_alternatives([*config["datasets"], grid.NONE]),
    evalset=_alternatives(config["evalsets"]),
    lang=_alternatives([*config["languages"], *EVAL_LANGUAGES]),
    mixture=_alternatives([*MIXTURES, grid.NONE]),
    model=_alternatives(config["models"]),
    method=_alternatives([*config["train"]["methods"], grid.BASE]),
    lr=r"[0-9][0-9.e+-]*|selected",
    shard=r"\d+",
    protocol=_alternatives(grid.single_protocols(config) or ["chen_single"]),
    b_model=_alternatives(config["models"]),
    b_method=_alternatives([*config["train"]["methods"], grid.BASE]),
    b_dataset=_alternatives([*config["datasets"], grid.NONE]),
    b_mixture=_alternatives([*MIXTURES, grid.NONE]),
    b_lr=r"[0-9][0-9.e+-]*|selected",
    testset=_alternatives(config["mt_eval"]["testsets"] or ["none"]),
    src=_alternatives(inputs.mt_languages(config) or ["none"]),
    tgt=_alternatives(inputs.mt_languages(config) or ["none"]),
    task=_alternatives(inputs.lm_eval_tasks(config) or ["none"]),




def run_paths(pattern, runs=None, **extra):
    """Expand a path pattern with {model}/{method}/{dataset}/{mixture}/{lr} over the runs of the grid."""
    runs = RUNS if runs is None else runs
    return [
        pattern.format(model=r.model, method=r.method, dataset=r.dataset, mixture=r.mixture, lr=r.lr, **extra)
        for r in runs
    ]


def run_info(wildcards):
    return {k: wildcards[k] for k in ("model", "method", "dataset", "mixture", "lr")}


def eval_targets(pattern):
    return [
        path
        for evalset in config["evalsets"]
        for lang in EVAL_LANGUAGES
        for path in run_paths(pattern, evalset=evalset, lang=lang)
    ]


def surface_targets():
    return [
        path
        for evalset in inputs.surface_evalsets(config)
        for lang in EVAL_LANGUAGES
        for path in run_paths(
            "results/score/surface/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json",
            evalset=evalset,
            lang=lang,
        )
    ]


def judge_calls_targets():
    """The calls file of every judging job (one-response protocols and pairwise comparisons)."""
    single = [
        path
        for protocol in SINGLE_PROTOCOLS
        for evalset in config["evalsets"]
        for lang in EVAL_LANGUAGES
        for path in run_paths(
            "results/score/judge/{protocol}/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.calls.json",
            protocol=protocol,
            evalset=evalset,
            lang=lang,
        )
    ]
    pairs = inputs.pair_targets(config, "results/score/pairwise/{first}/{evalset}/{lang}/vs/{second}.calls.json")
    return single + pairs


def report_targets():
    """The optional report parts the config asks for."""
    targets = []
    if grid.judges_pairwise(config):
        targets += rules.report_pairwise.output
    if config["agreement"]["human_votes"]:
        targets += rules.report_agreement.output
    if surface_targets() or "relevance" in SINGLE_PROTOCOLS:
        targets += rules.report_surface.output
    if inputs.benchmarks_configured(config):
        targets += rules.report_benchmarks.output
    if figures.plans_size_figure(config, SINGLE_PROTOCOLS):
        targets += rules.report_size_figure.output
    if figures.category_protocols(SINGLE_PROTOCOLS):
        targets += rules.report_category_radar.output
    if figures.plans_criteria_heatmap(SINGLE_PROTOCOLS):
        targets += rules.report_criteria_heatmap.output
    return targets


def all_targets():
    """The report, and every training artifact (sweep points, selections, merged weights) even if unreported."""
    return [*rules.all_report.input, *inputs.train_targets(config)]
