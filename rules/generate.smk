# Responses of every run (base models included) to every eval set, per language: every turn sees the
# model's own earlier answers; greedy or seeded sampling per category; transformers or vLLM.


rule generate:
    input:
        unpack(lambda wc: inputs.generate(config, wc)),
    output:
        responses="results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        stats="results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.stats.json",
    params:
        run=run_info,
        template=lambda wc: inputs.prompt_template(config, wc),
        settings=config["generate"],
        seed=config["seed"],
        code=fingerprint("generate"),
    log:
        "logs/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        GENERATE_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/generate.py"


rule all_generate:
    input:
        eval_targets("results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl"),
