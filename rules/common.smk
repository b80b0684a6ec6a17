# Config validation, wildcard constraints and the input functions the rules share.
# Everything else lives in the polyinstruct package (grid.py holds the experiment grid).
import re

from polyinstruct import config as configuration
from polyinstruct import grid
from polyinstruct import rule_inputs as inputs
from polyinstruct.fingerprint import fingerprint

try:
    config = configuration.load(config, workflow.source_path("../schemas/config.schema.yaml"))
except configuration.ConfigError as error:
    raise WorkflowError(str(error))

RUNS = grid.runs(config)
MIXTURES = grid.mixture_ids(config)
EVAL_LANGUAGES = grid.eval_languages(config)
JUDGE_MODEL = grid.judge_model(config)
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


def all_targets():
    """The report, and every training artifact (sweep points, selections, merged weights) even if unreported."""
    return [*rules.all_report.input, *inputs.train_targets(config)]
