# Scores per (run, eval set, language): language ID, LLM-judge protocols (cached, ledgered), language
# gating, pairwise comparisons against a baseline run, surface metrics and agreement with human votes.
# Judge answers live in a shared cache (score.judge.cache_dir), so re-running a judge job makes no call.


rule langid_responses:
    input:
        responses="results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    output:
        scores="results/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    params:
        langid=config["score"]["langid"],
        code=fingerprint("langid"),
    log:
        "logs/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/langid_responses.py"


rule judge:
    input:
        unpack(lambda wc: inputs.judge(config, wc)),
    output:
        rows="results/score/judge/{protocol}/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        calls="results/score/judge/{protocol}/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.calls.json",
    params:
        settings=lambda wc: inputs.judge_settings(config, wc.protocol),
        run=run_info,
        code=fingerprint("judge"),
    log:
        "logs/score/judge/{protocol}/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/judge/{protocol}/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        JUDGE_ENV
    threads: 1
    resources:
        gpu=JUDGE_GPUS,
        judge_api=JUDGE_API,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/judge.py"


rule judge_pairwise:
    input:
        unpack(lambda wc: inputs.judge_pairwise(config, wc)),
    output:
        rows="results/score/pairwise/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.jsonl",
        calls="results/score/pairwise/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.calls.json",
    params:
        settings=inputs.judge_settings(config, "mt_bench_pairwise"),
        names=inputs.pair_names,
        code=fingerprint("judge"),
    log:
        "logs/score/pairwise/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.log",
    benchmark:
        "benchmarks/score/pairwise/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.tsv"
    conda:
        JUDGE_ENV
    threads: 1
    resources:
        gpu=JUDGE_GPUS,
        judge_api=JUDGE_API,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/judge_pairwise.py"


rule summarise_scores:
    input:
        unpack(lambda wc: inputs.score_summary(config, wc)),
    output:
        rows="results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        summary="results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json",
    params:
        run=run_info,
        protocols=SINGLE_PROTOCOLS,
        gating=config["score"]["gating"],
        code=fingerprint("score"),
    log:
        "logs/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/summarise_scores.py"


rule summarise_pairwise:
    input:
        unpack(lambda wc: inputs.pairwise_summary(config, wc)),
    output:
        rows="results/score/pairwise_summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.jsonl",
        summary="results/score/pairwise_summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.json",
    params:
        names=inputs.pair_names,
        gating=config["score"]["gating"],
        code=fingerprint("score"),
    log:
        "logs/score/pairwise_summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.log",
    benchmark:
        "benchmarks/score/pairwise_summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}/vs/{b_model}/{b_method}/{b_dataset}/{b_mixture}/{b_lr}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/summarise_pairwise.py"


rule surface_metrics:
    input:
        responses="results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        langid="results/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    output:
        rows="results/score/surface/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        summary="results/score/surface/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json",
    params:
        run=run_info,
        settings={k: config["surface"][k] for k in ("spelling", "modifiers")},
        code=fingerprint("surface"),
    log:
        "logs/score/surface/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/surface/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../scripts/surface_metrics.py"


rule agreement:
    input:
        unpack(lambda wc: inputs.agreement(config, wc)),
    output:
        report="results/score/agreement/{evalset}/{lang}.json",
    params:
        settings=config["agreement"],
        seed=config["agreement"]["seed"] if config["agreement"]["seed"] is not None else config["seed"],
        code=fingerprint("agreement"),
    log:
        "logs/score/agreement/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/agreement/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../scripts/agreement.py"


rule judge_plan:
    input:
        unpack(lambda wc: inputs.judge_plan(config)),
    output:
        plan="results/score/judge_plan.json",
    params:
        jobs=inputs.judge_plan_jobs(config),
        settings=inputs.judge_plan_settings(config),
        code=fingerprint("judge"),
    log:
        "logs/score/judge_plan.log",
    benchmark:
        "benchmarks/score/judge_plan.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../scripts/judge_plan.py"


rule all_score:
    input:
        eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
        inputs.pair_targets(config, inputs.PAIR_SUMMARY),
        inputs.agreement_targets(config),
        surface_targets(),
