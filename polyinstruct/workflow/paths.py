"""Every file the workflow writes, named once: the rules' `output:` patterns, and the paths that the input
functions, the targets, the report and the planner fill in.

A pattern is written with `{run}` (and `{baseline}`) standing for the run segment
`{model}/{method}/{dataset}/{mixture}/{lr}` (`{b_model}/.../{b_lr}`), expanded here into Snakemake's
wildcards. `Run.fill(pattern, ...)` gives one run's path. Each job's log and timing file mirror its
first output under `logs/`: `results/generate/R/e/fr.jsonl` logs to `logs/generate/R/e/fr.log` and
times to `logs/generate/R/e/fr.tsv` (Snakemake's `benchmark:`).
"""

from __future__ import annotations

from dataclasses import dataclass

RUN_KEYS = ("model", "method", "dataset", "mixture", "lr")
RUN = "/".join("{" + k + "}" for k in RUN_KEYS)
BASELINE_PREFIX = "b_"
BASELINE = "/".join("{" + BASELINE_PREFIX + k + "}" for k in RUN_KEYS)

BASE = "base"  # {method} of an untuned model
NONE = "none"  # {dataset} and {mixture} of an untuned model
BASE_LR = "0"  # {lr} of an untuned model
SELECTED = "selected"  # {lr} of the sweep winner, when train.lr_selection names a criterion
#: Folder of a trained run's weights: the LoRA adapter or the fully fine-tuned model; LoRA runs
#: folded into full weights keep them in MERGED beside it.
WEIGHTS = "weights"
MERGED = "merged"


def _pattern(text: str) -> str:
    return text.replace("{run}", RUN).replace("{baseline}", BASELINE)


#: a part file's line index (polyinstruct/mixtures/line_index.py), written beside it by the rule that writes it
LINES_INDEX = ".lines.arrow"


def lines_index(pattern: str) -> str:
    """The line index of the part file (instructions, translation, cross-lingual instructions) at `pattern`."""
    return f"{pattern}{LINES_INDEX}"


def log(pattern: str) -> str:
    """`logs/...` mirror of a `results/...` pattern: its stem (extensions dropped) + `.log`."""
    return f"logs/{_stem(pattern)}.log"


def timing(pattern: str) -> str:
    """Snakemake's per-job timing file (`benchmark:`) beside the job's log."""
    return f"logs/{_stem(pattern)}.tsv"


def _stem(pattern: str) -> str:
    if not pattern.startswith("results/"):
        raise ValueError(f"{pattern!r} is not under results/")
    head, _, leaf = pattern[len("results/") :].rpartition("/")
    dot = leaf.find(".", leaf.rfind("}") + 1)
    leaf = leaf[:dot] if dot >= 0 else leaf
    return f"{head}/{leaf}" if head else leaf


# ---- data (rules/data.smk) -------------------------------------------------------------------------
EXTERNAL = "results/external"  # fetched URLs: results/external/<scheme>/<host>/<path>
FETCHED = "results/external/{scheme}/{address}"
ARCHIVE = "results/external/{scheme}/{archive}"  # a fetched archive whose members are read
EXTRACTED = "results/external/{scheme}/{archive}.contents/{member}"
INSTRUCTIONS = "results/data/instructions/{dataset}.jsonl"
INSTRUCTIONS_MANIFEST = "results/data/instructions/{dataset}.manifest.json"
INSTRUCTIONS_INDEX = lines_index(INSTRUCTIONS)
EVAL = "results/data/eval/{evalset}/{lang}.jsonl"
EVAL_MANIFEST = "results/data/eval/{evalset}/{lang}.manifest.json"

# ---- translate (rules/translate.smk) -----------------------------------------------------------------
SHARD = "results/translate/{dataset}/{lang}/shard-{shard}.jsonl"
SHARD_QA = "results/translate/{dataset}/{lang}/shard-{shard}.qa.json"
TRANSLATION = "results/translate/{dataset}/{lang}.jsonl"
TRANSLATION_MANIFEST = "results/translate/{dataset}/{lang}.manifest.json"
TRANSLATION_INDEX = lines_index(TRANSLATION)
CT2_LLM = "results/models/{model}/ct2"  # CTranslate2 conversion of a causal LM of the grid
CT2_MT = "results/models/mt/ct2/{lang}"  # ... of the MT model into one target language
CT2_MODEL = "model.bin"

# ---- mixtures (rules/mixtures.smk) -------------------------------------------------------------------
CROSSLINGUAL = "results/crosslingual/instructions.jsonl"
CROSSLINGUAL_INDEX = lines_index(CROSSLINGUAL)
CROSSLINGUAL_MANIFEST = "results/crosslingual/manifest.json"
MIXTURE_TRAIN = "results/mixtures/{dataset}/{mixture}/train.jsonl"
MIXTURE_VALID = "results/mixtures/{dataset}/{mixture}/valid.jsonl"
MIXTURE_MANIFEST = "results/mixtures/{dataset}/{mixture}/manifest.json"

# ---- models (rules/models.smk) -----------------------------------------------------------------------
MODEL = "results/models/{model}/model.json"

# ---- train (rules/train.smk) -------------------------------------------------------------------------
TRAIN_RUN = _pattern("results/train/{run}")
TRAIN_WEIGHTS = f"{TRAIN_RUN}/{WEIGHTS}"
TRAIN_MERGED = f"{TRAIN_RUN}/{MERGED}"
TRAIN_EPOCHS = f"{TRAIN_RUN}/epochs"
TRAIN_METRICS = f"{TRAIN_RUN}/metrics.json"
TRAIN_CHECKPOINTS = f"{TRAIN_RUN}/checkpoints.json"
TRAIN_STATE = f"{TRAIN_RUN}/trainer_state.json"
TRAIN_LOG = f"{TRAIN_RUN}/train_log.jsonl"
SELECTION = "results/train/{model}/{method}/{dataset}/{mixture}/" + SELECTED + "/selection.json"

# ---- generate (rules/generate.smk) -------------------------------------------------------------------
RESPONSES = _pattern("results/generate/{run}/{evalset}/{lang}.jsonl")
RESPONSE_STATS = _pattern("results/generate/{run}/{evalset}/{lang}.stats.json")

# ---- score (rules/score.smk) -------------------------------------------------------------------------
LANGID = _pattern("results/score/langid/{run}/{evalset}/{lang}.jsonl")
JUDGE = _pattern("results/score/judge/{protocol}/{run}/{evalset}/{lang}.jsonl")
JUDGE_CALLS = _pattern("results/score/judge/{protocol}/{run}/{evalset}/{lang}.calls.json")
PAIRWISE = _pattern("results/score/pairwise/{protocol}/{run}/{evalset}/{lang}/vs/{baseline}.jsonl")
PAIRWISE_CALLS = _pattern("results/score/pairwise/{protocol}/{run}/{evalset}/{lang}/vs/{baseline}.calls.json")
SUMMARY_ROWS = _pattern("results/score/summary/{run}/{evalset}/{lang}.jsonl")
SUMMARY = _pattern("results/score/summary/{run}/{evalset}/{lang}.json")
PAIR_SUMMARY_ROWS = _pattern("results/score/pairwise_summary/{protocol}/{run}/{evalset}/{lang}/vs/{baseline}.jsonl")
PAIR_SUMMARY = _pattern("results/score/pairwise_summary/{protocol}/{run}/{evalset}/{lang}/vs/{baseline}.json")
SURFACE_ROWS = _pattern("results/score/surface/{run}/{evalset}/{lang}.jsonl")
SURFACE = _pattern("results/score/surface/{run}/{evalset}/{lang}.json")
AGREEMENT = "results/score/agreement/{evalset}/{lang}.json"
JUDGE_PLAN = "results/score/judge_plan.json"

# ---- mt (rules/mt.smk) -------------------------------------------------------------------------------
MT_SEGMENTS = "results/mt/data/{testset}/{src}-{tgt}.jsonl"
MT_SOURCE = "results/mt/data/{testset}/{src}-{tgt}.src"
MT_REFERENCE = "results/mt/data/{testset}/{src}-{tgt}.ref"
MT_MANIFEST = "results/mt/data/{testset}/{src}-{tgt}.manifest.json"
MT_TRANSLATIONS = _pattern("results/mt/translations/{run}/{testset}/{src}-{tgt}.jsonl")
MT_HYPOTHESES = _pattern("results/mt/translations/{run}/{testset}/{src}-{tgt}.hyp")
MT_SCORES = _pattern("results/mt/scores/{run}/{testset}/{src}-{tgt}.json")
MT_COMET = _pattern("results/mt/comet/{run}/{testset}/{src}-{tgt}.json")

# ---- lm_eval (rules/lm_eval.smk) ---------------------------------------------------------------------
LM_EVAL = _pattern("results/lm_eval/{run}/{task}.json")

# ---- report (rules/report.smk) -----------------------------------------------------------------------
REPORT = "results/report"
SIGNIFICANCE = f"{REPORT}/significance.csv"
FIDELITY_MD = f"{REPORT}/language_fidelity.md"  # the report opens with these (category "1. Language fidelity")
FIDELITY_CSV = f"{REPORT}/language_fidelity.csv"
FIDELITY_FIGURE = f"{REPORT}/language_fidelity.png"
FIDELITY_COMPARISONS = f"{REPORT}/language_fidelity_vs_reference.csv"
SCORES_CSV = f"{REPORT}/scores.csv"
SCORES_MD = f"{REPORT}/scores.md"
SCORES_FIGURE = f"{REPORT}/scores_by_language.png"
GATING_FIGURE = f"{REPORT}/gating_drop.png"
# Chen et al.'s figures: score vs size per family and method (Figs 2-4), the gating drop vs size (Fig 6),
# the families at one size (Fig 7)
SIZE_FIGURE = f"{REPORT}/score_vs_size/{{family}}_{{method}}.png"
DROP_SIZE_FIGURE = f"{REPORT}/gating_drop_vs_size.png"
FAMILIES_FIGURE = f"{REPORT}/families.png"
RADAR_FIGURE = f"{REPORT}/category_radar.png"
TURN_SCORES_CSV = f"{REPORT}/turn_scores.csv"
TURN_FIGURE = f"{REPORT}/scores_by_turn.png"
IMPROVEMENT_CSV = f"{REPORT}/multilingual_improvement.csv"
IMPROVEMENT_FIGURE = f"{REPORT}/multilingual_improvement.png"
CRITERIA_FIGURE = f"{REPORT}/criteria_heatmap.png"
CRITERIA_TRANSFER_FIGURE = f"{REPORT}/criteria_en_vs_non_en.png"
TASK_TYPE_FIGURE = f"{REPORT}/helpfulness_by_task_type.png"
SURFACE_BY_LR_FIGURE = f"{REPORT}/surface_by_lr.png"
PAIRWISE_CSV = f"{REPORT}/pairwise.csv"
PAIRWISE_MD = f"{REPORT}/pairwise.md"
POSITION_BIAS_FIGURE = f"{REPORT}/position_bias.png"
AGREEMENT_CSV = f"{REPORT}/agreement.csv"
AGREEMENT_MD = f"{REPORT}/agreement.md"
AGREEMENT_FIGURE = f"{REPORT}/agreement.png"
SURFACE_CSV = f"{REPORT}/surface.csv"
SURFACE_MD = f"{REPORT}/surface.md"
MT_LM_EVAL = f"{REPORT}/mt_lm_eval"
MT_CSV = f"{MT_LM_EVAL}/mt.csv"
MT_MD = f"{MT_LM_EVAL}/mt.md"
MT_TABLE1_CSV = f"{MT_LM_EVAL}/table1.csv"  # BayLing 2's Table 1: averages per direction group, base vs tuned
MT_TABLE1_MD = f"{MT_LM_EVAL}/table1.md"
LM_EVAL_CSV = f"{MT_LM_EVAL}/lm_eval.csv"
LM_EVAL_MD = f"{MT_LM_EVAL}/lm_eval.md"
MT_LM_EVAL_FIGURES = f"{MT_LM_EVAL}/figures"
BROWSE = f"{REPORT}/browse/index.html"  # the answer browser (polyinstruct/report/browse.py), open from disk
BROWSE_DATA = f"{REPORT}/browse/data"  # its data, one script per (eval set, language), loaded on demand
BROWSE_SCREENSHOT = f"{REPORT}/browse/screenshot.png"  # `make run` (when Chromium is installed), for the README
PLAN = "results/plan"

# ---- cluster (rules/cluster.smk) ---------------------------------------------------------------------
GPU_SMOKE = "results/cluster/gpu_smoke/{gpus}gpu.json"


@dataclass(frozen=True, order=True)
class Run:
    """One model to generate with: a base model (method `base`) or a fine-tuned one.

    Its path segment `{model}/{method}/{dataset}/{mixture}/{lr}` is the contract every stage after
    training shares; base runs use `none` for dataset and mixture and `0` for the lr.
    """

    model: str
    method: str
    dataset: str
    mixture: str
    lr: str

    @classmethod
    def base(cls, model: str) -> Run:
        return cls(model, BASE, NONE, NONE, BASE_LR)

    @classmethod
    def of(cls, wildcards, prefix: str = "") -> Run:
        """The run named by a job's wildcards (`prefix` "b_" for the baseline of a pairwise job)."""
        return cls(*(str(getattr(wildcards, prefix + k)) for k in RUN_KEYS))

    @classmethod
    def parse(cls, path: str) -> Run:
        parts = path.split("/")
        if len(parts) != len(RUN_KEYS):
            raise ValueError(f"{path!r} is not a run path ({RUN})")
        return cls(*parts)

    @property
    def keys(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in RUN_KEYS}

    @property
    def path(self) -> str:
        return "/".join(getattr(self, k) for k in RUN_KEYS)

    @property
    def is_base(self) -> bool:
        return self.method == BASE

    @property
    def label(self) -> str:
        """How tables, figures and the answer browser name the run."""
        return f"{self.model} base" if self.is_base else f"{self.model} {self.method} {self.mixture} lr={self.lr}"

    def with_dataset_label(self) -> str:
        return f"{self.label} ({self.dataset})"

    def fill(self, pattern: str, baseline: Run | None = None, **fields) -> str:
        """`pattern` with this run's (and the baseline's) keys and `fields` filled in."""
        keys = dict(self.keys)
        if baseline is not None:
            keys.update({BASELINE_PREFIX + k: v for k, v in baseline.keys.items()})
        return pattern.format(**keys, **fields)

    def weights(self, merged: bool = False) -> str:
        """The folder of a trained run's weights (the merged LoRA weights when `merged`)."""
        return self.fill(TRAIN_MERGED if merged and self.method == "lora" else TRAIN_WEIGHTS)

    def selection(self) -> str:
        return self.fill(SELECTION)


def labels(runs) -> dict[Run, str]:
    """`Run.label` of each run; runs whose labels collide (they differ in dataset only, e.g. Dolly and
    Dolly-DT) are told apart by their dataset."""
    runs = list(dict.fromkeys(runs))
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.label] = counts.get(run.label, 0) + 1
    return {run: run.with_dataset_label() if counts[run.label] > 1 else run.label for run in runs}
