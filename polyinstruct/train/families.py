"""Model families: which modules LoRA adapts, and whether packed (padding-free) batches are safe.

Llama-style models project queries, keys and values separately (`q_proj`, `k_proj`, `v_proj`);
BLOOM and GPT-NeoX/Pythia fuse them into one `query_key_value` linear layer. Config names a
preset (`qkv`, `attention`, `attention-mlp`, `all-linear`) or lists module names itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from polyinstruct.io import InputError


@dataclass(frozen=True)
class Family:
    qkv: tuple[str, ...]
    attention_out: tuple[str, ...]
    mlp: tuple[str, ...]
    # attention masks built from position_ids (transformers' masking_utils), so sequences packed into one
    # row without padding do not attend to each other
    packed_sequences: bool


_LLAMA = Family(("q_proj", "k_proj", "v_proj"), ("o_proj",), ("gate_proj", "up_proj", "down_proj"), True)
_NEOX = Family(("query_key_value",), ("dense",), ("dense_h_to_4h", "dense_4h_to_h"), True)
_BLOOM = Family(("query_key_value",), ("dense",), ("dense_h_to_4h", "dense_4h_to_h"), False)  # ALiBi, own mask

FAMILIES: dict[str, Family] = {
    "llama": _LLAMA,
    "mistral": _LLAMA,
    "qwen2": _LLAMA,
    "qwen3": _LLAMA,
    "gemma": _LLAMA,
    "gemma2": _LLAMA,
    "olmo": _LLAMA,
    "olmo2": _LLAMA,
    "bloom": _BLOOM,
    "gpt_neox": _NEOX,
}
PRESETS = ("qkv", "attention", "attention-mlp", "all-linear")
KEY = "train.lora.target_modules"


def family(model_type: str) -> Family | None:
    return FAMILIES.get(model_type)


def lora_targets(model_type: str, spec: str | list[str]) -> list[str] | str:
    """The peft `target_modules` for a model type: a preset resolved per family, or the list as given."""
    if isinstance(spec, list):
        if not spec:
            raise InputError(f"config key '{KEY}': an empty list adapts nothing")
        return list(spec)
    if spec not in PRESETS:
        raise InputError(f"config key '{KEY}': unknown preset '{spec}' (one of {', '.join(PRESETS)}, or a list)")
    if spec == "all-linear":
        return "all-linear"  # peft's own: every linear layer but the output head
    fam = family(model_type)
    if fam is None:
        raise InputError(
            f"config key '{KEY}': no preset targets for model type '{model_type}' "
            f"(known: {', '.join(sorted(FAMILIES))}); list the module names instead"
        )
    if spec == "qkv":
        return list(fam.qkv)
    if spec == "attention":
        return [*fam.qkv, *fam.attention_out]
    return [*fam.qkv, *fam.attention_out, *fam.mlp]


def supports_packed_sequences(model_type: str) -> bool:
    fam = family(model_type)
    return bool(fam and fam.packed_sequences)
