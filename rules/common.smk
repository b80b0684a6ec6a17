# Config validation, wildcard constraints and the names the rules share. Paths come from
# polyinstruct/workflow/paths.py, job lists from targets.py, input functions from inputs.py.
import re

from polyinstruct.report import browse
from polyinstruct.report import fidelity
from polyinstruct.report import figures
from polyinstruct.report import mt_lm_eval
from polyinstruct.report import significance
from polyinstruct.data import sources
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import grid, paths, targets
from polyinstruct.workflow import collector, inputs, script_sources
from polyinstruct.workflow.fingerprint import add_code_params
from polyinstruct.workflow.signatures import pin_signatures
from polyinstruct.workflow.paths import log, timing

try:
    config = configuration.load(
        config, workflow.source_path("../schemas/config.schema.yaml"), repo=workflow.basedir
    )
except configuration.ConfigError as error:
    raise WorkflowError(str(error))

EVAL_LANGUAGES = grid.eval_languages(config)
SINGLE_PROTOCOLS = grid.single_protocols(config)
GENERATE_ENV = inputs.engine_env(config["generate"]["backend"])
JUDGE_ENV = inputs.judge_env(config)
JUDGE_GPUS = int(config["score"]["judge"]["backend"] == "local")
JUDGE_API = int(config["score"]["judge"]["backend"] == "openai")  # cap concurrent API jobs with --resources judge_api=N
SHARDS = {dataset: grid.shard_ids(config, dataset) for dataset in config["datasets"]}
FIDELITY_CATEGORY = fidelity.CATEGORY
SCORES_CATEGORY = "2. Judge scores"  # right after language fidelity in the HTML report


def _alternatives(values):
    return "|".join(re.escape(str(v)) for v in sorted(set(values)))


wildcard_constraints:
    dataset=_alternatives([*config["datasets"], paths.NONE]),
    evalset=_alternatives(config["evalsets"]),
    lang=_alternatives([*config["languages"], *EVAL_LANGUAGES]),
    mixture=_alternatives([*grid.mixture_ids(config), paths.NONE]),
    model=_alternatives(config["models"]),
    method=_alternatives([*config["train"]["methods"], paths.BASE]),
    lr=rf"[0-9][0-9.e+-]*|{paths.SELECTED}",
    shard=r"\d+",
    protocol=_alternatives([*SINGLE_PROTOCOLS, *grid.pairwise_protocols(config)] or ["none"]),
    b_model=_alternatives(config["models"]),
    b_method=_alternatives([*config["train"]["methods"], paths.BASE]),
    b_dataset=_alternatives([*config["datasets"], paths.NONE]),
    b_mixture=_alternatives([*grid.mixture_ids(config), paths.NONE]),
    b_lr=rf"[0-9][0-9.e+-]*|{paths.SELECTED}",
    testset=_alternatives(config["mt_eval"]["testsets"] or ["none"]),
    src=_alternatives(targets.mt_languages(config) or ["none"]),
    tgt=_alternatives(targets.mt_languages(config) or ["none"]),
    task=_alternatives(targets.lm_eval_tasks(config) or ["none"]),
    family=_alternatives(figures.families(config) or ["none"]),
