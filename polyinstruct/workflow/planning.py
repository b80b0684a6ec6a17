"""A planning summary of an experiment before it runs: jobs, GPU-hours and judge calls (with their cost).

    python -m polyinstruct.workflow.planning [--configfile F ...]      (or: make plan CONFIG=configs/x.yaml)

prints a Markdown summary and writes results/plan/summary.json and summary.md. Three parts:

* Jobs per stage and rule, from the job families of `targets.jobs` (every job of the grid, whatever is
  already built; a test checks them against Snakemake's own dry run for every preset). With --jobs-from
  dag or dry-run the counts come from Snakemake itself (`snakemake --dag --forceall`, or the job stats of
  `snakemake -n --forceall`) in a subprocess with Hugging Face set offline, so nothing is downloaded.
  A rule's stage is the rules/<stage>.smk file defining it (`targets.RULE_STAGES`).
* GPU-hours per stage, estimated from the grid and the throughput figures under `plan` in the config
  (every one documented, with its default, in schemas/config.schema.yaml). The figures are per GPU;
  a job on k GPUs takes about 1/k of the time, the GPU-hours stay the same.
* Judge calls per protocol and their cost from `score.judge.prices` x the planned tokens.

Everything but `dry_run_jobs` is a pure function of the validated config (and of local files whose
sizes are known at plan time: instruction data, eval sets, MT test sets), testable without Snakemake.
Nothing is read from the hub: hub data need `datasets.<name>.num_records`, `evalsets.<name>.num_items`
or `mt_eval.testsets.<name>.num_segments`, and an error names the key when one is missing.
A model without `models.<name>.parameters` is a warning, not an error: the GPU-hours that need it are
left out of the totals and the warning says which (`--strict` makes warnings fatal).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import yaml

from polyinstruct.data import sources
from polyinstruct.io import InputError
from polyinstruct.train import efficiency
from polyinstruct.workflow import grid, inputs, paths, targets

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE_STAGE = "workflow"  # rules defined in the Snakefile itself (`all`)
OUT_DIR = paths.PLAN
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
PER_MILLION = 1e6
SCALE_PARAMETERS = 1e9  # plan.*_tokens_per_second are for a model of this size


# ---- config ----------------------------------------------------------------------------------------


def load_config(configfiles: list[str | Path] | None = None, repo: Path = REPO) -> dict:
    """The validated config (defaults filled in) Snakemake would see with
    `--configfile F ... --replace-workflow-config`; config.yaml when no file is given."""
    from snakemake.utils import update_config  # Snakemake's own merge of --configfile A B

    from polyinstruct.workflow import config as configuration

    files = [Path(f) for f in configfiles] if configfiles else [repo / "config.yaml"]
    raw: dict = {}
    for path in files:
        with open(path, encoding="utf-8") as fh:
            update_config(raw, yaml.safe_load(fh) or {})
    return configuration.load(raw, repo / "schemas/config.schema.yaml", repo=repo)


# ---- jobs: Snakemake's DAG, rules mapped to stages ---------------------------------------------------


def rule_stages() -> dict[str, str]:
    """{rule: stage}, the stage being the rules/<stage>.smk file that defines the rule."""
    return dict(targets.RULE_STAGES)


def parse_job_stats(output: str) -> dict[str, int]:
    """The first 'Job stats' table of Snakemake's output, as {rule: count} (in its order)."""
    counts: dict[str, int] = {}
    in_table = False
    for line in output.splitlines():
        parts = line.split()
        if not in_table:
            in_table = parts[:2] == ["job", "count"]
            continue
        if not parts or parts[0].startswith("-"):
            continue
        if parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


_DOT_NODE = re.compile(r'^\s*\d+\[label = "([^"\\]+)', re.M)


def parse_dot_jobs(dot: str) -> dict[str, int]:
    """{rule: jobs} of `snakemake --dag` output: one node per job, labelled rule name first."""
    return dict(Counter(_DOT_NODE.findall(dot)))


JOB_SOURCES = ("targets", "dag", "dry-run")


def dry_run_command(
    configfiles: list[str | Path] | None = None, repo: Path = REPO, workdir: Path | None = None, source: str = "dag"
) -> list[str]:
    """`snakemake --dag` (the job DAG as DOT; no scheduling, about 2.5x faster on 12,000 jobs) or
    `snakemake -n --quiet rules` (the dry run's job-stats table), both with --forceall: every job of the grid."""
    mode = ["--dag"] if source == "dag" else ["-n", "--quiet", "rules"]
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(repo / "Snakefile"),
        *mode,
        "--forceall",
        "--nolock",
        "--cores",
        "1",
    ]
    if workdir is not None:
        cmd += ["--directory", str(workdir)]
    if configfiles:
        cmd += ["--replace-workflow-config", "--configfile", *map(str, configfiles)]
    return cmd


def dry_run_jobs(
    configfiles: list[str | Path] | None = None, repo: Path = REPO, workdir: Path | None = None, source: str = "dag"
) -> dict[str, int]:
    """{rule: jobs} of the whole grid from Snakemake's DAG (see dry_run_command; Hugging Face set offline)."""
    proc = subprocess.run(
        dry_run_command(configfiles, repo, workdir, source),
        capture_output=True,
        text=True,
        cwd=workdir or repo,
        env={**os.environ, **OFFLINE_ENV},
    )
    counts = parse_dot_jobs(proc.stdout) if source == "dag" else parse_job_stats(proc.stdout)
    if proc.returncode != 0 or not counts:
        raise RuntimeError(f"snakemake dry run failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return counts


def planned_jobs(config: dict, workdir: Path = REPO) -> dict[str, int]:
    """{rule: jobs} of the whole grid from `targets.jobs`, local files read relative to `workdir`."""
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        return targets.job_counts(config)
    finally:
        os.chdir(previous)


def jobs_by_stage(counts: dict[str, int], stages: dict[str, str]) -> dict[str, dict[str, int]]:
    """{stage: {rule: jobs}}, stages in the workflow's order (as rules/*.smk are included)."""
    out: dict[str, dict[str, int]] = {}
    for rule, n in counts.items():
        if rule not in stages:
            raise InputError(f"rule '{rule}' of the plan has no stage in targets.RULE_STAGES")
        out.setdefault(stages[rule], {})[rule] = n
    return {stage: dict(sorted(out[stage].items())) for stage in sorted(out, key=_stage_order)}


STAGE_ORDER = (
    "data",
    "translate",
    "mixtures",
    "models",
    "train",
    "generate",
    "score",
    "mt",
    "lm_eval",
    "report",
    "cluster",
    SNAKEFILE_STAGE,
)


def _stage_order(stage: str) -> tuple[int, str]:
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage)


# ---- sizes known at plan time ------------------------------------------------------------------------


def _local(path: str, workdir: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else workdir / p


def dataset_records(config: dict, name: str, workdir: Path = REPO) -> int:
    """Records of a dataset (its `limit` applied): num_records, or the local file's; never the hub's."""
    spec = dict(config["datasets"][name])
    if spec.get("num_records") is None and not spec.get("path"):
        raise InputError(
            f"config key 'datasets.{name}.num_records': hub dataset '{spec.get('hub')}' needs its "
            f"record count to be planned without downloading it"
        )
    if spec.get("path"):
        spec["path"] = str(_local(spec["path"], workdir))
    count = grid.count_records(spec, name)
    return min(count, spec["limit"]) if spec.get("limit") is not None else count


def mixture_records(config: dict, dataset: str, mixture: str, workdir: Path = REPO) -> int:
    """Training records of a mixture: english-only/monolingual, downsampled and sampled hold one language's
    records, multilingual every language's, all minus the validation share; crosslingual draws its realised
    share counts of crosslingual.mixture.budget (`mixture_shares`; no-crosslingual without that part)."""
    if grid.is_share_mixture(mixture):
        shares = mixture_shares(config, dataset, workdir)
        return sum(n for k, n in shares["realised"].items() if not _dropped(mixture, k))
    per_language = round(dataset_records(config, dataset, workdir) * (1 - config["mixtures"]["validation_fraction"]))
    return per_language * (len(config["languages"]) if mixture == "multilingual" else 1)


def _dropped(mixture: str, part: str) -> bool:
    return mixture == grid.NO_CROSSLINGUAL and part == grid.CROSSLINGUAL


def parallel_lines(config: dict, pivot: str, lang: str, workdir: Path = REPO) -> int | None:
    """Parallel sentence pairs of one (pivot, language) the cross-lingual instructions are built from: the
    local files' lines within crosslingual.parallel.lines, else the size of that range; None when unknown
    (files fetched only when the workflow runs, and no range end)."""
    from polyinstruct.mixtures import crosslingual

    spec = config["crosslingual"]["parallel"]
    files = [_local(sources.local(p), workdir) for p in crosslingual.parallel_paths(spec, pivot, lang).values()]
    start, stop = spec["lines"] or (0, None)
    if all(f.exists() for f in files):
        with_text = []
        for f in files:
            with open(f, "rb") as fh:
                with_text.append(sum(1 for line in fh if spec["format"] == "lines" or line.strip()))
        count = min(with_text)
        return max(0, min(count, stop if stop is not None else count) - start)
    return None if stop is None else stop - start


def crosslingual_records(config: dict, workdir: Path = REPO) -> int | None:
    """Cross-lingual instructions the parallel text yields, an upper bound (records dropped for an empty
    side or too few constraint words are not foreseen): per pair and direction, `sentence`, `constrained`
    and `interactive` one per line, `document` one per document_sentences lines, each capped at
    max_per_task. None when a pair's size is unknown at plan time."""
    x = config["crosslingual"]
    directions = 2 if x["directions"] == "both" else 1
    cap = x["max_per_task"]
    total = 0
    for pivot, lang in grid.crosslingual_pairs(config):
        n = parallel_lines(config, pivot, lang, workdir)
        if n is None:
            return None
        per_task = [n // x["document_sentences"] if task == "document" else n for task in x["tasks"]]
        total += directions * sum(min(k, cap) if cap is not None else k for k in per_task)
    return total


def mixture_shares(config: dict, dataset: str, workdir: Path = REPO) -> dict:
    """Requested and realised training records per part of the crosslingual mixture (compose.share_counts,
    as build_mixture draws them): a language part holds the dataset's records (translated) minus the
    validation share, the cross-lingual part what `crosslingual_records` foresees (None: unknown, assumed
    enough)."""
    from polyinstruct.mixtures import compose

    mix, keep = config["crosslingual"]["mixture"], 1 - config["mixtures"]["validation_fraction"]
    records = dataset_records(config, dataset, workdir)
    crosslingual = crosslingual_records(config, workdir)
    available = {
        part: (None if crosslingual is None else round(crosslingual * keep))
        if part == grid.CROSSLINGUAL
        else round(records * keep)
        for part in mix["shares"]
    }
    return compose.share_counts(mix["shares"], mix["budget"], available, mix["shortfall"])


def share_mixtures(config: dict, workdir: Path = REPO) -> dict[str, dict]:
    """{dataset/mixture: requested and realised shares} of every share-drawn mixture trained, with a warning
    for each part short of its share and for a cross-lingual part whose size is unknown."""
    out = {}
    for dataset, mixture in dict.fromkeys((r.dataset, r.mixture) for r in grid.training_runs(config)):
        if grid.is_share_mixture(mixture):
            entry = mixture_shares(config, dataset, workdir)
            entry["dropped_parts"] = [k for k in entry["realised"] if _dropped(mixture, k)]
            out[f"{dataset}/{mixture}"] = entry
    return out


def share_warnings(mixtures: dict[str, dict]) -> list[str]:
    warnings = []
    for name, m in mixtures.items():
        if name.endswith("/" + grid.NO_CROSSLINGUAL):
            continue  # the same draw as its full mixture, less a part
        short = [k for k, n in m["requested"].items() if m["available"][k] is not None and m["available"][k] < n]
        for part in short:
            outcome = (
                f"the budget scaled to {m['realised_budget']:,} records to keep the shares"
                if m["policy"] == "scale"
                else f"{m['realised_budget']:,} records drawn at shares {_shares(m['realised_shares'])} instead of "
                f"{_shares(m['requested_shares'])}"
            )
            warnings.append(
                f"mixture {name}: part '{part}' holds about {m['available'][part]:,} training records of the "
                f"{m['requested'][part]:,} its share of {m['budget']:,} asks (crosslingual.mixture.shortfall: "
                f"{m['policy']}): {outcome}"
            )
        unknown = [k for k, n in m["available"].items() if n is None]
        if unknown:
            warnings.append(
                f"mixture {name}: the size of {', '.join(unknown)} is not known at plan time (the parallel text is "
                f"fetched when the workflow runs; set the end of crosslingual.parallel.lines): assumed to fill "
                f"its share"
            )
    return warnings


def _shares(shares: dict[str, float]) -> str:
    return "/".join(f"{k} {100 * v:.1f}%" for k, v in shares.items())


def eval_items(config: dict, evalset: str, lang: str, workdir: Path = REPO) -> tuple[int, int]:
    """(items, turns) of one eval set in one language: counted in the local file when it is there,
    else evalsets.<name>.num_items x evalsets.<name>.turns."""
    spec = config["evalsets"][evalset]
    location = sources.expand(spec["path"], lang=lang) if spec.get("path") else None
    if location:
        path = _local(sources.local(location), workdir)  # a URL counts once fetched into results/external/
        if path.exists():
            from polyinstruct.data import normalise

            records, _ = normalise.load_eval(spec, str(path), evalset, lang)
            return len(records), sum(len(r.get("turns") or [None]) for r in records)
    if spec.get("num_items") is None:
        where = (
            f"file '{location}' is not there"
            if location
            else f"hub eval set '{spec.get('hub')}' is not downloaded to plan"
        )
        raise InputError(f"config key 'evalsets.{evalset}.num_items': {where}; set num_items (items per language)")
    return int(spec["num_items"]), int(spec["num_items"]) * int(spec["turns"])


def mt_segments(config: dict, testset: str, src: str, tgt: str, workdir: Path = REPO) -> int:
    """Test segments of one MT direction: lines of the local source file (limit applied), else num_segments."""
    from polyinstruct.mt import mt_eval

    spec = config["mt_eval"]["testsets"][testset]
    source = _local(mt_eval.files(spec, src, tgt, testset)["source"], workdir)
    if source.exists():
        with open(source, "rb") as fh:
            count = sum(1 for _ in fh)
    elif spec.get("num_segments") is not None:
        count = int(spec["num_segments"])
    else:
        raise InputError(
            f"config key 'mt_eval.testsets.{testset}.num_segments': file '{source}' does not exist; "
            f"set num_segments (segments per direction) to plan without it"
        )
    return min(count, spec["limit"]) if spec.get("limit") is not None else count


# ---- throughput ----------------------------------------------------------------------------------------


class Estimate:
    """GPU-seconds per rule, and the warnings of what could not be estimated."""

    def __init__(self, config: dict):
        self.config = config
        self.plan = config["plan"]
        self.seconds: Counter = Counter()
        self.units: Counter = Counter()  # planned jobs per rule, to check against the DAG
        self.warnings: list[str] = []
        self._missing: dict[str, Counter] = {}

    def parameters(self, model: str, rule: str, jobs: int = 1) -> float | None:
        """`models.<model>.parameters`, or None (and a warning) for the `jobs` of `rule` that need it."""
        n = self.config["models"][model].get("parameters")
        if n is None:
            self._missing.setdefault(model, Counter())[rule] += jobs
        return n

    @property
    def unestimated_rules(self) -> set[str]:
        return {rule for rules in self._missing.values() for rule in rules}

    def add(self, rule: str, seconds: float | None, jobs: int = 1) -> None:
        self.units[rule] += jobs
        if seconds is not None:
            self.seconds[rule] += seconds

    def finish(self) -> list[str]:
        for model, rules in self._missing.items():
            what = ", ".join(f"{rule} ({n} jobs)" for rule, n in sorted(rules.items()))
            self.warnings.append(
                f"config key 'models.{model}.parameters' is not set: GPU-hours of {what} "
                f"are not estimated (left out of the totals)"
            )
        return self.warnings


def peak_flops(plan: dict) -> float:
    peak = efficiency.peak_flops(plan["gpu"])
    if peak is None:
        raise InputError(
            f"config key 'plan.gpu': '{plan['gpu']}' is not in the table of peak FLOPs "
            f"({', '.join(efficiency.PEAK_BF16)})"
        )
    return peak


def train_tokens_per_second(plan: dict, parameters: float, method: str) -> float:
    """Per GPU: plan.train_mfu x the GPU's bf16 peak / model FLOPs per token (6N full, 4N LoRA)."""
    return plan["train_mfu"] * peak_flops(plan) / efficiency.flops_per_token(parameters, 0, 0, 0, method)


def decode_tokens_per_second(plan: dict, parameters: float) -> float:
    return plan["generate_tokens_per_second"] * SCALE_PARAMETERS / parameters


def prefill_tokens_per_second(plan: dict, parameters: float) -> float:
    return plan["prefill_tokens_per_second"] * SCALE_PARAMETERS / parameters


def inference_seconds(plan: dict, parameters: float | None, prompt_tokens: float, new_tokens: float) -> float | None:
    if parameters is None:
        return None
    return prompt_tokens / prefill_tokens_per_second(plan, parameters) + new_tokens / decode_tokens_per_second(
        plan, parameters
    )


def train_run_tokens(config: dict, records: int, method: str, dataset: str | None = None) -> float:
    """Training tokens of one run: records x epochs x mean tokens per example (capped at train.max_length),
    or less when max_steps or max_tokens stops it earlier."""
    settings = inputs.train_settings(config, method, dataset)
    example = min(config["plan"]["example_tokens"], settings["max_length"])
    tokens = records * settings["epochs"] * example
    if settings["max_steps"] and settings["max_steps"] > 0:
        tokens = min(tokens, settings["max_steps"] * settings["global_batch_size"] * example)
    if settings["max_tokens"]:
        tokens = min(tokens, settings["max_tokens"])
    return tokens


def training(config: dict, est: Estimate, workdir: Path = REPO) -> list[dict]:
    rows = []
    for run in grid.training_runs(config):
        records = mixture_records(config, run.dataset, run.mixture, workdir)
        tokens = train_run_tokens(config, records, run.method, run.dataset)
        n = est.parameters(run.model, "train")
        seconds = None if n is None else tokens / train_tokens_per_second(config["plan"], n, run.method)
        est.add("train", seconds)
        rows.append(
            {
                "run": run.path,
                "records": records,
                "tokens": tokens,
                "gpu_hours": None if seconds is None else seconds / 3600,
            }
        )
    return rows


def _response_tokens(config: dict) -> int:
    return min(config["plan"]["response_tokens"], config["generate"]["max_new_tokens"])


def generation_units(config: dict) -> list[tuple[str, str, str, str]]:
    """(model, run path, eval set, language) of every generation job: each evaluated run in every eval set and
    language, plus the sweep points' dev responses when the lr is selected by language ID."""
    units = [
        (r.model, r.path, e, lang)
        for e in config["evalsets"]
        for lang in grid.eval_languages(config)
        for r in grid.runs(config)
    ]
    seen = {(p, e, lang) for _, p, e, lang in units}
    units += [(r.model, r.path, e, lang) for r, e, lang in grid.sweep_units(config) if (r.path, e, lang) not in seen]
    return units


def generation(config: dict, est: Estimate, workdir: Path = REPO) -> dict:
    plan, new = config["plan"], _response_tokens(config)
    beams = config["generate"].get("num_beams", 1)  # beam search decodes num_beams sequences per prompt
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    total_turns = 0
    for model, _, evalset, lang in generation_units(config):
        items, turns = sizes.setdefault((evalset, lang), eval_items(config, evalset, lang, workdir))
        total_turns += turns
        est.add(
            "generate",
            inference_seconds(
                plan, est.parameters(model, "generate"), turns * plan["prompt_tokens"], turns * new * beams
            ),
        )
    return {"turns": total_turns, "new_tokens": total_turns * new}


def judge_calls(config: dict, workdir: Path = REPO) -> dict[str, dict]:
    """{protocol: {jobs, calls}}: protocols judging per item one call per item (its first turn), per turn
    one per turn; pairwise protocols two (both answer orders) per turn of every pair, times `repeats`."""
    from polyinstruct.score.judge import protocols

    out: dict[str, dict] = {}
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    for protocol, _, evalset, lang in targets.judge_units(config):
        entry = out.setdefault(protocol, {"jobs": 0, "calls": 0})
        per_item = protocols.get(protocol).unit == protocols.ITEM
        items, turns = sizes.setdefault((evalset, lang), eval_items(config, evalset, lang, workdir))
        entry["jobs"] += 1
        entry["calls"] += items if per_item else turns
    for protocol in grid.pairwise_protocols(config):
        entry = out.setdefault(protocol, {"jobs": 0, "calls": 0})
        repeats = protocols.get(protocol).block(config).get("repeats", 1)
        for _, lang, _ in grid.pairwise_pairs(config, protocol):
            for evalset in config["evalsets"]:
                entry["jobs"] += 1
                entry["calls"] += 2 * repeats * eval_items(config, evalset, lang, workdir)[1]
    return out


def judging(config: dict, est: Estimate, workdir: Path = REPO) -> dict:
    """Calls, tokens and cost per protocol; local judges also GPU-seconds (rules judge, judge_pairwise).

    Each protocol is costed by its own judge (surface.relevance.judge may name a local model while the
    criteria go to an API); score.judge.prices price the API calls, and a protocol's own local judge
    costs GPU time only."""
    judge, plan = config["score"]["judge"], config["plan"]["judge"]
    local = judge["backend"] == "local"
    prices = judge["prices"]
    model = grid.judge_model(config)
    by_protocol = {}
    pairwise = set(grid.pairwise_protocols(config))
    for protocol, entry in judge_calls(config, workdir).items():
        settings = inputs.judge_settings(config, protocol)
        own_local = settings["backend"] == "local"
        cap = settings["local"]["max_new_tokens"] if own_local else settings["openai"]["max_tokens"]
        completion = min(plan["completion_tokens"], cap)
        prompt = plan["pairwise_prompt_tokens"] if protocol in pairwise else plan["prompt_tokens"]
        row = {**entry, "prompt_tokens": entry["calls"] * prompt, "completion_tokens": entry["calls"] * completion}
        priced = not own_local or not grid.protocol_judge(config, protocol)
        tokens_cost = (
            row["prompt_tokens"] * prices["prompt_per_million"]
            + row["completion_tokens"] * prices["completion_per_million"]
        )
        row["cost"] = tokens_cost / PER_MILLION if priced else 0.0
        rule = "judge_pairwise" if protocol in pairwise else "judge"
        if own_local:
            seconds = inference_seconds(
                config["plan"],
                est.parameters(settings["model"], rule, entry["jobs"]),
                row["prompt_tokens"],
                row["completion_tokens"],
            )
            row["gpu_hours"] = None if seconds is None else seconds / 3600
            est.add(rule, seconds, jobs=entry["jobs"])
        else:
            est.units[rule] += entry["jobs"]
        by_protocol[protocol] = row
    totals = {
        k: sum(r[k] for r in by_protocol.values()) for k in ("calls", "prompt_tokens", "completion_tokens", "cost")
    }
    return {
        "backend": judge["backend"],
        "model": judge["openai"]["model"] if not local else model,
        "by_protocol": by_protocol,
        **totals,
    }


def mt_translation(config: dict, est: Estimate, workdir: Path = REPO) -> dict:
    """MT-eval translation (rule mt_translate): segments x directions x runs; each segment is prompted with
    its k shots (2 segments each) and produces one segment (capped at mt_eval.max_new_tokens)."""
    plan, mt = config["plan"], config["mt_eval"]
    segment = plan["mt_segment_tokens"]
    out = {"directions": 0, "segments": 0}
    directions = targets.mt_directions(config)
    counts = {(t, s, g): mt_segments(config, t, s, g, workdir) for t, s, g in directions}
    out["directions"] = len(directions)
    for run in grid.runs(config) if counts else []:
        n = est.parameters(run.model, "mt_translate", len(counts))
        for (testset, _, _), segments in counts.items():
            shots = mt["testsets"][testset]["shots"]
            out["segments"] += segments
            est.add(
                "mt_translate",
                inference_seconds(
                    plan, n, segments * (2 * shots + 1) * segment, segments * min(segment, mt["max_new_tokens"])
                ),
            )
    return out


def lm_evaluation(config: dict, est: Estimate) -> dict:
    """lm-eval (rule lm_eval): per run and task, plan.lm_eval.docs_per_task documents (lm_eval.limit caps it)
    of plan.lm_eval.tokens_per_doc scored tokens, at the prefill rate (log-likelihood tasks generate nothing)."""
    plan = config["plan"]
    tasks = targets.lm_eval_tasks(config)
    docs = plan["lm_eval"]["docs_per_task"]
    if config["lm_eval"]["limit"] is not None:
        docs = min(docs, config["lm_eval"]["limit"])
    for run in grid.runs(config) if tasks else []:
        n = est.parameters(run.model, "lm_eval", len(tasks))
        for _ in tasks:
            est.add("lm_eval", inference_seconds(plan, n, docs * plan["lm_eval"]["tokens_per_doc"], 0))
    return {"tasks": len(tasks), "docs_per_task": docs}


def model_engines() -> tuple[str, ...]:
    from polyinstruct.translate import registry

    return registry.model_engines()


def data_translation(config: dict, est: Estimate, workdir: Path = REPO) -> dict:
    """Translating the instruction data with the `llm` engine (a causal LM of the grid): every record's
    plan.example_tokens read and written once per target language. Other model engines are not estimated."""
    plan = config["plan"]
    records, other = 0, []
    for dataset in config["datasets"]:
        for lang in grid.translation_languages(config):
            name = inputs.engine(config, SimpleNamespace(lang=lang))
            if name == "llm":
                count = dataset_records(config, dataset, workdir)
                shards = max(1, math.ceil(count / config["translate"]["shard_size"]))
                n = est.parameters(inputs.llm_model(config), "translate_shard", shards)
                records += count
                est.add(
                    "translate_shard",
                    inference_seconds(plan, n, count * plan["example_tokens"], count * plan["example_tokens"]),
                    jobs=0,
                )
            elif name in model_engines():
                other.append(f"{dataset}/{lang} ({name})")
    if other:
        est.warnings.append(
            f"GPU-hours of translating {', '.join(other)} are not estimated (only the llm engine's are)"
        )
    return {"llm_records": records}


# ---- the summary -----------------------------------------------------------------------------------


def summarise(config: dict, job_counts: dict[str, int], stages: dict[str, str], workdir: Path = REPO) -> dict:
    """The planning summary of a validated config and its dry run's {rule: jobs}."""
    est = Estimate(config)
    mixtures = share_mixtures(config, workdir)
    est.warnings += share_warnings(mixtures)
    train_rows = training(config, est, workdir)
    gen = generation(config, est, workdir)
    judge = judging(config, est, workdir)
    mt = mt_translation(config, est, workdir)
    lm = lm_evaluation(config, est)
    translation = data_translation(config, est, workdir)
    warnings = est.finish()
    for rule, units in sorted(est.units.items()):
        if units and job_counts.get(rule, 0) != units:
            warnings.append(f"rule {rule}: {units} jobs estimated but the dry run plans {job_counts.get(rule, 0)}")
    by_stage = jobs_by_stage(job_counts, stages)
    gpu_by_rule = {rule: s / 3600 for rule, s in sorted(est.seconds.items())}
    gpu_by_stage: dict[str, float] = {}
    for rule, hours in gpu_by_rule.items():
        stage = stages.get(rule, rule)
        gpu_by_stage[stage] = gpu_by_stage.get(stage, 0.0) + hours
    incomplete = sorted({stages.get(rule, rule) for rule in est.unestimated_rules}, key=_stage_order)
    return {
        "experiment": config["experiment"],
        "assumptions": {**config["plan"], "peak_flops": peak_flops(config["plan"])},
        "jobs": {
            "total": sum(job_counts.values()),
            "by_stage": {s: {"jobs": sum(r.values()), "rules": r} for s, r in by_stage.items()},
        },
        "gpu_hours": {
            "total": sum(gpu_by_rule.values()),
            "by_stage": dict(sorted(gpu_by_stage.items(), key=lambda kv: _stage_order(kv[0]))),
            "by_rule": gpu_by_rule,
            "incomplete_stages": incomplete,
        },  # some GPU jobs not estimated (see warnings)
        "training": {"runs": train_rows, "tokens": sum(r["tokens"] for r in train_rows)},
        "mixtures": mixtures,
        "generation": gen,
        "judge": judge,
        "mt_eval": mt,
        "lm_eval": lm,
        "translation": translation,
        "warnings": warnings,
    }


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f}" if value >= 10 or value == 0 else f"{value:.2g}"


def _hours(summary: dict, stage: str | None = None) -> str:
    """GPU-hours of a stage (or the total), '+' marking a lower bound (jobs without model parameters)."""
    gpu = summary["gpu_hours"]
    incomplete = gpu["incomplete_stages"]
    if stage is None:
        return (_num(gpu["total"]) if gpu["by_stage"] else "n/a") + ("+" if incomplete and gpu["by_stage"] else "")
    if stage not in gpu["by_stage"] and stage not in incomplete:
        return ""
    if stage not in gpu["by_stage"]:
        return "n/a"
    return _num(gpu["by_stage"][stage]) + ("+" if stage in incomplete else "")


def markdown(summary: dict) -> str:
    a = summary["assumptions"]
    lines = [
        f"# Plan: {summary['experiment']}",
        "",
        f"{summary['jobs']['total']:,} jobs; about **{_hours(summary)} GPU-hours** "
        f"({a['gpu']}); {summary['judge']['calls']:,} judge calls"
        + (
            f", estimated cost **{summary['judge']['cost']:,.2f}**."
            if summary["judge"]["backend"] == "openai"
            else " on the local judge (GPU-hours included above)."
        ),
        "",
        "| stage | jobs | GPU-hours | rules (jobs) |",
        "|---|---:|---:|---|",
    ]
    for stage, entry in summary["jobs"]["by_stage"].items():
        rules = ", ".join(f"{r} ({n:,})" for r, n in entry["rules"].items())
        lines.append(f"| {stage} | {entry['jobs']:,} | {_hours(summary, stage)} | {rules} |")
    lines.append(f"| **total** | **{summary['jobs']['total']:,}** | **{_hours(summary)}** | |")
    j = summary["judge"]
    lines += [
        "",
        f"Judge: {j['model']} ({'local, GPU-hours' if j['backend'] == 'local' else 'API, cost'})",
        "",
        "| protocol | jobs | calls | prompt tokens | completion tokens | cost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for protocol, row in j["by_protocol"].items():
        lines.append(
            f"| {protocol} | {row['jobs']:,} | {row['calls']:,} | {row['prompt_tokens']:,.0f} | "
            f"{row['completion_tokens']:,.0f} | {row['cost']:,.2f} |"
        )
    lines.append(
        f"| **total** | | **{j['calls']:,}** | {j['prompt_tokens']:,.0f} | {j['completion_tokens']:,.0f} | "
        f"**{j['cost']:,.2f}** |"
    )
    lines += [
        "",
        f"Training: {len(summary['training']['runs'])} runs, {summary['training']['tokens']:,.0f} tokens. "
        f"Generation: {summary['generation']['turns']:,} turns, {summary['generation']['new_tokens']:,.0f} new "
        f"tokens. MT eval: {summary['mt_eval']['directions']:,} directions, {summary['mt_eval']['segments']:,} "
        f"segments translated. lm-eval: {summary['lm_eval']['tasks']:,} tasks.",
        "",
        f"Assumptions (config `plan`): {a['gpu']} at {a['peak_flops'] / 1e12:,.0f} TFLOP/s bf16, training MFU "
        f"{a['train_mfu']}, {a['example_tokens']} tokens per training example, {a['response_tokens']} per "
        f"response turn ({a['prompt_tokens']} prompt), {a['generate_tokens_per_second']:,} generated and "
        f"{a['prefill_tokens_per_second']:,} prompt tokens/s per GPU for a 1B model (scaled by 1B/parameters), "
        f"judge {a['judge']['prompt_tokens']} prompt ({a['judge']['pairwise_prompt_tokens']} pairwise) + "
        f"{a['judge']['completion_tokens']} completion tokens per call. Costs in the currency of "
        f"score.judge.prices.",
    ]
    if summary.get("mixtures"):
        lines += [
            "",
            "Share-drawn mixtures (training records; requested -> realised, shares in brackets):",
            "",
            "| mixture | shortfall policy | budget | "
            + " | ".join(next(iter(summary["mixtures"].values()))["requested"])
            + " |",
            "|---|---|---:|" + "---:|" * len(next(iter(summary["mixtures"].values()))["requested"]),
        ]
        for name, m in summary["mixtures"].items():
            cells = [
                f"{m['requested'][k]:,} ({100 * m['requested_shares'][k]:.1f}%) -> "
                + (
                    "dropped"
                    if k in m["dropped_parts"]
                    else f"{m['realised'][k]:,} ({100 * m['realised_shares'][k]:.1f}%)"
                )
                for k in m["requested"]
            ]
            lines.append(
                f"| {name} | {m['policy']} | {m['budget']:,} -> {m['realised_budget']:,} | " + " | ".join(cells) + " |"
            )
    if summary["gpu_hours"]["incomplete_stages"]:
        lines += ["", "GPU-hours marked + leave out jobs that could not be estimated (see the warnings)."]
    if summary["warnings"]:
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in summary["warnings"]]
    return "\n".join(lines) + "\n"


def write(summary: dict, out_dir: str | Path) -> tuple[Path, Path]:
    from polyinstruct.io import write_json, write_text

    out = Path(out_dir)
    write_json(out / "summary.json", summary)
    write_text(out / "summary.md", markdown(summary))
    return out / "summary.json", out / "summary.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m polyinstruct.workflow.planning", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--configfile",
        nargs="+",
        default=None,
        help="config files (as for snakemake --configfile ... --replace-workflow-config); default config.yaml",
    )
    parser.add_argument(
        "--directory", type=Path, default=None, help="working directory of the workflow (default: the repository)"
    )
    parser.add_argument("--out", default=None, help=f"output directory (default <directory>/{OUT_DIR})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the summary has warnings")
    parser.add_argument(
        "--jobs-from",
        choices=JOB_SOURCES,
        default="targets",
        help="count jobs from the grid's job families (default, no Snakemake), in `snakemake --dag`, "
        "or in the job stats of `snakemake -n`",
    )
    args = parser.parse_args(argv)
    workdir = (args.directory or REPO).resolve()
    configfiles = [Path(f).resolve() for f in args.configfile] if args.configfile else None
    try:
        config = load_config(configfiles, REPO)
        summary = summarise(config, {}, {}, workdir)  # sizes first: a missing key fails before the dry run
        if args.jobs_from == "targets":
            counts = planned_jobs(config, workdir)
        else:
            counts = dry_run_jobs(configfiles, REPO, args.directory and workdir, args.jobs_from)
        summary = summarise(config, counts, rule_stages(), workdir)
    except (InputError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary["configfiles"] = [str(f) for f in configfiles] if configfiles else ["config.yaml"]
    written = write(summary, args.out or workdir / OUT_DIR)
    print(markdown(summary))
    print(f"written: {written[0]}, {written[1]}", file=sys.stderr)
    return 1 if args.strict and summary["warnings"] else 0


if __name__ == "__main__":
    sys.exit(main())
