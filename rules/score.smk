# Scores per (run, eval set, language) (polyinstruct/score/): language ID, LLM-judge protocols (cached,
# ledgered; polyinstruct/score/judge/protocols.py registers them), language gating, pairwise comparisons
# against a baseline run, surface metrics and agreement with human votes. Judge answers live in a shared
# cache (score.judge.cache_dir), so re-running a judge job makes no call.


rule langid_responses:
    input:
        unpack(lambda wc: inputs.langid_model(config)),
        responses=paths.RESPONSES,
    output:
        scores=paths.LANGID,
    params:
        langid=config["score"]["langid"],
    log:
        log(paths.LANGID),
    benchmark:
        timing(paths.LANGID)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/score/langid_responses.py"


rule judge:
    input:
        unpack(lambda wc: inputs.judge(config, wc)),
    output:
        rows=paths.JUDGE,
        calls=paths.JUDGE_CALLS,
    params:
        settings=lambda wc: inputs.judge_settings(config, wc.protocol),
        run=inputs.run_info,
    log:
        log(paths.JUDGE),
    benchmark:
        timing(paths.JUDGE)
    conda:
        lambda wc: inputs.judge_env(config, wc.protocol)
    threads: 1
    resources:
        gpu=inputs.judge_resource(config, "gpu"),
        judge_api=inputs.judge_resource(config, "judge_api"),
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/score/judge.py"


rule judge_pairwise:
    input:
        unpack(lambda wc: inputs.judge_pairwise(config, wc)),
    output:
        rows=paths.PAIRWISE,
        calls=paths.PAIRWISE_CALLS,
    params:
        settings=lambda wc: inputs.judge_settings(config, wc.protocol),
        names=inputs.pair_names,
    log:
        log(paths.PAIRWISE),
    benchmark:
        timing(paths.PAIRWISE)
    conda:
        JUDGE_ENV
    threads: 1
    resources:
        gpu=JUDGE_GPUS,
        judge_api=JUDGE_API,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/score/judge_pairwise.py"


rule summarise_scores:
    input:
        unpack(lambda wc: inputs.score_summary(config, wc)),
    output:
        rows=paths.SUMMARY_ROWS,
        summary=paths.SUMMARY,
    params:
        run=inputs.run_info,
        protocols=SINGLE_PROTOCOLS,
        gating=config["score"]["gating"],
    log:
        log(paths.SUMMARY),
    benchmark:
        timing(paths.SUMMARY)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/score/summarise_scores.py"


rule summarise_pairwise:
    input:
        unpack(lambda wc: inputs.pairwise_summary(config, wc)),
    output:
        rows=paths.PAIR_SUMMARY_ROWS,
        summary=paths.PAIR_SUMMARY,
    params:
        names=inputs.pair_names,
        gating=config["score"]["gating"],
    log:
        log(paths.PAIR_SUMMARY),
    benchmark:
        timing(paths.PAIR_SUMMARY)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/score/summarise_pairwise.py"


rule surface_metrics:
    input:
        responses=paths.RESPONSES,
        langid=paths.LANGID,
    output:
        rows=paths.SURFACE_ROWS,
        summary=paths.SURFACE,
    params:
        run=inputs.run_info,
        settings={k: config["surface"][k] for k in ("spelling", "modifiers")},
    log:
        log(paths.SURFACE),
    benchmark:
        timing(paths.SURFACE)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/score/surface_metrics.py"


rule agreement:
    input:
        unpack(lambda wc: targets.agreement_inputs(config, wc)),
    output:
        report=paths.AGREEMENT,
    params:
        settings=config["agreement"],
        seed=inputs.agreement_seed(config),
    log:
        log(paths.AGREEMENT),
    benchmark:
        timing(paths.AGREEMENT)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/score/agreement.py"


rule judge_plan:
    input:
        unpack(lambda wc: targets.judge_plan_inputs(config)),
    output:
        plan=paths.JUDGE_PLAN,
    params:
        jobs=targets.judge_jobs(config),
        settings=inputs.judge_plan_settings(config),
        models=inputs.judge_plan_models(config),
    log:
        log(paths.JUDGE_PLAN),
    benchmark:
        timing(paths.JUDGE_PLAN)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/score/judge_plan.py"


rule all_score:
    input:
        targets.evaluated(config, paths.SUMMARY),
        targets.pairs(config, paths.PAIR_SUMMARY),
        targets.agreement(config),
        targets.surface(config),
