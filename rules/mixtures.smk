# Language mixtures (polyinstruct/mixtures/): one train/valid pair and manifest per (dataset, mixture);
# cross-lingual translation instructions from parallel text (BayLing 2) for the `crosslingual` mixture.


rule build_crosslingual:
    input:
        inputs.crosslingual_sources(config),
    output:
        records=paths.CROSSLINGUAL,
        index=paths.CROSSLINGUAL_INDEX,
        manifest=paths.CROSSLINGUAL_MANIFEST,
    params:
        settings=config["crosslingual"],
        pairs=grid.crosslingual_pairs(config),
        seed=config["seed"],
    log:
        log(paths.CROSSLINGUAL),
    benchmark:
        timing(paths.CROSSLINGUAL)
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
    script:
        "../scripts/mixtures/build_crosslingual.py"


rule build_mixture:
    input:
        unpack(lambda wc: inputs.mixture_sources(config, wc)),
        indexes=lambda wc: inputs.mixture_indexes(config, wc),
    output:
        train=paths.MIXTURE_TRAIN,
        valid=paths.MIXTURE_VALID,
        manifest=paths.MIXTURE_MANIFEST,
    params:
        languages=lambda wc: grid.mixture_languages(config, wc.mixture),
        source_lang=config["source_language"],
        seed=config["seed"],
        validation_fraction=config["mixtures"]["validation_fraction"],
        shares=lambda wc: inputs.mixture_settings(config, wc),
    log:
        log(paths.MIXTURE_TRAIN),
    benchmark:
        timing(paths.MIXTURE_TRAIN)
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
    script:
        "../scripts/mixtures/build_mixture.py"


rule all_mixtures:
    input:
        expand(paths.MIXTURE_MANIFEST, dataset=grid.mixture_datasets(config), mixture=grid.mixture_ids(config)),
