"""Throughput, memory and model FLOPs utilisation (MFU) of a training run.

MFU = achieved model FLOP/s per device / the device's dense bf16 peak. Model FLOPs per token
follow the PaLM appendix: 6N for full fine-tuning (forward 2N, backward 4N) plus attention
12 * layers * hidden * sequence; LoRA skips the frozen weights' gradients, so 4N plus attention
(the adapters' own FLOPs are negligible at low rank).
"""

from __future__ import annotations

# dense bf16 tensor-core peaks (no sparsity), FLOP/s, from the vendors' datasheets
PEAK_BF16 = {
    "H200": 989e12,
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H100": 989e12,  # SXM
    "A100": 312e12,
    "L40S": 362e12,
    "A10G": 70e12,
    "L4": 121e12,
}


def peak_flops(device_name: str) -> float | None:
    """The bf16 peak for a `torch.cuda.get_device_name()` string; most specific name first."""
    for name in sorted(PEAK_BF16, key=len, reverse=True):
        if name.lower() in device_name.lower():
            return PEAK_BF16[name]
    return None


def flops_per_token(params: int, layers: int, hidden: int, sequence: float, method: str) -> float:
    weights = (6 if method == "full" else 4) * params
    return weights + 12 * layers * hidden * sequence


def mfu(tokens_per_second_per_device: float, per_token: float, peak: float | None) -> float | None:
    if not peak or not tokens_per_second_per_device:
        return None
    return tokens_per_second_per_device * per_token / peak


def peak_memory() -> dict:
    """Peak accelerator memory of this process (GPU) or its peak resident set size (CPU), in MiB."""
    import resource

    import torch

    result = {"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if torch.cuda.is_available():
        result["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def numel(parameter) -> int:
    """Elements of a parameter, also when ZeRO-3 has partitioned it away (`ds_numel`)."""
    return getattr(parameter, "ds_numel", None) or parameter.numel()


def model_shape(model) -> dict:
    """Parameters without embeddings, layers and hidden size, for `flops_per_token`."""
    config = model.config
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    embeddings = sum(numel(p) for p in base.get_input_embeddings().parameters())
    params = sum(numel(p) for n, p in base.named_parameters() if "lora_" not in n) - embeddings
    return {"params": params, "layers": config.num_hidden_layers, "hidden": config.hidden_size}


def summary(
    counters: dict, shape: dict, method: str, devices: int, device_name: str | None, steady: dict | None = None
) -> dict:
    """Throughput and MFU over the whole run, and `steady_*` without the first step (`steady`: the counters
    from the second step on), which on a GPU holds the start-up (allocation, kernel selection) of a short run."""
    seconds = counters["train_seconds"]
    tokens_per_second = counters["tokens"] / seconds if seconds else 0.0
    sequence = counters["tokens"] / counters["examples"] if counters["examples"] else 0.0
    per_token = flops_per_token(shape["params"], shape["layers"], shape["hidden"], sequence, method)
    peak = peak_flops(device_name) if device_name else None
    per_device = tokens_per_second / max(1, devices)
    steady_per_device = None
    if steady and steady["train_seconds"]:
        steady_per_device = steady["tokens"] / steady["train_seconds"] / max(1, devices)
    return {
        "tokens_per_second": round(tokens_per_second, 2),
        "tokens_per_second_per_device": round(per_device, 2),
        "steady_tokens_per_second_per_device": None if steady_per_device is None else round(steady_per_device, 2),
        "model_flops_per_token": per_token,
        "device": device_name or "cpu",
        "peak_flops": peak,
        "mfu": None if peak is None else round(mfu(per_device, per_token, peak), 4),
        "steady_mfu": None
        if peak is None or steady_per_device is None
        else round(mfu(steady_per_device, per_token, peak), 4),
    }
