"""vLLM as a generation engine (GPU clusters; config `generate.backend: vllm`, env `envs/vllm.yaml`).

Same contract as `generate.TransformersEngine`: `complete(prompts, temperature, seed)` on prompts
already rendered with the run's tokenizer, so both engines see identical text. vLLM is imported
only when an engine is built; everything that decides *what* vLLM is asked (which weights, which
LoRA adapter, which sampling parameters) is plain code, tested without vLLM.

Tuned runs: a LoRA adapter is served with vLLM's LoRA support (`LoRARequest`) on the base model
(`generate.vllm.lora: adapter`), or the merged weights written by `merge_lora` are loaded as a
plain model (`lora: merged`). Fully fine-tuned runs load their `model/` directory.
"""

from __future__ import annotations

import time
from pathlib import Path

from polyinstruct.io import InputError
from polyinstruct.workflow import paths

LORA_MODES = ("adapter", "merged")


def model_source(pointer: dict, method: str, weights: str | None, lora_mode: str = "adapter") -> dict:
    """{model, revision, tokenizer, adapter}: what vLLM loads for one run."""
    load = pointer["load"]
    base = {
        "model": str(load["pretrained_model_name_or_path"]),
        "revision": load.get("revision"),
        "tokenizer": str(load["pretrained_model_name_or_path"]),
        "adapter": None,
    }
    if method == "base":
        return base
    if not weights:
        raise InputError(f"a {method} run needs its trained weights; none were given")
    if method == "full":
        return {**base, "model": str(weights), "revision": None}
    if method == "lora":
        if lora_mode == "merged":
            merged = Path(weights)
            if merged.name == paths.WEIGHTS:  # the rule passes merged/ already; accept the adapter path too
                merged = merged.parent / paths.MERGED
            return {**base, "model": str(merged), "revision": None}
        if lora_mode == "adapter":
            return {**base, "adapter": str(weights)}
        raise InputError(f"config key 'generate.vllm.lora': {lora_mode!r} is not one of {', '.join(LORA_MODES)}")
    raise InputError(f"unknown training method '{method}'")


def engine_args(source: dict, settings: dict, seed: int) -> dict:
    """Keyword arguments of `vllm.LLM` from `generate.vllm` settings."""
    args = {
        "model": source["model"],
        "tokenizer": source["tokenizer"],
        "seed": int(seed),
        "tensor_parallel_size": settings["tensor_parallel_size"],
        "gpu_memory_utilization": settings["gpu_memory_utilization"],
        "dtype": settings["dtype"],
    }
    if source.get("revision"):
        args["revision"] = source["revision"]
    if settings.get("max_model_len"):
        args["max_model_len"] = settings["max_model_len"]
    if source.get("adapter"):
        args.update(enable_lora=True, max_lora_rank=settings["max_lora_rank"], max_loras=1)
    return args


#: generate.* decoding settings vLLM's SamplingParams has no equivalent for (beam search is its separate
#: `LLM.beam_search` API; there is no no-repeat n-gram constraint): a vllm job asked for them stops.
UNSUPPORTED = {"num_beams": 1, "no_repeat_ngram_size": 0}


def check_decoding(settings: dict) -> None:
    """Stop, naming the key, when `generate` asks for decoding vLLM cannot do (rather than ignoring it)."""
    for key, off in UNSUPPORTED.items():
        if settings.get(key, off) != off:
            raise InputError(
                f"config key 'generate.{key}': {settings[key]} has no vLLM SamplingParams equivalent; "
                f"use generate.backend transformers for it, or set it to {off}"
            )


def sampling_args(
    temperature: float, seed: int, max_new_tokens: int, repetition_penalty: float, stop: list[str] | None = None
) -> dict:
    """Keyword arguments of `vllm.SamplingParams`: greedy at temperature 0, else seeded sampling; vLLM cuts
    each output before its first stop string, as the transformers engine does."""
    args = {
        "temperature": float(temperature),
        "max_tokens": int(max_new_tokens),
        "repetition_penalty": float(repetition_penalty),
    }
    if stop:
        args["stop"] = list(stop)
    if temperature > 0:
        args.update(top_p=1.0, seed=int(seed))
    return args


def _import_vllm():
    try:
        import vllm
        from vllm.lora.request import LoRARequest
    except ImportError as exc:
        raise InputError(
            "config key 'generate.backend' (or 'score.judge.engine') is vllm, but vllm is not "
            f"installed in this environment ({exc}); run with --sdm conda (envs/vllm.yaml) or "
            "install it on a GPU node"
        ) from None
    return vllm, LoRARequest


class VLLMEngine:
    """One vLLM engine per job (a run's model, or the judge)."""

    def __init__(self, source: dict, settings: dict, seed: int = 0):
        check_decoding(settings)
        vllm, lora_request = _import_vllm()
        self._vllm = vllm
        self.settings = settings
        self.source = source
        self.llm = vllm.LLM(**engine_args(source, settings["vllm"], seed))
        self.lora = lora_request("run-adapter", 1, source["adapter"]) if source.get("adapter") else None

    def complete(
        self, prompts: list[str], temperature: float = 0.0, seed: int = 0, max_new_tokens: int | None = None
    ) -> tuple[list[str], dict]:
        params = self._vllm.SamplingParams(
            **sampling_args(
                temperature,
                seed,
                max_new_tokens or self.settings["max_new_tokens"],
                self.settings.get("repetition_penalty", 1.0),
                self.settings.get("stop"),
            )
        )
        started = time.perf_counter()
        outputs = self.llm.generate(prompts, params, lora_request=self.lora, use_tqdm=False)
        texts = [o.outputs[0].text.strip() for o in outputs]
        new_tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
        return texts, {
            "prompts": len(prompts),
            "new_tokens": new_tokens,
            "seconds": round(time.perf_counter() - started, 3),
        }
