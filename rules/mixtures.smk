# Language mixtures: one train/valid pair and manifest per (dataset, mixture); cross-lingual
# translation instructions from parallel text (BayLing 2) for the `crosslingual` mixture.


rule build_crosslingual:
    input:
        inputs.crosslingual_sources(config),
    output:
        records=inputs.CROSSLINGUAL_INSTRUCTIONS,
        manifest="results/crosslingual/manifest.json",
    params:
        settings=config["crosslingual"],
        pairs=grid.crosslingual_pairs(config),
        seed=config["seed"],
        code=fingerprint("crosslingual"),
    log:
        "logs/crosslingual/instructions.log",
    benchmark:
        "benchmarks/crosslingual/instructions.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/build_crosslingual.py"


rule build_mixture:
    input:
        unpack(lambda wc: inputs.mixture_sources(config, wc)),
    output:
        train="results/mixtures/{dataset}/{mixture}/train.jsonl",
        valid="results/mixtures/{dataset}/{mixture}/valid.jsonl",
        manifest="results/mixtures/{dataset}/{mixture}/manifest.json",
    params:
        languages=lambda wc: grid.mixture_languages(config, wc.mixture),
        source_lang=config["source_language"],
        seed=config["seed"],
        validation_fraction=config["mixtures"]["validation_fraction"],
        shares=lambda wc: inputs.mixture_settings(config, wc),
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
