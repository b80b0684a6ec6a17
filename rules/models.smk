# Base models (polyinstruct/models/): fetched from the hub, read from a local directory, or converted
# from GGUF once; every later stage reads the pointer file.


rule prepare_model:
    input:
        lambda wc: inputs.model_source(config, wc),
    output:
        pointer=paths.MODEL,
    params:
        spec=lambda wc: config["models"][wc.model],
    log:
        log(paths.MODEL),
    benchmark:
        timing(paths.MODEL)
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/models/prepare_model.py"


rule all_models:
    input:
        expand(paths.MODEL, model=config["models"]),
