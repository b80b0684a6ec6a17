# Base models: fetched from the hub, read from a local directory, or converted from GGUF once.


rule prepare_model:
    input:
        lambda wc: inputs.model_source(config, wc),
    output:
        pointer="results/models/{model}/model.json",
    params:
        spec=lambda wc: config["models"][wc.model],
        code=fingerprint("models"),
    log:
        "logs/models/{model}.log",
    benchmark:
        "benchmarks/models/{model}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/prepare_model.py"


rule all_models:
    input:
        expand("results/models/{model}/model.json", model=config["models"]),
