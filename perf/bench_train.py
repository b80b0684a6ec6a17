"""Training throughput through the pipeline's own recipe: our batching against plain padded batches, and MFU.

CPU (default): a random Llama (hidden 256, 4 layers) with a small BPE tokenizer, LoRA, on the shipped
polyalpaca records (en/fr/de, 300 examples of mixed length). The same data is trained with plain
shuffled padded batches, length-grouped batches and packed (padding-free) rows; the table gives real
(non-padding) tokens/s, the padding share and the ratio against padded batches.

GPU (`--device cuda`): a ~1.1B Llama-architecture model, random init (hidden 2048, 16 layers, 32 heads,
8 KV heads, ffn 5632, as TinyLlama), bf16, LoRA and full fine-tuning, each with padded, length-grouped and
packed batches of examples of varied length (log-normal, median 80 words, up to 1,024 tokens); tokens/s
per GPU and MFU against the device's dense bf16 peak (polyinstruct.train.efficiency), over the whole run
and without its first step (`steady_*`). perf/gpu_check.sh runs the same through `gpu_rows`. Anchors:
torchtitan reports 33-39% MFU for Llama-3-8B in bf16 on H100s.

    .venv/bin/python perf/bench_train.py [--examples 300] [--epochs 1] [--threads 2] [--repeat 1]
    .venv/bin/python perf/bench_train.py --device cuda [--examples 1600] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

CPU_SHAPE = dict(
    hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=4
)
GPU_SHAPE = dict(
    hidden_size=2048, intermediate_size=5632, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8
)


def shipped_records() -> list[dict]:
    records = []
    for lang in ("en", "fr", "de"):
        path = REPO / "resources/data/polyalpaca" / f"{lang}.jsonl"
        records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return records


def varied_records(n: int, *, median_words: int = 80, sigma: float = 0.9, max_words: int = 700, seed: int = 0):
    """`n` instruction/response examples whose response lengths are log-normal (as instruction data is),
    the words drawn from the shipped responses; instructions cycle through the shipped ones."""
    import math
    import random

    shipped = shipped_records()
    pool = " ".join(r["output"] for r in shipped).split()
    rng = random.Random(seed)
    records = []
    for i in range(n):
        words = min(max_words, max(5, int(rng.lognormvariate(math.log(median_words), sigma))))
        start = rng.randrange(len(pool))
        source = shipped[i % len(shipped)]
        records.append(
            {
                "id": f"g{i}",
                "lang": "en",
                "instruction": source["instruction"],
                "input": source.get("input", ""),
                "output": " ".join(pool[(start + j) % len(pool)] for j in range(words)),
            }
        )
    return records


def build_model(out_dir: Path, corpus: list[str], shape: dict, *, device: str = "cpu", dtype=None) -> Path:
    """A random-init Llama of `shape` with a BPE tokenizer trained on `corpus`; built on `device`, saved in
    `dtype` (bf16 halves the checkpoint of the 1.1B model; full fine-tuning loads it back in fp32)."""
    import torch
    from tiny_models import build_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(corpus)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **shape,
    )
    with torch.device(device):
        model = LlamaForCausalLM(config)
    if dtype is not None:
        model = model.to(dtype)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return out_dir


def settings(**overrides) -> dict:
    base = dict(
        template="chat",
        global_batch_size=16,
        micro_batch_size=16,
        epochs=1,
        max_steps=-1,
        max_tokens=None,
        lr_scheduler="constant",
        warmup_ratio=0.0,
        weight_decay=0.0,
        adam_beta1=0.9,
        adam_beta2=0.999,
        max_length=256,
        loss_on_prompt=False,
        eval_every_steps=None,
        save_every_steps=100000,
        checkpoint_selection="last",
        batching="length-grouped",
        gradient_checkpointing=False,
        deepspeed=None,
        lora=dict(r=16, alpha=32, dropout=0.0, target_modules="qkv"),
    )
    return {**base, **overrides}


def run(method: str, pointer: dict, data: dict, root: Path, name: str, lr: float, **overrides) -> dict:
    from polyinstruct.train import launch

    spec = launch.job_spec(method, pointer, data["train"], data["valid"], root / name, settings(**overrides), lr, 0, {})
    return launch.run(spec, 1)


def cpu(args, root: Path) -> list[dict]:
    from polyinstruct.io import write_jsonl
    from polyinstruct.models import loader

    records = shipped_records()[: args.examples]
    model_dir = build_model(root / "model", [r["instruction"] + " " + r["output"] for r in records], CPU_SHAPE)
    pointer = loader.prepare("bench", {"path": str(model_dir)}, root / "prepared")
    data = {"train": root / "train.jsonl", "valid": root / "valid.jsonl"}
    write_jsonl(data["train"], records)
    write_jsonl(data["valid"], [])
    best = {}
    for attempt in range(args.repeat):  # alternate the batchings, keep each one's fastest run
        for batching in ("padded", "length-grouped", "packed"):
            m = run("lora", pointer, data, root, f"{batching}-{attempt}", 1e-4, batching=batching, epochs=args.epochs)
            row = {
                "batching": batching,
                "steps": m["steps"],
                "examples_seen": m["examples_seen"],
                "tokens_seen": m["tokens_seen"],
                "padding_share": m["padding_share"],
                "train_seconds": m["train_seconds"],
                "tokens_per_second": m["tokens_per_second"],
            }
            if batching not in best or row["tokens_per_second"] > best[batching]["tokens_per_second"]:
                best[batching] = row
    rows = list(best.values())
    padded = best["padded"]["tokens_per_second"]
    for row in rows:
        row["ratio_vs_padded"] = round(row["tokens_per_second"] / padded, 2)
    return rows


GPU_RUNS = (
    ("lora", "packed"),
    ("full", "packed"),
    ("lora", "length-grouped"),
    ("full", "length-grouped"),
    ("lora", "padded"),
    ("full", "padded"),
)
LEARNING_RATES = {"lora": 1e-4, "full": 1e-5}


def gpu_data(root: Path, examples: int, shape: dict, *, device: str = "cuda") -> tuple[dict, dict]:
    """The random model (built once under `root`, reused when there) and the varied-length training data."""
    import torch

    from polyinstruct.io import write_jsonl
    from polyinstruct.models import loader

    model_dir = root / "model"
    if not (model_dir / "config.json").exists():
        corpus = [r["instruction"] + " " + r["output"] for r in shipped_records()]
        build_model(model_dir, corpus, shape, device=device, dtype=torch.bfloat16 if device == "cuda" else None)
    pointer = loader.prepare("bench-1b", {"path": str(model_dir)}, root / "prepared")
    data = {"train": root / "train.jsonl", "valid": root / "valid.jsonl"}
    write_jsonl(data["train"], varied_records(examples))
    write_jsonl(data["valid"], [])
    return pointer, data


def gpu_rows(
    root: Path,
    pointer: dict,
    data: dict,
    *,
    steps: int,
    max_length: int,
    micro: int,
    runs=GPU_RUNS,
    peak_measured: float | None = None,
    on_row=None,
    **overrides,
) -> list[dict]:
    """One short run per (method, batching); a row each with the run's throughput and MFU. `on_row(rows)` is
    called after every run (so a time-boxed caller keeps what finished); run directories are removed."""
    import gc
    import shutil

    import torch

    rows = []
    for method, batching in runs:
        name = f"{method}-{batching}"
        gc.collect()  # the previous run's model and optimiser, so each run's peak memory is its own
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        settings = {
            "max_length": max_length,
            "micro_batch_size": micro,
            "global_batch_size": micro,
            "batching": batching,
            "max_steps": steps,
            "gradient_checkpointing": False,
            **overrides,
        }
        m = run(method, pointer, data, root, name, LEARNING_RATES[method], **settings)
        shutil.rmtree(root / name, ignore_errors=True)
        rows.append(row(m, peak_measured))
        if on_row:
            on_row(rows)
    return rows


def row(m: dict, peak_measured: float | None = None) -> dict:
    """The figures of one run's metrics; MFU also against a measured peak (FLOP/s) when given."""
    steady = m.get("steady_tokens_per_second_per_device")
    per_token = m["model_flops_per_token"]
    return {
        "method": m["method"],
        "batching": m["batching"],
        "deepspeed": bool(m.get("deepspeed")),
        "steps": m["steps"],
        "examples_seen": m["examples_seen"],
        "tokens_seen": m["tokens_seen"],
        "mean_tokens_per_example": round(m["tokens_seen"] / m["examples_seen"], 1) if m["examples_seen"] else None,
        "padding_share": m["padding_share"],
        "train_seconds": m["train_seconds"],
        "tokens_per_second_per_device": m["tokens_per_second_per_device"],
        "steady_tokens_per_second_per_device": steady,
        "model_flops_per_token": per_token,
        "mfu_datasheet": m["mfu"],
        "steady_mfu_datasheet": m.get("steady_mfu"),
        "steady_mfu_measured_peak": round(steady * per_token / peak_measured, 4) if steady and peak_measured else None,
        "peak_flops_datasheet": m["peak_flops"],
        "device": m["device"],
        "peak_gpu_mib": m.get("peak_gpu_mib"),
        "trainable_parameters": m["trainable_parameters"],
        "final_loss": m["final_loss"],
    }


def gpu(args, root: Path) -> list[dict]:
    pointer, data = gpu_data(root, args.examples, GPU_SHAPE)
    return gpu_rows(root, pointer, data, steps=args.steps, max_length=1024, micro=16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--examples", type=int, default=None, help="300 on the CPU, 1600 on the GPU")
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--steps", type=int, default=20, help="optimiser steps per GPU measurement")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="CPU: runs of each batching, alternating; the best")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.examples is None:
        args.examples = 1600 if args.device == "cuda" else 300
    with tempfile.TemporaryDirectory() as tmp:
        rows = (gpu if args.device == "cuda" else cpu)(args, Path(tmp))
    for row in rows:
        print(json.dumps(row))
    if args.device == "cpu":
        grouped = rows[1]
        same = len({(r["examples_seen"], r["tokens_seen"]) for r in rows}) == 1
        print(
            f"length-grouped: padding share {grouped['padding_share']:.1%} (target <= 5%), "
            f"{grouped['ratio_vs_padded']:.2f}x plain padded batches in real tokens/s (target >= 1.5x); "
            f"the same examples and tokens seen in every batching: {same}"
        )


if __name__ == "__main__":
    main()
