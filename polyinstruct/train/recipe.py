"""One fine-tuning run, setup -> train -> save: LoRA or full fine-tuning through TRL's SFTTrainer.

`train(spec)` runs in every process of the job (one per GPU under torchrun, or in the job's own
process). It resumes from `spec["resume_from"]` when set, stops and saves on preemption, keeps the
weights `train.checkpoint_selection` chooses, and records what the run saw and how fast it went.

Run directory: `adapter/` (LoRA) or `model/` (full), `metrics.json`, `trainer_state.json`,
`train_log.jsonl`, `checkpoints.json` (evaluations and the choice), `epochs/` (per-epoch
snapshots under `every-epoch`), and while running `checkpoints/` (resume points).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from polyinstruct import compat
from polyinstruct.io import InputError, atomic_path, load_jsonl, write_json, write_jsonl
from polyinstruct.models import chat, loader
from polyinstruct.train import batching, budget, counters, efficiency, families, preemption, selection
from polyinstruct.workflow import paths

log = logging.getLogger(__name__)
METHODS = ("lora", "full")
BATCHING = ("length-grouped", "padded", "packed", "tokens")


def _dataset(records: list[dict], template: str):
    from datasets import Dataset

    return Dataset.from_list([chat.training_example(r, template) for r in records])


def _load_model(pointer: dict, method: str, settings: dict):
    import torch
    from transformers import AutoModelForCausalLM

    # LoRA keeps the frozen base in bf16 on GPUs; full fine-tuning keeps fp32 master weights (bf16 autocast)
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if (bf16 and method == "lora") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(**pointer["load"], dtype=dtype)
    if settings["batching"] == "packed" and not families.supports_packed_sequences(model.config.model_type):
        raise InputError(
            f"config key 'train.batching': packed (padding-free) batches need attention masks built from position ids, "
            f"which model type '{model.config.model_type}' does not have; use length-grouped"
        )
    return model


def _arguments(spec: dict, plan: dict, accumulation: int, has_valid: bool):
    import torch
    from trl import SFTConfig

    s, run_dir = spec["settings"], Path(spec["run_dir"])
    on_gpu = torch.cuda.is_available()
    eval_strategy = "no"
    if has_valid:
        eval_strategy = "steps" if s["eval_every_steps"] else "epoch"
    return SFTConfig(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=plan["epochs"],
        max_steps=plan["max_steps"],
        per_device_train_batch_size=s["micro_batch_size"],
        per_device_eval_batch_size=s["micro_batch_size"],
        gradient_accumulation_steps=accumulation,
        learning_rate=spec["learning_rate"],
        lr_scheduler_type=s["lr_scheduler"],
        lr_scheduler_kwargs=scheduler_kwargs(s["lr_scheduler"], s.get("min_lr_ratio"), spec["learning_rate"]),
        # warmup_steps (Alpaca-LoRA's 100) wins over warmup_ratio when set
        **(
            compat.warmup_arguments(s["warmup_ratio"])
            if s.get("warmup_steps") is None
            else {"warmup_steps": int(s["warmup_steps"])}
        ),
        weight_decay=s["weight_decay"],
        adam_beta1=s["adam_beta1"],
        adam_beta2=s["adam_beta2"],
        max_length=s["max_length"],
        completion_only_loss=not s["loss_on_prompt"],
        **compat.length_grouping_arguments(s["batching"] == "length-grouped"),
        packing=s["batching"] == "packed",
        packing_strategy="bfd",  # best-fit decreasing into max_length rows, padding-free
        gradient_checkpointing=s["gradient_checkpointing"],
        gradient_checkpointing_kwargs={"use_reentrant": False} if s["gradient_checkpointing"] else None,
        eval_strategy=eval_strategy,
        eval_steps=s["eval_every_steps"],
        save_strategy="steps",
        save_steps=s["save_every_steps"],
        save_total_limit=2,
        logging_steps=1,
        seed=spec["seed"],
        data_seed=spec["seed"],
        report_to=[],
        bf16=on_gpu and torch.cuda.is_bf16_supported(),
        use_cpu=not on_gpu,
        deepspeed=spec.get("deepspeed"),
        dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=False,
    )


def scheduler_kwargs(scheduler: str, min_lr_ratio: float | None, learning_rate: float) -> dict:
    """`lr_scheduler_kwargs` that end the schedule at `min_lr_ratio` x the lr (pasero without warm-up:
    polynomial, power 1, to a tenth of the lr); {} without a ratio."""
    if min_lr_ratio is None:
        return {}
    if scheduler == "polynomial":
        return {"lr_end": min_lr_ratio * learning_rate, "power": 1.0}
    if scheduler in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        return {"min_lr_rate": min_lr_ratio}
    raise InputError(
        f"config key 'train.min_lr_ratio': scheduler '{scheduler}' has no end point to set; use polynomial or "
        f"cosine_with_min_lr, or set it to null"
    )


def _trainer_class():
    from trl import SFTTrainer

    class CountingSFTTrainer(SFTTrainer):
        """SFTTrainer that reports every training micro-batch to the run's counters.

        With batching `length-grouped` its training batches are bucketed by length over the whole epoch
        (`batching.LengthBucketSampler`, seeded by `data_seed`) instead of inside transformers'
        mega-batches; with batching `tokens` (a `token_batches` sampler) it draws pasero's token-budget
        batches. Evaluation batches are transformers' as before.
        """

        counters: counters.Counters
        token_batches: batching.TokenBatchSampler | None = None

        def _get_train_sampler(self, train_dataset=None):
            dataset = self.train_dataset if train_dataset is None else train_dataset
            grouped = getattr(self.args, "group_by_length", False) or (
                getattr(self.args, "train_sampling_strategy", None) == "group_by_length"
            )
            if not grouped or dataset is None:
                return super()._get_train_sampler(train_dataset)
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            lengths = [len(ids) for ids in dataset["input_ids"]]
            return batching.LengthBucketSampler(lengths, self._train_batch_size, seed)

        def training_step(self, model, inputs, num_items_in_batch=None):
            self.counters.add(inputs)
            return super().training_step(model, inputs, num_items_in_batch)

        def get_train_dataloader(self):
            if self.token_batches is None:
                return super().get_train_dataloader()
            from torch.utils.data import DataLoader

            dataset = self._remove_unused_columns(self.train_dataset, description="Training")
            loader = DataLoader(
                dataset,
                batch_sampler=self.token_batches,
                collate_fn=self.data_collator,
                num_workers=self.args.dataloader_num_workers,
                pin_memory=self.args.dataloader_pin_memory,
            )
            return self.accelerator.prepare(loader)

    return CountingSFTTrainer


def train(spec: dict) -> dict | None:
    """Train one run; returns its metrics on the main process (None elsewhere)."""
    from peft import LoraConfig
    from transformers import set_seed

    method, s, run_dir = spec["method"], spec["settings"], Path(spec["run_dir"])
    if method not in METHODS:
        raise ValueError(f"unknown training method '{method}' (one of {', '.join(METHODS)})")
    if s["checkpoint_selection"] == "every-epoch" and s["eval_every_steps"]:
        raise InputError(
            "config key 'train.eval_every_steps': every-epoch checkpoint selection evaluates once "
            "per epoch; set it to null"
        )
    set_seed(spec["seed"])
    (run_dir / "epochs").mkdir(parents=True, exist_ok=True)  # per-epoch snapshots (every-epoch) or empty
    train_records, valid_records = load_jsonl(spec["train"]), load_jsonl(spec["valid"])
    if not train_records:
        raise InputError(f"{spec['train']}: the mixture has no training records")
    pointer = spec["pointer"]
    tokenizer = loader.load_tokenizer(pointer, padding_side="right")
    if s["template"] == "chat":
        chat.require_chat_template(tokenizer, f"model '{pointer['name']}' (config key 'train.template': chat)")
    model = _load_model(pointer, method, s)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    tokens = s["batching"] == "tokens"
    if tokens:
        accumulation = batching.accumulation(s["accumulate_batches"], world)
    else:
        accumulation = budget.gradient_accumulation(s["global_batch_size"], s["micro_batch_size"], world)
    has_valid = bool(valid_records)

    peft_config = None
    if method == "lora":
        lora = s["lora"]
        peft_config = LoraConfig(
            r=lora["r"],
            lora_alpha=lora["alpha"],
            lora_dropout=lora["dropout"],
            task_type="CAUSAL_LM",
            target_modules=families.lora_targets(model.config.model_type, lora["target_modules"]),
        )
    provisional = {"epochs": s["epochs"], "max_steps": s["max_steps"]}
    run_counters = counters.Counters()
    snapshots = selection.Snapshots(s["checkpoint_selection"], run_dir)
    stop = preemption.Preemption()
    callbacks = [run_counters, snapshots, stop]
    if s["max_tokens"]:
        callbacks.append(budget.TokenBudget(s["max_tokens"]))
    trainer = _trainer_class()(
        model=model,
        args=_arguments(spec, provisional, accumulation, has_valid),
        processing_class=tokenizer,
        peft_config=peft_config,
        train_dataset=_dataset(train_records, s["template"]),
        eval_dataset=_dataset(valid_records, s["template"]) if has_valid else None,
        callbacks=callbacks,
    )
    trainer.counters, snapshots.trainer = run_counters, trainer
    lengths = [len(ids) for ids in trainer.train_dataset["input_ids"]]
    tokens_per_epoch = sum(lengths)
    steps_per_epoch = None
    if tokens:
        trainer.token_batches = batching.TokenBatchSampler(lengths, s["batch_tokens"], s["token_buffer"], spec["seed"])
        steps_per_epoch = max(1, len(trainer.token_batches) // s["accumulate_batches"])
    plan = budget.plan(s, len(train_records), tokens_per_epoch, steps_per_epoch)
    trainer.args.num_train_epochs, trainer.args.max_steps = plan["epochs"], plan["max_steps"]

    resume_from = spec.get("resume_from")
    if resume_from:
        run_counters.restore(resume_from)
        log.info("resuming from %s", resume_from)
    trainer.train(resume_from_checkpoint=resume_from)
    if stop.received is not None:
        raise preemption.Preempted(
            f"stopped by signal {stop.received} at step {trainer.state.global_step}; "
            f"checkpoint saved in {run_dir / 'checkpoints'}; re-run to resume"
        )
    state = trainer.state
    choice = selection.choose(s["checkpoint_selection"], state.log_history, run_dir)
    final = run_dir / ".final"
    if choice["source"] == "final":
        if trainer.is_world_process_zero():
            shutil.rmtree(final, ignore_errors=True)
        trainer.save_model(str(final))  # every rank: ZeRO-3 gathers its shards here
    if not trainer.is_world_process_zero():
        return None
    source = final if choice["source"] == "final" else run_dir / choice["source"]
    tokenizer.save_pretrained(str(source))
    weights = run_dir / paths.WEIGHTS
    shutil.rmtree(weights, ignore_errors=True)
    if choice["source"].startswith("epochs/"):
        shutil.copytree(source, weights)
    else:
        source.rename(weights)

    write_json(run_dir / "checkpoints.json", choice)
    with atomic_path(run_dir / "trainer_state.json") as tmp:
        state.save_to_json(str(tmp))
    write_jsonl(run_dir / "train_log.jsonl", state.log_history)

    metrics = _metrics(
        spec,
        trainer,
        plan,
        accumulation,
        world,
        run_counters,
        choice,
        tokens_per_epoch,
        len(train_records),
        len(valid_records),
    )
    write_json(run_dir / "metrics.json", metrics)
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
    shutil.rmtree(run_dir / ".best", ignore_errors=True)
    return metrics


def _metrics(
    spec, trainer, plan, accumulation, world, run_counters, choice, tokens_per_epoch, n_train, n_valid
) -> dict:
    import torch

    s, state = spec["settings"], trainer.state
    losses = [e["loss"] for e in state.log_history if "loss" in e]
    totals = run_counters.totals
    device_name = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    shape = efficiency.model_shape(trainer.model)
    return {
        "method": spec["method"],
        "template": s["template"],
        "learning_rate": spec["learning_rate"],
        "seed": spec["seed"],
        "global_batch_size": s["global_batch_size"],
        "micro_batch_size": s["micro_batch_size"],
        "gradient_accumulation_steps": accumulation,
        "devices": world,
        "deepspeed": spec.get("deepspeed"),
        "batching": s["batching"],
        **(
            {
                "batch_tokens": s["batch_tokens"],
                "accumulate_batches": s["accumulate_batches"],
                "token_batches_per_epoch": len(trainer.token_batches),
            }
            if trainer.token_batches is not None
            else {}
        ),
        "budget": {
            "kind": plan["kind"],
            "epochs": s["epochs"],
            "max_steps": plan["max_steps"],
            "max_tokens": s["max_tokens"],
        },
        "steps": state.global_step,
        "epochs_seen": round(state.epoch or 0.0, 4),
        "train_examples": n_train,
        # TRL drops examples whose completion is cut away entirely by max_length (nothing to learn from)
        "train_examples_used": _examples_in(trainer.train_dataset),
        "train_examples_dropped": n_train - _examples_in(trainer.train_dataset),
        "valid_examples": n_valid,
        "train_tokens_per_epoch": tokens_per_epoch,
        "examples_seen": totals["examples"],
        "tokens_seen": totals["tokens"],
        "token_slots": totals["slots"],
        "padding_share": run_counters.padding_share,
        "train_loss": sum(losses) / len(losses) if losses else None,
        "final_loss": losses[-1] if losses else None,
        "eval_losses": [e["eval_loss"] for e in choice["evaluations"]],
        "best_eval_loss": choice.get("best_eval_loss"),
        "checkpoint_selection": choice["mode"],
        "kept_step": choice.get("best_step", state.global_step),
        "resumed_from_step": _step_of(spec.get("resume_from")),
        "train_seconds": round(totals["train_seconds"], 2),
        **efficiency.summary(totals, shape, spec["method"], world, device_name, run_counters.steady),
        **efficiency.peak_memory(),
        "trainable_parameters": sum(efficiency.numel(p) for p in trainer.model.parameters() if p.requires_grad),
    }


def _examples_in(dataset) -> int:
    """Examples in the trainer's dataset; packed rows list the lengths of the examples they hold."""
    if "seq_lengths" in dataset.column_names:
        return sum(len(lengths) for lengths in dataset["seq_lengths"])
    return len(dataset)


def _step_of(checkpoint: str | None) -> int | None:
    return int(Path(checkpoint).name.rsplit("-", 1)[1]) if checkpoint else None
