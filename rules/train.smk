# Fine-tuning (polyinstruct/train/): one run per (model, method, dataset, mixture, lr); LoRA adapters or
# full weights in the run's weights/ folder. One process per GPU of the job (torchrun); resume
# checkpoints in the run's checkpoints/ survive a failed or preempted job, and the next run continues
# from them.


rule train:
    input:
        model=paths.MODEL,
        train=paths.MIXTURE_TRAIN,
        valid=paths.MIXTURE_VALID,
    output:
        weights=directory(paths.TRAIN_WEIGHTS),
        epochs=directory(paths.TRAIN_EPOCHS),
        metrics=paths.TRAIN_METRICS,
        checkpoints=paths.TRAIN_CHECKPOINTS,
        state=paths.TRAIN_STATE,
        log_history=paths.TRAIN_LOG,
    params:
        settings=lambda wc: inputs.train_settings(config, wc.method, wc.dataset),
        seed=config["seed"],
    wildcard_constraints:
        method=_alternatives(config["train"]["methods"] or ["none"]),
    log:
        log(paths.TRAIN_RUN),
    benchmark:
        timing(paths.TRAIN_RUN)
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=1,
        cpus_per_gpu=2,
        mem_mb=inputs.train_resource("mem_mb"),
        runtime=inputs.train_resource("runtime"),
    script:
        "../scripts/train/train.py"


rule merge_lora:
    input:
        model=paths.MODEL,
        adapter=paths.TRAIN_WEIGHTS,
    output:
        merged=directory(paths.TRAIN_MERGED),
    wildcard_constraints:
        method="lora",
    log:
        log(paths.TRAIN_MERGED),
    benchmark:
        timing(paths.TRAIN_MERGED)
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=32000,
        runtime=60,
    script:
        "../scripts/train/merge_lora.py"


rule select_lr:
    input:
        lambda wc: inputs.lr_selection(config, wc),
    output:
        selection=paths.SELECTION,
    params:
        criterion=config["train"]["lr_selection"]["criterion"],
        weights=grid.lr_selection_weights(config),
        candidates=lambda wc: inputs.lr_candidates(config, wc),
    log:
        log(paths.SELECTION),
    benchmark:
        timing(paths.SELECTION)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/train/select_lr.py"


rule all_train:
    input:
        targets.train(config),
