"""Batched generation with transformers: length-sorted batches, left padding; greedy, beam search or seeded
sampling; optional no-repeat n-grams and stop strings (Chen et al.'s decoding: 4 beams, 256 new tokens, no
repeated 6-gram, every response cut at the next Alpaca section "\n### ").

Multi-turn eval items are answered turn by turn; turn k's prompt holds the model's own earlier
answers. Outputs come back in input order whatever order the batches ran in.

Nothing is cut silently: a prompt longer than `max_prompt_length` tokens is left-truncated (its start
dropped) and counted, per prompt (`truncated`), and per run in the generation stats file
(`truncated_prompts`, `truncated_tokens`, and each record's `truncated_turns`).

Sampling (Weber et al. / FastChat: a temperature per category, `generate.temperature`) is seeded per
(turn, temperature) group and per batch, so the same config, data and batch size give the same
answers on the same hardware. The engine is pluggable (`complete(prompts, temperature, seed)`):
transformers here, vLLM in `polyinstruct.generate.vllm_engine`.
"""

from __future__ import annotations

import hashlib
import time

from polyinstruct.data.evalsets import category_temperature
from polyinstruct.models import chat

GREEDY = {"default": 0.0, "by_category": {}}


def derive_seed(*parts) -> int:
    """A 31-bit seed from any parts (the experiment seed, a turn, a temperature, a batch index)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def batched_generate(
    model,
    tokenizer,
    prompts: list[str],
    *,
    batch_size: int,
    max_new_tokens: int,
    repetition_penalty: float = 1.0,
    max_prompt_length: int = 1024,
    temperature: float = 0.0,
    seed: int = 0,
    num_beams: int = 1,
    no_repeat_ngram_size: int = 0,
    stop: list[str] | tuple[str, ...] = (),
) -> tuple[list[str], dict]:
    """Continuations of `prompts` (rendered text), in order; greedy at temperature 0 (beam search with
    `num_beams` > 1); each cut before its first `stop` string; returns (texts, stats).

    A prompt over `max_prompt_length` tokens keeps its last `max_prompt_length` tokens; stats count them
    (`truncated_prompts`, `truncated_tokens` cut) and flag each (`truncated`, in prompt order)."""
    import torch

    tokenizer.padding_side = "left"
    full = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    cut = [max(0, len(ids) - max_prompt_length) for ids in full]
    encoded = [ids[n:] for ids, n in zip(full, cut)]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    new_tokens = 0
    started = time.perf_counter()
    device = next(model.parameters()).device
    if temperature > 0:
        decoding = {"do_sample": True, "temperature": float(temperature), "top_p": 1.0, "top_k": 0}
    else:
        decoding = {"do_sample": False}
    if num_beams > 1:
        decoding["num_beams"] = int(num_beams)
    if no_repeat_ngram_size:
        decoding["no_repeat_ngram_size"] = int(no_repeat_ngram_size)
    # stop strings cut the decoded continuation below, as Chen et al.'s code cut after decoding; transformers'
    # own stop_strings would also match across the prompt's end (a prompt ending in "\n" and an answer
    # starting "### " would stop at once), so generation is not stopped early by them
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        features = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt").to(device)
        if temperature > 0:
            torch.manual_seed(derive_seed(seed, start))
        with torch.inference_mode():
            generated = model.generate(
                **features,
                **decoding,
                max_new_tokens=max_new_tokens,
                repetition_penalty=repetition_penalty,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        continuation = generated[:, features["input_ids"].shape[1] :]
        for row, i in enumerate(batch):
            ids = continuation[row].tolist()
            if tokenizer.eos_token_id in ids:
                ids = ids[: ids.index(tokenizer.eos_token_id)]
            ids = [t for t in ids if t != tokenizer.pad_token_id]
            new_tokens += len(ids)
            outputs[i] = cut_at_stop(tokenizer.decode(ids, skip_special_tokens=True), stop).strip()
    seconds = time.perf_counter() - started
    return outputs, {
        "prompts": len(prompts),
        "new_tokens": new_tokens,
        "seconds": round(seconds, 3),
        "truncated_prompts": sum(n > 0 for n in cut),
        "truncated_tokens": sum(cut),
        "truncated": [n > 0 for n in cut],
    }


def cut_at_stop(text: str, stop) -> str:
    """`text` up to its first stop string (all of it when none occurs)."""
    for marker in stop or ():
        text = text.split(marker, 1)[0]
    return text


class TransformersEngine:
    """`complete(prompts, temperature, seed)` over a loaded transformers model (the default engine)."""

    def __init__(self, model, tokenizer, settings: dict):
        self.model, self.tokenizer, self.settings = model, tokenizer, settings

    def complete(
        self, prompts: list[str], temperature: float = 0.0, seed: int = 0, max_new_tokens: int | None = None
    ) -> tuple[list[str], dict]:
        s = self.settings
        return batched_generate(
            self.model,
            self.tokenizer,
            prompts,
            batch_size=s["batch_size"],
            max_new_tokens=max_new_tokens or s["max_new_tokens"],
            repetition_penalty=s.get("repetition_penalty", 1.0),
            max_prompt_length=s.get("max_prompt_length", 1024),
            temperature=temperature,
            seed=seed,
            num_beams=s.get("num_beams", 1),
            no_repeat_ngram_size=s.get("no_repeat_ngram_size", 0),
            stop=s.get("stop") or (),
        )


def answer_eval_items(
    model, tokenizer, items: list[dict], template: str, settings: dict, *, seed: int = 0, engine=None
) -> tuple[list[dict], dict]:
    """Answer every turn of every eval item; returns (records with `responses`, stats).

    Each turn's prompts are grouped by their category's temperature (`settings["temperature"]`,
    greedy when absent); each group is generated with a seed derived from (seed, turn, temperature).
    `engine` defaults to transformers on `model`; the tokenizer always renders the prompts.
    """
    engine = engine or TransformersEngine(model, tokenizer, settings)
    temperature_settings = settings.get("temperature") or GREEDY
    item_temperature = [category_temperature(item.get("category", ""), temperature_settings) for item in items]
    conversations: list[list[dict]] = [[] for _ in items]
    responses: list[list[str]] = [[] for _ in items]
    truncated_turns: list[list[int]] = [[] for _ in items]
    totals = {"prompts": 0, "new_tokens": 0, "seconds": 0.0, "truncated_prompts": 0, "truncated_tokens": 0}
    truncated_by_turn: dict[str, int] = {}
    by_temperature: dict[str, int] = {}
    for turn in range(max(len(item["turns"]) for item in items) if items else 0):
        active = [i for i, item in enumerate(items) if turn < len(item["turns"])]
        for i in active:
            conversations[i].append({"role": "user", "content": items[i]["turns"][turn]})
        for temperature in sorted({item_temperature[i] for i in active}):
            group = [i for i in active if item_temperature[i] == temperature]
            prompts = [chat.render(conversations[i], template, tokenizer) for i in group]
            texts, stats = engine.complete(prompts, temperature=temperature, seed=derive_seed(seed, turn, temperature))
            flags = stats.get("truncated") or [False] * len(group)
            for i, text, was_cut in zip(group, texts, flags):
                conversations[i].append({"role": "assistant", "content": text})
                responses[i].append(text)
                if was_cut:
                    truncated_turns[i].append(turn + 1)
                    truncated_by_turn[str(turn + 1)] = truncated_by_turn.get(str(turn + 1), 0) + 1
            for key in totals:
                totals[key] += stats.get(key, 0)
            by_temperature[str(temperature)] = by_temperature.get(str(temperature), 0) + len(group)
    records = [
        {**item, "responses": responses[i], "temperature": item_temperature[i], "truncated_turns": truncated_turns[i]}
        for i, item in enumerate(items)
    ]
    totals["seconds"] = round(totals["seconds"], 3)
    totals["truncated_by_turn"] = truncated_by_turn
    totals["max_prompt_length"] = settings.get("max_prompt_length", 1024)
    totals["tokens_per_second"] = round(totals["new_tokens"] / totals["seconds"], 2) if totals["seconds"] else None
    totals["prompts_by_temperature"] = by_temperature
    return records, totals


def build_engine(pointer: dict, method: str, weights: str | None, settings: dict, tokenizer, seed: int = 0):
    """The engine `generate.backend` names, loaded with the run's weights."""
    if settings.get("backend", "transformers") == "vllm":
        from polyinstruct.generate import vllm_engine

        source = vllm_engine.model_source(pointer, method, weights, settings["vllm"]["lora"])
        return vllm_engine.VLLMEngine(source, settings, seed)
    from polyinstruct.models import loader

    return TransformersEngine(loader.load_run_model(pointer, method, weights), tokenizer, settings)
