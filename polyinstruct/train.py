"""Fine-tune a base model on a mixture: LoRA (peft) through TRL's SFTTrainer.

Loss on response tokens only unless `loss_on_prompt`; evaluation and checkpoints every epoch
(or every N steps) and the checkpoint with the best validation loss is the one saved. The run
directory gets the adapter, the trainer state, a JSONL training log and metrics that record
what the run actually saw (examples, tokens), so budget comparisons can be checked.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

from polyinstruct import chat, models
from polyinstruct.io import atomic_path, load_jsonl, write_json


def gradient_accumulation(global_batch: int, micro_batch: int, devices: int) -> int:
    """Steps to accumulate so that micro x devices x steps == global batch (Chen et al. hold it fixed)."""
    per_step = micro_batch * devices
    if global_batch % per_step:
        raise ValueError(
            f"config key 'train.global_batch_size': {global_batch} is not a multiple of "
            f"micro_batch_size x devices = {micro_batch} x {devices}"
        )
    return global_batch // per_step


def _dataset(records: list[dict], template: str):
    from datasets import Dataset

    return Dataset.from_list([chat.training_example(r, template) for r in records])


def train_lora(pointer: dict, train_path: str, valid_path: str, run_dir: str | Path, settings: dict, seed: int) -> dict:
    import torch
    from peft import LoraConfig
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    set_seed(seed)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_records, valid_records = load_jsonl(train_path), load_jsonl(valid_path)
    if not train_records:
        raise ValueError(f"{train_path}: the mixture has no training records")
    template = settings["template"]
    tokenizer = models.load_tokenizer(pointer, padding_side="right")
    model = models.load_causal_lm(pointer)
    model.train()
    devices = max(1, torch.cuda.device_count())
    accumulation = gradient_accumulation(settings["global_batch_size"], settings["micro_batch_size"], devices)
    per_epoch = "epoch" if settings.get("eval_every_steps") is None else "steps"
    has_valid = bool(valid_records)
    lora = settings["lora"]
    args = SFTConfig(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=settings["epochs"],
        max_steps=settings["max_steps"],
        per_device_train_batch_size=settings["micro_batch_size"],
        per_device_eval_batch_size=settings["micro_batch_size"],
        gradient_accumulation_steps=accumulation,
        learning_rate=settings["learning_rate"],
        lr_scheduler_type=settings["lr_scheduler"],
        warmup_ratio=settings["warmup_ratio"],
        weight_decay=settings["weight_decay"],
        max_length=settings["max_length"],
        completion_only_loss=not settings["loss_on_prompt"],
        eval_strategy=per_epoch if has_valid else "no",
        save_strategy=per_epoch,
        eval_steps=settings.get("eval_every_steps"),
        save_steps=settings.get("eval_every_steps") or 500,
        load_best_model_at_end=has_valid,
        metric_for_best_model="eval_loss" if has_valid else None,
        greater_is_better=False if has_valid else None,
        save_total_limit=2,
        logging_steps=1,
        seed=seed,
        data_seed=seed,
        report_to=[],
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        group_by_length=True,  # length-grouped batches: less padding
        include_num_input_tokens_seen=True,
        disable_tqdm=False,
    )
    peft_config = LoraConfig(
        r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
        target_modules=list(lora["target_modules"]), task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model, args=args, processing_class=tokenizer, peft_config=peft_config,
        train_dataset=_dataset(train_records, template),
        eval_dataset=_dataset(valid_records, template) if has_valid else None,
    )
    started = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - started

    with atomic_path(run_dir / "adapter") as tmp:
        os.unlink(tmp)
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        shutil.rmtree(run_dir / "adapter", ignore_errors=True)
    state = trainer.state
    with atomic_path(run_dir / "trainer_state.json") as tmp:
        state.save_to_json(str(tmp))
    with atomic_path(run_dir / "train_log.jsonl") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for entry in state.log_history:
            fh.write(json.dumps(entry) + "\n")
    train_tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"])
    eval_losses = [e["eval_loss"] for e in state.log_history if "eval_loss" in e]
    metrics = {
        "method": "lora",
        "template": template,
        "learning_rate": settings["learning_rate"],
        "global_batch_size": settings["global_batch_size"],
        "gradient_accumulation_steps": accumulation,
        "devices": devices,
        "epochs": settings["epochs"],
        "steps": state.global_step,
        "train_examples": len(train_records),
        "valid_examples": len(valid_records),
        "examples_seen": min(state.global_step * settings["global_batch_size"],
                             math.ceil(state.epoch or 0) * len(train_records)),
        "tokens_seen": int(state.num_input_tokens_seen),
        "train_tokens_per_epoch": train_tokens,
        "train_loss": result.training_loss,
        "eval_losses": eval_losses,
        "best_eval_loss": state.best_metric,
        "best_checkpoint": Path(state.best_model_checkpoint).name if state.best_model_checkpoint else None,
        "train_seconds": round(seconds, 2),
        "tokens_per_second": round(state.num_input_tokens_seen / seconds, 2) if seconds else None,
        "seed": seed,
    }
    write_json(run_dir / "metrics.json", metrics)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    return metrics
