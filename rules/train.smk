# Fine-tuning: one run per (model, method, dataset, mixture, lr); LoRA adapters or full weights.
# One process per GPU of the job (torchrun); resume checkpoints in the run's checkpoints/ survive a
# failed or preempted job, and the next run continues from them.


rule train_lora:
    input:
        model="results/models/{model}/model.json",
        train="results/mixtures/{dataset}/{mixture}/train.jsonl",
        valid="results/mixtures/{dataset}/{mixture}/valid.jsonl",
    output:
        weights=directory("results/train/{model}/lora/{dataset}/{mixture}/{lr}/adapter"),
        epochs=directory("results/train/{model}/lora/{dataset}/{mixture}/{lr}/epochs"),
        metrics="results/train/{model}/lora/{dataset}/{mixture}/{lr}/metrics.json",
        checkpoints="results/train/{model}/lora/{dataset}/{mixture}/{lr}/checkpoints.json",
        state="results/train/{model}/lora/{dataset}/{mixture}/{lr}/trainer_state.json",
        log_history="results/train/{model}/lora/{dataset}/{mixture}/{lr}/train_log.jsonl",
    params:
        method="lora",
        settings=inputs.train_settings(config, "lora") if "lora" in config["train"]["methods"] else {},
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
        cpus_per_gpu=2,
        mem_mb=32000,
        runtime=720,
    script:
        "../scripts/train.py"


rule train_full:
    input:
        model="results/models/{model}/model.json",
        train="results/mixtures/{dataset}/{mixture}/train.jsonl",
        valid="results/mixtures/{dataset}/{mixture}/valid.jsonl",
    output:
        weights=directory("results/train/{model}/full/{dataset}/{mixture}/{lr}/model"),
        epochs=directory("results/train/{model}/full/{dataset}/{mixture}/{lr}/epochs"),
        metrics="results/train/{model}/full/{dataset}/{mixture}/{lr}/metrics.json",
        checkpoints="results/train/{model}/full/{dataset}/{mixture}/{lr}/checkpoints.json",
        state="results/train/{model}/full/{dataset}/{mixture}/{lr}/trainer_state.json",
        log_history="results/train/{model}/full/{dataset}/{mixture}/{lr}/train_log.jsonl",
    params:
        method="full",
        settings=inputs.train_settings(config, "full") if "full" in config["train"]["methods"] else {},
        seed=config["seed"],
        code=fingerprint("train"),
    log:
        "logs/train/{model}/full/{dataset}/{mixture}/{lr}.log",
    benchmark:
        "benchmarks/train/{model}/full/{dataset}/{mixture}/{lr}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
        cpus_per_gpu=2,
        mem_mb=64000,
        runtime=1440,
    script:
        "../scripts/train.py"


rule merge_lora:
    input:
        model="results/models/{model}/model.json",
        adapter="results/train/{model}/lora/{dataset}/{mixture}/{lr}/adapter",
    output:
        merged=directory("results/train/{model}/lora/{dataset}/{mixture}/{lr}/merged"),
    params:
        code=fingerprint("train"),
    log:
        "logs/train/{model}/lora/{dataset}/{mixture}/{lr}.merge.log",
    benchmark:
        "benchmarks/train/{model}/lora/{dataset}/{mixture}/{lr}.merge.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=32000,
        runtime=60,
    script:
        "../scripts/merge_lora.py"


rule select_lr:
    input:
        lambda wc: inputs.lr_selection(config, wc),
    output:
        selection="results/train/{model}/{method}/{dataset}/{mixture}/selected/selection.json",
    params:
        criterion=config["train"]["lr_selection"]["criterion"],
        candidates=lambda wc: inputs.lr_candidates(config, wc),
        code=fingerprint("train"),
    log:
        "logs/train/{model}/{method}/{dataset}/{mixture}/select_lr.log",
    benchmark:
        "benchmarks/train/{model}/{method}/{dataset}/{mixture}/select_lr.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/select_lr.py"


rule all_train:
    input:
        inputs.train_targets(config),
