# Responses of every run (base models included) to every eval set, per language.


def generate_inputs(wildcards):
    inputs = {
        "model": f"results/models/{wildcards.model}/model.json",
        "eval": f"results/data/eval/{wildcards.evalset}/{wildcards.lang}.jsonl",
    }
    if wildcards.method != grid.BASE:
        inputs["adapter"] = "results/train/{model}/{method}/{dataset}/{mixture}/{lr}/adapter".format(**wildcards)
    return inputs


rule generate:
    input:
        unpack(generate_inputs),
    output:
        responses="results/generate/" + RUN + "/{evalset}/{lang}.jsonl",
        stats="results/generate/" + RUN + "/{evalset}/{lang}.stats.json",
    params:
        run=run_info,
        template=lambda wc: "chat" if wc.method == grid.BASE else config["train"]["template"],
        settings=config["generate"],
        code=fingerprint("generate"),
    log:
        "logs/generate/" + RUN + "/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/generate/" + RUN + "/{evalset}/{lang}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/generate.py"


rule all_generate:
    input:
        eval_targets("results/generate/" + RUN + "/{evalset}/{lang}.jsonl"),
