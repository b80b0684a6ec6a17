# Translate the source datasets shard by shard, check each output, merge per language.


rule translate_shard:
    input:
        unpack(lambda wc: inputs.translate_shard(config, wc)),
    output:
        records="results/translate/{dataset}/{lang}/shard-{shard}.jsonl",
        qa="results/translate/{dataset}/{lang}/shard-{shard}.qa.json",
    params:
        engine=lambda wc: inputs.engine(config, wc),
        engine_settings=lambda wc: inputs.engine_settings(config, wc),
        fallback=lambda wc: inputs.fallback_settings(config, wc),
        length_ratio=config["translate"]["qa"]["length_ratio"],
        shard_size=config["translate"]["shard_size"],
        source_lang=config["source_language"],
        policy=config["translate"]["qa"]["policy"],
        langid=config["score"]["langid"],
        code=fingerprint("translate"),
    log:
        "logs/translate/{dataset}/{lang}/shard-{shard}.log",
    benchmark:
        "benchmarks/translate/{dataset}/{lang}/shard-{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=lambda wc: inputs.translate_gpus(config, wc),
        mem_mb=8000,
        runtime=240,
    script:
        "../scripts/translate_shard.py"


rule convert_ct2_llm:
    input:
        pointer="results/models/{model}/model.json",
    output:
        "results/models/{model}/ct2/model.bin",
    params:
        code=fingerprint("translate"),
    log:
        "logs/models/{model}.ct2.log",
    benchmark:
        "benchmarks/models/{model}.ct2.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=16000,
        runtime=60,
    script:
        "../scripts/convert_ct2.py"


rule convert_ct2_mt:
    output:
        "results/models/mt/ct2/{lang}/model.bin",
    params:
        source=lambda wc: config["translate"]["hf_seq2seq"]["model"].format(src=config["source_language"], tgt=wc.lang),
        code=fingerprint("translate"),
    log:
        "logs/models/mt/ct2/{lang}.log",
    benchmark:
        "benchmarks/models/mt/ct2/{lang}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=16000,
        runtime=60,
    script:
        "../scripts/convert_ct2.py"


rule merge_translations:
    input:
        shards=lambda wc: expand(
            "results/translate/{dataset}/{lang}/shard-{shard}.jsonl", shard=SHARDS[wc.dataset], allow_missing=True
        ),
        qa=lambda wc: expand(
            "results/translate/{dataset}/{lang}/shard-{shard}.qa.json", shard=SHARDS[wc.dataset], allow_missing=True
        ),
    output:
        records="results/translate/{dataset}/{lang}.jsonl",
        manifest="results/translate/{dataset}/{lang}.manifest.json",
    params:
        code=fingerprint("translate"),
    log:
        "logs/translate/{dataset}/{lang}.merge.log",
    benchmark:
        "benchmarks/translate/{dataset}/{lang}.merge.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/merge_translations.py"


rule all_translate:
    input:
        expand(
            "results/translate/{dataset}/{lang}.jsonl",
            dataset=config["datasets"],
            lang=grid.translation_languages(config),
        ),
