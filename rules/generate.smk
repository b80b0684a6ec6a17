# Responses of every run (base models included) to every eval set, per language (polyinstruct/generate/):
# every turn sees the model's own earlier answers; greedy or seeded sampling per category; transformers or vLLM.


rule generate:
    input:
        unpack(lambda wc: inputs.generate(config, wc)),
    output:
        responses=paths.RESPONSES,
        stats=paths.RESPONSE_STATS,
    params:
        run=inputs.run_info,
        template=lambda wc: inputs.prompt_template(config, wc),
        settings=config["generate"],
        seed=config["seed"],
    log:
        log(paths.RESPONSES),
    benchmark:
        timing(paths.RESPONSES)
    conda:
        GENERATE_ENV
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/generate/generate.py"


rule all_generate:
    input:
        targets.evaluated(config, paths.RESPONSES),
