# Language mixtures: one train/valid pair and manifest per (dataset, mixture).


rule build_mixture:
    input:
        lambda wc: inputs.mixture_sources(config, wc),
    output:
        train="results/mixtures/{dataset}/{mixture}/train.jsonl",
        valid="results/mixtures/{dataset}/{mixture}/valid.jsonl",
        manifest="results/mixtures/{dataset}/{mixture}/manifest.json",
    params:
        languages=lambda wc: grid.mixture_languages(config, wc.mixture),
        source_lang=config["source_language"],
        seed=config["seed"],
        validation_fraction=config["mixtures"]["validation_fraction"],
        code=fingerprint("mixtures"),
    log:
        "logs/mixtures/{dataset}/{mixture}.log",
    benchmark:
        "benchmarks/mixtures/{dataset}/{mixture}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/build_mixture.py"


rule all_mixtures:
    input:
        expand(
            "results/mixtures/{dataset}/{mixture}/manifest.json",
            dataset=grid.mixture_datasets(config),
            mixture=MIXTURES,
        ),
