# Normalise instruction datasets and eval sets into polyinstruct's JSONL schemas.


rule normalise_instructions:
    input:
        lambda wc: inputs.dataset_source(config, wc),
    output:
        records="results/data/instructions/{dataset}.jsonl",
        manifest="results/data/instructions/{dataset}.manifest.json",
    params:
        spec=lambda wc: config["datasets"][wc.dataset],
        lang=config["source_language"],
        code=fingerprint("data"),
    log:
        "logs/data/instructions/{dataset}.log",
    benchmark:
        "benchmarks/data/instructions/{dataset}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/normalise_instructions.py"


rule normalise_eval:
    input:
        unpack(lambda wc: inputs.eval_source(config, wc)),
    output:
        records="results/data/eval/{evalset}/{lang}.jsonl",
        manifest="results/data/eval/{evalset}/{lang}.manifest.json",
    params:
        spec=lambda wc: grid.without_planning_keys(config["evalsets"][wc.evalset]),
        code=fingerprint("data"),
    log:
        "logs/data/eval/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/data/eval/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/normalise_eval.py"


rule all_data:
    input:
        expand("results/data/instructions/{dataset}.jsonl", dataset=config["datasets"]),
        expand("results/data/eval/{evalset}/{lang}.jsonl", evalset=config["evalsets"], lang=EVAL_LANGUAGES),
