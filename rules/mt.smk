# Machine-translation evaluation of every run (BayLing 2; polyinstruct/mt/): test sets translated k-shot,
# scored with sacrebleu (BLEU, chrF, spBLEU, each with its signature) and COMET. Planned only when
# mt_eval.testsets are configured.


rule mt_prepare:
    input:
        unpack(lambda wc: inputs.mt_files(config, wc)),
    output:
        segments=paths.MT_SEGMENTS,
        source=paths.MT_SOURCE,
        reference=paths.MT_REFERENCE,
        manifest=paths.MT_MANIFEST,
    params:
        spec=lambda wc: grid.without_planning_keys(config["mt_eval"]["testsets"][wc.testset]),
        seed=config["seed"],
    log:
        log(paths.MT_SEGMENTS),
    benchmark:
        timing(paths.MT_SEGMENTS)
    conda:
        "../envs/mt_eval.yaml"
    script:
        "../scripts/mt/mt_prepare.py"


rule mt_translate:
    input:
        unpack(lambda wc: inputs.mt_translate(config, wc)),
    output:
        translations=paths.MT_TRANSLATIONS,
        hypotheses=paths.MT_HYPOTHESES,
    params:
        run=inputs.run_info,
        template=lambda wc: inputs.prompt_template(config, wc),
        settings=config["generate"],
        max_new_tokens=config["mt_eval"]["max_new_tokens"],
        seed=config["seed"],
    log:
        log(paths.MT_TRANSLATIONS),
    benchmark:
        timing(paths.MT_TRANSLATIONS)
    conda:
        GENERATE_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/mt/mt_translate.py"


rule mt_score:
    # plain patterns, not an input function: Snakemake fills them from the wildcards (planning cost, issue 20)
    input:
        hypotheses=paths.MT_HYPOTHESES,
        source=paths.MT_SOURCE,
        reference=paths.MT_REFERENCE,
    output:
        scores=paths.MT_SCORES,
    params:
        run=inputs.run_info,
        settings={k: config["mt_eval"][k] for k in ("metrics", "tokenizers", "spbleu_tokenizer", "sacrebleu_dir")},
    log:
        log(paths.MT_SCORES),
    benchmark:
        timing(paths.MT_SCORES)
    conda:
        "../envs/mt_eval.yaml"
    script:
        "../scripts/mt/mt_score.py"


rule mt_comet:
    input:
        hypotheses=paths.MT_HYPOTHESES,
        source=paths.MT_SOURCE,
        reference=paths.MT_REFERENCE,
    output:
        scores=paths.MT_COMET,
    params:
        run=inputs.run_info,
        settings=config["mt_eval"]["comet"],
    log:
        log(paths.MT_COMET),
    benchmark:
        timing(paths.MT_COMET)
    conda:
        "../envs/comet.yaml"
    threads: 1
    resources:
        gpu=inputs.comet_gpus(config),
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/mt/mt_comet.py"


rule all_mt:
    input:
        targets.mt(config, paths.MT_SCORES),
        targets.comet(config),
