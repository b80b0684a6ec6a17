# Benchmarks of every run (BayLing 2): MT test sets translated k-shot and scored with sacrebleu
# (BLEU, chrF, spBLEU, each with its signature) and COMET, and lm-evaluation-harness tasks.
# Planned only when mt_eval.testsets or lm_eval.tasks are configured.


rule mt_prepare:
    input:
        unpack(lambda wc: inputs.mt_files(config, wc)),
    output:
        segments="results/mt/data/{testset}/{src}-{tgt}.jsonl",
        source="results/mt/data/{testset}/{src}-{tgt}.src",
        reference="results/mt/data/{testset}/{src}-{tgt}.ref",
    params:
        spec=lambda wc: grid.without_planning_keys(config["mt_eval"]["testsets"][wc.testset]),
        seed=config["seed"],
        code=fingerprint("mt_eval"),
    log:
        "logs/mt/data/{testset}/{src}-{tgt}.log",
    benchmark:
        "benchmarks/mt/data/{testset}/{src}-{tgt}.tsv"
    conda:
        "../envs/mt_eval.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/mt_prepare.py"


rule mt_translate:
    input:
        unpack(lambda wc: inputs.mt_translate(config, wc)),
    output:
        translations="results/mt/translations/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.jsonl",
        hypotheses="results/mt/translations/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.hyp",
    params:
        run=run_info,
        template=lambda wc: inputs.prompt_template(config, wc),
        settings=config["generate"],
        max_new_tokens=config["mt_eval"]["max_new_tokens"],
        seed=config["seed"],
        code=fingerprint("mt_translate"),
    log:
        "logs/mt/translations/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.log",
    benchmark:
        "benchmarks/mt/translations/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.tsv"
    conda:
        GENERATE_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/mt_translate.py"


rule mt_score:
    input:
        hypotheses="results/mt/translations/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.hyp",
        reference="results/mt/data/{testset}/{src}-{tgt}.ref",
    output:
        scores="results/mt/scores/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.json",
    params:
        run=run_info,
        settings={k: config["mt_eval"][k] for k in ("metrics", "tokenizers", "spbleu_tokenizer", "sacrebleu_dir")},
        code=fingerprint("mt_eval"),
    log:
        "logs/mt/scores/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.log",
    benchmark:
        "benchmarks/mt/scores/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.tsv"
    conda:
        "../envs/mt_eval.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/mt_score.py"


rule mt_comet:
    input:
        hypotheses="results/mt/translations/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.hyp",
        source="results/mt/data/{testset}/{src}-{tgt}.src",
        reference="results/mt/data/{testset}/{src}-{tgt}.ref",
    output:
        scores="results/mt/comet/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.json",
    params:
        run=run_info,
        settings=config["mt_eval"]["comet"],
        code=fingerprint("comet"),
    log:
        "logs/mt/comet/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.log",
    benchmark:
        "benchmarks/mt/comet/{model}/{method}/{dataset}/{mixture}/{lr}/{testset}/{src}-{tgt}.tsv"
    conda:
        "../envs/comet.yaml"
    threads: 1
    resources:
        gpu=inputs.comet_gpus(config),
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/mt_comet.py"


rule lm_eval:
    input:
        unpack(lambda wc: inputs.lm_eval(config, wc)),
    output:
        results="results/lm_eval/{model}/{method}/{dataset}/{mixture}/{lr}/{task}.json",
    params:
        run=run_info,
        settings=config["lm_eval"],
        seed=config["seed"],
        code=fingerprint("lm_eval"),
    log:
        "logs/lm_eval/{model}/{method}/{dataset}/{mixture}/{lr}/{task}.log",
    benchmark:
        "benchmarks/lm_eval/{model}/{method}/{dataset}/{mixture}/{lr}/{task}.tsv"
    conda:
        "../envs/lm_eval.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/lm_eval.py"


rule report_benchmarks:
    input:
        unpack(lambda wc: inputs.benchmark_report(config)),
    output:
        mt_csv=report("results/report/benchmarks/mt.csv", caption="../report/benchmarks.rst", category="Benchmarks"),
        mt_md=report("results/report/benchmarks/mt.md", caption="../report/benchmarks.rst", category="Benchmarks"),
        lm_csv=report(
            "results/report/benchmarks/lm_eval.csv", caption="../report/benchmarks.rst", category="Benchmarks"
        ),
        lm_md=report(
            "results/report/benchmarks/lm_eval.md", caption="../report/benchmarks.rst", category="Benchmarks"
        ),
        figures=report(
            directory("results/report/benchmarks/figures"),
            patterns=["{name}.png"],
            caption="../report/benchmarks.rst",
            category="Benchmarks",
        ),
    params:
        title=config["experiment"],
        code=fingerprint("report"),
    log:
        "logs/report/benchmarks.log",
    benchmark:
        "benchmarks/report/benchmarks.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_benchmarks.py"


rule all_benchmarks:
    input:
        rules.report_benchmarks.output,
