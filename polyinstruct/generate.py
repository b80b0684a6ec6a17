"""Batched greedy generation with transformers: length-sorted batches, left padding.

Multi-turn eval items are answered turn by turn; turn k's prompt holds the model's own earlier
answers. Outputs come back in input order whatever order the batches ran in.
"""
from __future__ import annotations

import time

from polyinstruct import chat


def batched_generate(model, tokenizer, prompts: list[str], *, batch_size: int, max_new_tokens: int,
                     repetition_penalty: float = 1.0, max_prompt_length: int = 1024) -> tuple[list[str], dict]:
    """Greedy continuations of `prompts` (rendered text), in order; returns (texts, stats)."""
    import torch

    tokenizer.padding_side = "left"
    tokenizer.truncation_side = "left"
    encoded = [tokenizer(p, add_special_tokens=False, truncation=True, max_length=max_prompt_length)["input_ids"]
               for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    new_tokens = 0
    started = time.perf_counter()
    device = next(model.parameters()).device
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        features = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt").to(device)
        with torch.inference_mode():
            generated = model.generate(
                **features, do_sample=False, max_new_tokens=max_new_tokens,
                repetition_penalty=repetition_penalty, pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        continuation = generated[:, features["input_ids"].shape[1]:]
        for row, i in enumerate(batch):
            ids = continuation[row].tolist()
            if tokenizer.eos_token_id in ids:
                ids = ids[:ids.index(tokenizer.eos_token_id)]
            ids = [t for t in ids if t != tokenizer.pad_token_id]
            new_tokens += len(ids)
            outputs[i] = tokenizer.decode(ids, skip_special_tokens=True).strip()
    seconds = time.perf_counter() - started
    return outputs, {"prompts": len(prompts), "new_tokens": new_tokens, "seconds": round(seconds, 3)}


def answer_eval_items(model, tokenizer, items: list[dict], template: str, settings: dict) -> tuple[list[dict], dict]:
    """Answer every turn of every eval item; returns (records with `responses`, stats)."""
    conversations: list[list[dict]] = [[] for _ in items]
    responses: list[list[str]] = [[] for _ in items]
    totals = {"prompts": 0, "new_tokens": 0, "seconds": 0.0}
    for turn in range(max(len(item["turns"]) for item in items) if items else 0):
        active = [i for i, item in enumerate(items) if turn < len(item["turns"])]
        for i in active:
            conversations[i].append({"role": "user", "content": items[i]["turns"][turn]})
        prompts = [chat.render(conversations[i], template, tokenizer) for i in active]
        texts, stats = batched_generate(
            model, tokenizer, prompts, batch_size=settings["batch_size"], max_new_tokens=settings["max_new_tokens"],
            repetition_penalty=settings["repetition_penalty"], max_prompt_length=settings["max_prompt_length"],
        )
        for i, text in zip(active, texts):
            conversations[i].append({"role": "assistant", "content": text})
            responses[i].append(text)
        for key in totals:
            totals[key] += stats[key]
    records = [{**item, "responses": responses[i]} for i, item in enumerate(items)]
    totals["tokens_per_second"] = round(totals["new_tokens"] / totals["seconds"], 2) if totals["seconds"] else None
    return records, totals
