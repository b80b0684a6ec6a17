# Translate the source datasets shard by shard, check each output, merge per language
# (polyinstruct/translate/). Model engines ask for a GPU; CTranslate2 models are converted once.


rule translate_shard:
    input:
        unpack(lambda wc: inputs.translate_shard(config, wc)),
    output:
        records=paths.SHARD,
        qa=paths.SHARD_QA,
    params:
        engine=lambda wc: inputs.engine(config, wc),
        engine_settings=lambda wc: inputs.engine_settings(config, wc),
        fallback=lambda wc: inputs.fallback_settings(config, wc),
        length_ratio=config["translate"]["qa"]["length_ratio"],
        shard_size=config["translate"]["shard_size"],
        source_lang=config["source_language"],
        policy=config["translate"]["qa"]["policy"],
        langid=config["score"]["langid"],
    log:
        log(paths.SHARD),
    benchmark:
        timing(paths.SHARD)
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=lambda wc: inputs.translate_gpus(config, wc),
        mem_mb=8000,
        runtime=240,
    script:
        "../scripts/translate/translate_shard.py"


rule convert_ct2_llm:
    input:
        pointer=paths.MODEL,
    output:
        f"{paths.CT2_LLM}/{paths.CT2_MODEL}",
    log:
        log(paths.CT2_LLM),
    benchmark:
        timing(paths.CT2_LLM)
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=16000,
        runtime=60,
    script:
        "../scripts/translate/convert_ct2.py"


rule convert_ct2_mt:
    output:
        f"{paths.CT2_MT}/{paths.CT2_MODEL}",
    params:
        source=lambda wc: config["translate"]["hf_seq2seq"]["model"].format(src=config["source_language"], tgt=wc.lang),
    log:
        log(paths.CT2_MT),
    benchmark:
        timing(paths.CT2_MT)
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=16000,
        runtime=60,
    script:
        "../scripts/translate/convert_ct2.py"


rule merge_translations:
    input:
        unpack(lambda wc: inputs.translation_shards(SHARDS, wc)),
    output:
        records=paths.TRANSLATION,
        index=paths.TRANSLATION_INDEX,
        manifest=paths.TRANSLATION_MANIFEST,
    log:
        log(paths.TRANSLATION),
    benchmark:
        timing(paths.TRANSLATION)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/translate/merge_translations.py"


rule all_translate:
    input:
        expand(paths.TRANSLATION, dataset=config["datasets"], lang=grid.translation_languages(config)),
