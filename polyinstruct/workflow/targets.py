"""Every job family of the grid, listed once: what `rule all` asks for, what the `judge_plan` rule counts,
and, in `jobs`, every job Snakemake plans (`make plan` counts them without building a DAG; a test checks
the counts against Snakemake's own dry run for every preset).

A family is a list of output paths (from `paths`) over the grid's runs, eval sets, languages,
protocols, MT directions and tasks (from `grid`).
"""

from __future__ import annotations

from collections import Counter

from polyinstruct.data import sources
from polyinstruct.workflow import grid, inputs, paths
from polyinstruct.workflow.paths import Run

# ---- families over runs ---------------------------------------------------------------------------


def over_runs(pattern: str, runs: list[Run], **fields) -> list[str]:
    return [run.fill(pattern, **fields) for run in runs]


def evaluated(
    config: dict, pattern: str, evalsets: list[str] | None = None, runs: list[Run] | None = None, **fields
) -> list[str]:
    """`pattern` for every evaluated run (or `runs`) x eval set (or `evalsets`) x eval language."""
    runs = grid.runs(config) if runs is None else runs
    evalsets = list(config["evalsets"]) if evalsets is None else evalsets
    return [
        run.fill(pattern, evalset=evalset, lang=lang, **fields)
        for evalset in evalsets
        for lang in grid.eval_languages(config)
        for run in runs
    ]


def sweep(config: dict, pattern: str, **fields) -> list[str]:
    """`pattern` for every sweep point's answers that the lr selection scores (grid.sweep_units)."""
    return [run.fill(pattern, evalset=e, lang=lang, **fields) for run, e, lang in grid.sweep_units(config)]


def responses(config: dict, pattern: str = paths.RESPONSES) -> list[str]:
    """Generation (and language-ID) jobs: every evaluated run in every eval set and language, plus each sweep
    point's dev responses when the lr is selected on them (langid, surface)."""
    return list(dict.fromkeys(evaluated(config, pattern) + sweep(config, pattern)))


def judge_units(config: dict) -> list[tuple[str, Run, str, str]]:
    """(protocol, run, eval set, language) of every one-response judging job: each protocol on every evaluated
    run, and the selection's protocols (relevance) on the sweep points' answers."""
    units = [
        (protocol, run, evalset, lang)
        for protocol in grid.single_protocols(config)
        for evalset in config["evalsets"]
        for lang in grid.eval_languages(config)
        for run in grid.runs(config)
    ]
    units += [(p, run, e, lang) for p in grid.sweep_protocols(config) for run, e, lang in grid.sweep_units(config)]
    return list(dict.fromkeys(units))


def judged(config: dict, pattern: str = paths.JUDGE) -> list[str]:
    """Every one-response judging job (rows or calls file)."""
    return [run.fill(pattern, protocol=p, evalset=e, lang=lang) for p, run, e, lang in judge_units(config)]


def evaluated_judged(config: dict, pattern: str = paths.JUDGE) -> list[str]:
    """The judging jobs of evaluated runs only (the report's inputs; sweep points are the selection's)."""
    return [
        path for protocol in grid.single_protocols(config) for path in evaluated(config, pattern, protocol=protocol)
    ]


def pairs(
    config: dict, pattern: str, protocol: str | None = None, evalset: str | None = None, lang: str | None = None
) -> list[str]:
    """`pattern` (a pairwise path) over every (run, baseline) pair of every pairwise protocol (or `protocol`),
    optionally of one eval set and language."""
    chosen = grid.pairwise_protocols(config) if protocol is None else [protocol]
    return [
        run.fill(pattern, baseline, protocol=p, evalset=e, lang=pair_lang)
        for p in chosen
        for run, pair_lang, baseline in grid.pairwise_pairs(config, p)
        for e in config["evalsets"]
        if (evalset is None or e == evalset) and (lang is None or pair_lang == lang)
    ]


def surface_evalsets(config: dict) -> list[str]:
    """Eval sets with surface metrics: all when spelling is on, else those of task modifiers."""
    return [
        name
        for name, spec in config["evalsets"].items()
        if config["surface"]["spelling"]["enabled"] or spec.get("format") == "modifiers"
    ]


def surface(config: dict, pattern: str = paths.SURFACE) -> list[str]:
    """Surface-metric jobs of evaluated runs (the report's), plus the sweep points' when the surface criterion
    weighs spelling."""
    out = evaluated(config, pattern, evalsets=surface_evalsets(config))
    if "spelling" in grid.lr_selection_weights(config):
        out += sweep(config, pattern)
    return list(dict.fromkeys(out))


def evaluated_surface(config: dict, pattern: str = paths.SURFACE) -> list[str]:
    return evaluated(config, pattern, evalsets=surface_evalsets(config))


def agreement(config: dict) -> list[str]:
    return [
        paths.AGREEMENT.format(evalset=evalset, lang=lang)
        for evalset, by_lang in config["agreement"]["human_votes"].items()
        for lang in by_lang
    ]


def judge_jobs(config: dict) -> list[dict]:
    """Every judging job of the grid as {protocol, responses, names}, for the judge dry run (`judge_plan`)."""
    jobs = [
        {
            "protocol": protocol,
            "names": [run.path],
            "responses": [run.fill(paths.RESPONSES, evalset=evalset, lang=lang)],
        }
        for protocol, run, evalset, lang in judge_units(config)
    ]
    for protocol in grid.pairwise_protocols(config):
        for run, lang, baseline in grid.pairwise_pairs(config, protocol):
            for evalset in config["evalsets"]:
                jobs.append(
                    {
                        "protocol": protocol,
                        "names": [run.path, baseline.path],
                        "responses": [
                            run.fill(paths.RESPONSES, evalset=evalset, lang=lang),
                            baseline.fill(paths.RESPONSES, evalset=evalset, lang=lang),
                        ],
                    }
                )
    return jobs


def agreement_inputs(config: dict, wildcards) -> dict[str, object]:
    """The human votes of one (eval set, language) and the gated pairwise rows they are compared with."""
    protocol = grid.agreement_protocol(config)
    return {
        "votes": config["agreement"]["human_votes"][wildcards.evalset][wildcards.lang],
        "pairs": pairs(config, paths.PAIR_SUMMARY_ROWS, protocol, wildcards.evalset, wildcards.lang),
    }


def judge_template_files(config: dict) -> list[str]:
    """Every judge template file a judging job reads (fetched judge_prompts files among them)."""
    langs = {p: grid.eval_languages(config) for p in grid.single_protocols(config)}
    for p in grid.pairwise_protocols(config):
        langs[p] = list(dict.fromkeys(lang for _, lang, _ in grid.pairwise_pairs(config, p)))
    if not config["evalsets"]:
        return []
    return sorted({f for p, found in langs.items() for lang in found for f in inputs.judge_templates(config, p, lang)})


def judge_plan_inputs(config: dict) -> dict[str, object]:
    """Every response file a judging job reads (and the local judge model and the judge templates), for the
    judge dry run."""
    found = sorted({path for job in judge_jobs(config) for path in job["responses"]})
    return {
        "responses": found,
        "templates": judge_template_files(config),
        "judge_models": sorted(set(inputs.judge_plan_models(config).values())),
    }


def mt_directions(config: dict) -> list[tuple[str, str, str]]:
    """(test set, src, tgt) of every configured MT direction."""
    from polyinstruct.mt import mt_eval

    return [
        (name, src, tgt)
        for name, spec in config["mt_eval"]["testsets"].items()
        for src, tgt in mt_eval.directions(spec)
    ]


def mt_languages(config: dict) -> list[str]:
    return sorted({lang for _, src, tgt in mt_directions(config) for lang in (src, tgt)})


def mt(config: dict, pattern: str) -> list[str]:
    """`pattern` (an MT path with {run}, {testset}, {src}, {tgt}) over every evaluated run and direction."""
    return [
        run.fill(pattern, testset=t, src=s, tgt=g) for run in grid.runs(config) for t, s, g in mt_directions(config)
    ]


def comet(config: dict) -> list[str]:
    return mt(config, paths.MT_COMET) if config["mt_eval"]["comet"]["enabled"] else []


def lm_eval_tasks(config: dict) -> list[str]:
    from polyinstruct.lm_eval import lm_tasks

    lm = config["lm_eval"]
    return lm_tasks.expand(lm["tasks"], lm["languages"] or grid.eval_languages(config))


def lm_eval(config: dict) -> list[str]:
    return [run.fill(paths.LM_EVAL, task=task) for run in grid.runs(config) for task in lm_eval_tasks(config)]


def mt_lm_eval_configured(config: dict) -> bool:
    return bool(config["mt_eval"]["testsets"] or config["lm_eval"]["tasks"])


def mt_lm_eval_scores(config: dict) -> dict[str, list[str]]:
    """Every score the MT/lm-eval report reads (empty lists for what is not configured)."""
    return {"mt": mt(config, paths.MT_SCORES), "comet": comet(config), "lm_eval": lm_eval(config)}


# ---- training -------------------------------------------------------------------------------------


def merges_lora(config: dict) -> bool:
    return "lora" in config["train"]["methods"] and bool(config["train"]["lora"]["merge"])


def selections(config: dict) -> list[str]:
    if not grid.selects_lr(config):
        return []
    return list(dict.fromkeys(run.selection() for run in grid.training_runs(config)))


def train(config: dict) -> list[str]:
    """Every trained run's metrics; the sweep choices when selecting; merged LoRA weights when asked for."""
    out = []
    for run in grid.training_runs(config):
        out.append(run.fill(paths.TRAIN_METRICS))
        if run.method == "lora" and merges_lora(config):
            out.append(run.fill(paths.TRAIN_MERGED))
    return out + selections(config)


# ---- report ---------------------------------------------------------------------------------------


#: Report rules with one job per output (the score-vs-size figure of each family and method); the others
#: make all their outputs in one job.
MULTI_JOB_REPORTS = ("report_size_figure",)


def family_summaries(config: dict, family: str, method: str) -> list[str]:
    """The summaries one score-vs-size figure reads: its family's sized models, base and `method` runs."""
    from polyinstruct.report import figures

    models = figures.families(config).get(family, {})
    runs = [r for r in grid.runs(config) if r.model in models and r.method in (method, paths.BASE)]
    return evaluated(config, paths.SUMMARY, runs=runs)


def report(config: dict) -> dict[str, list[str]]:
    """{rule: outputs} of the report rules the config makes meaningful."""
    from polyinstruct.report import figures

    protocols = grid.single_protocols(config)
    out = {
        "report_language_fidelity": [
            paths.FIDELITY_MD,
            paths.FIDELITY_CSV,
            paths.FIDELITY_FIGURE,
            paths.FIDELITY_COMPARISONS,
        ],
        "report_significance": [paths.SIGNIFICANCE],
        "report_tables": [paths.SCORES_CSV, paths.SCORES_MD, paths.SCORES_FIGURE, paths.GATING_FIGURE],
        "report_browse": [paths.BROWSE, paths.BROWSE_DATA],
    }
    if grid.judges_pairwise(config):
        out["report_pairwise"] = [paths.PAIRWISE_CSV, paths.PAIRWISE_MD, paths.POSITION_BIAS_FIGURE]
    if config["agreement"]["human_votes"]:
        out["report_agreement"] = [paths.AGREEMENT_CSV, paths.AGREEMENT_MD, paths.AGREEMENT_FIGURE]
    if surface(config) or "relevance" in protocols:
        out["report_surface"] = [paths.SURFACE_CSV, paths.SURFACE_MD]
    if mt_lm_eval_configured(config):
        out["report_mt_lm_eval"] = [
            paths.MT_CSV,
            paths.MT_MD,
            paths.MT_TABLE1_CSV,
            paths.MT_TABLE1_MD,
            paths.LM_EVAL_CSV,
            paths.LM_EVAL_MD,
            paths.MT_LM_EVAL_FIGURES,
        ]
    if figures.plans_size_figure(config, protocols):
        out["report_size_figure"] = [
            paths.SIZE_FIGURE.format(family=family, method=method)
            for family, method in figures.size_figure_jobs(config, protocols)
        ]
        out["report_drop_figure"] = [paths.DROP_SIZE_FIGURE]
        if figures.family_choice(config):
            out["report_families_figure"] = [paths.FAMILIES_FIGURE]
    if figures.category_protocols(protocols):
        out["report_category_radar"] = [paths.RADAR_FIGURE]
    if figures.plans_turn_figures(protocols):
        out["report_turns"] = [paths.TURN_SCORES_CSV, paths.TURN_FIGURE]
        out["report_improvement"] = [paths.IMPROVEMENT_CSV, paths.IMPROVEMENT_FIGURE]
    if figures.plans_criteria_heatmap(protocols):
        out["report_criteria_heatmap"] = [paths.CRITERIA_FIGURE]
        out["report_criteria_transfer"] = [paths.CRITERIA_TRANSFER_FIGURE]
        out["report_task_types"] = [paths.TASK_TYPE_FIGURE]
    if grid.sweep_evaluated(config) and selections(config):
        out["report_surface_by_lr"] = [paths.SURFACE_BY_LR_FIGURE]
    return out


def all_targets(config: dict) -> list[str]:
    """What `rule all` asks for: the report, and every training artifact (sweep points, selections,
    merged weights) even if unreported."""
    return [path for outputs in report(config).values() for path in outputs] + train(config)


# ---- every job, for the planner -------------------------------------------------------------------

#: The rules/<stage>.smk file of every rule (a test checks it against the workflow's rules).
RULE_STAGES = {
    **dict.fromkeys(("fetch_url", "extract_member", "normalise_instructions", "normalise_eval", "all_data"), "data"),
    **dict.fromkeys(
        ("translate_shard", "convert_ct2_llm", "convert_ct2_mt", "merge_translations", "all_translate"), "translate"
    ),
    **dict.fromkeys(("build_crosslingual", "build_mixture", "all_mixtures"), "mixtures"),
    **dict.fromkeys(("prepare_model", "all_models"), "models"),
    **dict.fromkeys(("train", "merge_lora", "select_lr", "all_train"), "train"),
    **dict.fromkeys(("generate", "all_generate"), "generate"),
    **dict.fromkeys(
        (
            "langid_responses",
            "judge",
            "judge_pairwise",
            "summarise_scores",
            "summarise_pairwise",
            "surface_metrics",
            "agreement",
            "judge_plan",
            "all_score",
        ),
        "score",
    ),
    **dict.fromkeys(("mt_prepare", "mt_translate", "mt_score", "mt_comet", "all_mt"), "mt"),
    **dict.fromkeys(("lm_eval", "all_lm_eval"), "lm_eval"),
    **dict.fromkeys(
        (
            "report_language_fidelity",
            "report_significance",
            "report_tables",
            "report_size_figure",
            "report_drop_figure",
            "report_families_figure",
            "report_category_radar",
            "report_turns",
            "report_improvement",
            "report_criteria_heatmap",
            "report_criteria_transfer",
            "report_task_types",
            "report_surface_by_lr",
            "report_pairwise",
            "report_agreement",
            "report_surface",
            "report_mt_lm_eval",
            "report_browse",
            "all_report",
        ),
        "report",
    ),
    "gpu_smoke": "cluster",
    "all": "workflow",
}


def _fetches(locations: list[str]) -> dict[str, list[str]]:
    """fetch_url and extract_member jobs of the local paths that configured URLs map to."""
    fetched, extracted = [], []
    for path in dict.fromkeys(locations):
        if not path.startswith(paths.EXTERNAL + "/"):
            continue
        if sources.MEMBERS + "/" in path:
            extracted.append(path)
            path = path.split(sources.MEMBERS + "/", 1)[0]
        fetched.append(path)
    return {"fetch_url": list(dict.fromkeys(fetched)), "extract_member": extracted}


def jobs(config: dict) -> dict[str, list[str]]:
    """{rule: [first output of each job]} of every job `snakemake --forceall` plans for `config`."""
    from types import SimpleNamespace as Wildcards

    out: dict[str, dict[str, None]] = {}  # rule -> ordered set of outputs
    reads: list[str] = []  # input files, some of them fetched from URLs

    def add(rule: str, outputs) -> None:
        for output in outputs:
            out.setdefault(rule, {})[output] = None

    training = grid.training_runs(config)
    mixtures = list(dict.fromkeys((r.dataset, r.mixture) for r in training))
    datasets = list(dict.fromkeys(d for d, _ in mixtures))
    add("build_mixture", [paths.MIXTURE_TRAIN.format(dataset=d, mixture=m) for d, m in mixtures])
    translated = list(
        dict.fromkeys(
            (d, lang)
            for d, m in mixtures
            for lang in grid.mixture_languages(config, m)
            if lang != config["source_language"]
        )
    )
    if any(m == grid.CROSSLINGUAL for _, m in mixtures):
        add("build_crosslingual", [paths.CROSSLINGUAL])
        reads += inputs.crosslingual_sources(config)
    add("normalise_instructions", [paths.INSTRUCTIONS.format(dataset=d) for d in datasets])
    reads += [p for d in datasets for p in inputs.dataset_source(config, Wildcards(dataset=d))]
    add("merge_translations", [paths.TRANSLATION.format(dataset=d, lang=lang) for d, lang in translated])
    for dataset, lang in translated:
        w = Wildcards(dataset=dataset, lang=lang)
        shard_ids = grid.shard_ids(config, dataset)
        add("translate_shard", [paths.SHARD.format(dataset=dataset, lang=lang, shard=s) for s in shard_ids])
        for name, path in inputs.translate_shard(config, w).items():
            if name.endswith("_converted"):
                mt_model = path.startswith(paths.CT2_MT.split("{", 1)[0])
                add("convert_ct2_mt" if mt_model else "convert_ct2_llm", [path])
            else:
                reads.append(path)
    add("prepare_model", [paths.MODEL.format(model=m) for m in config["models"]])
    reads += [p for m in config["models"] for p in inputs.model_source(config, Wildcards(model=m))]
    add("train", over_runs(paths.TRAIN_METRICS, training))
    if merges_lora(config):
        add("merge_lora", over_runs(paths.TRAIN_MERGED, [r for r in training if r.method == "lora"]))
    add("select_lr", selections(config))
    add("generate", responses(config))
    add("langid_responses", responses(config, paths.LANGID))
    if translated or responses(config):
        reads += list(inputs.langid_model(config).values())
    evalsets_used = {(e, lang) for e in config["evalsets"] for lang in grid.eval_languages(config)}
    add("normalise_eval", [paths.EVAL.format(evalset=e, lang=lang) for e, lang in sorted(evalsets_used)])
    for e, lang in sorted(evalsets_used):
        reads += list(inputs.eval_source(config, Wildcards(evalset=e, lang=lang)).values())
    add("judge", judged(config))
    reads += judge_template_files(config)
    add("summarise_scores", evaluated(config, paths.SUMMARY))
    add("judge_pairwise", pairs(config, paths.PAIRWISE))
    add("summarise_pairwise", pairs(config, paths.PAIR_SUMMARY))
    add("surface_metrics", surface(config))
    add("agreement", agreement(config))
    directions = mt_directions(config)
    add("mt_prepare", [paths.MT_SEGMENTS.format(testset=t, src=s, tgt=g) for t, s, g in directions])
    for t, s, g in directions:
        reads += list(inputs.mt_files(config, Wildcards(testset=t, src=s, tgt=g)).values())
    add("mt_translate", mt(config, paths.MT_TRANSLATIONS))
    add("mt_score", mt(config, paths.MT_SCORES))
    add("mt_comet", comet(config))
    add("lm_eval", lm_eval(config))
    for rule, outputs in report(config).items():
        add(rule, outputs if rule in MULTI_JOB_REPORTS else outputs[:1])
    for rule, found in _fetches(reads).items():
        add(rule, found)
    add("all", ["all"])
    return {rule: list(found) for rule, found in out.items()}


def job_counts(config: dict) -> dict[str, int]:
    return dict(Counter({rule: len(found) for rule, found in jobs(config).items()}))
