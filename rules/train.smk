# Fine-tuning: one run per (model, method, dataset, mixture, lr).


rule train_lora:
    input:
        model="results/models/{model}/model.json",
        train="results/mixtures/{dataset}/{mixture}/train.jsonl",
        valid="results/mixtures/{dataset}/{mixture}/valid.jsonl",
    output:
        adapter=directory("results/train/{model}/lora/{dataset}/{mixture}/{lr}/adapter"),
        metrics="results/train/{model}/lora/{dataset}/{mixture}/{lr}/metrics.json",
        state="results/train/{model}/lora/{dataset}/{mixture}/{lr}/trainer_state.json",
        log_history="results/train/{model}/lora/{dataset}/{mixture}/{lr}/train_log.jsonl",
    params:
        settings=inputs.train_settings(config),
        seed=config["seed"],
        code=fingerprint("train"),
    log:
        "logs/train/{model}/lora/{dataset}/{mixture}/{lr}.log",
    benchmark:
        "benchmarks/train/{model}/lora/{dataset}/{mixture}/{lr}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=32000,
        runtime=720,
    script:
        "../scripts/train_lora.py"


rule all_train:
    input:
        run_paths("results/train/{model}/{method}/{dataset}/{mixture}/{lr}/metrics.json", [r for r in RUNS if not r.is_base]),
