# Fine-tuning: one run per (model, method, dataset, mixture, lr).


def train_settings(wildcards):
    keys = ("epochs", "max_steps", "global_batch_size", "micro_batch_size", "max_length", "loss_on_prompt",
            "template", "lr_scheduler", "warmup_ratio", "weight_decay", "eval_every_steps", "lora")
    return {k: config["train"][k] for k in keys}


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
        settings=train_settings,
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
        run_paths("results/train/" + RUN + "/metrics.json", [r for r in RUNS if not r.is_base]),
