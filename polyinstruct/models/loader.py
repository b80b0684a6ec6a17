"""Base models: prepare once (hub id, local directory or GGUF file), then load the same way.

`prepare` writes `model.json`, the pointer every later stage loads through. A GGUF file is
de-quantised into an HF checkpoint next to it once; its tokenizer fixes (GGUF metadata often
names the wrong EOS) are applied then, from config, so training and generation agree.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from polyinstruct import assets, compat
from polyinstruct.io import InputError, read_json, read_text, write_json


def _fix_tokenizer(tokenizer, overrides: dict) -> None:
    if overrides.get("eos_token"):
        tokenizer.eos_token = overrides["eos_token"]
    if overrides.get("pad_token"):
        tokenizer.pad_token = overrides["pad_token"]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if overrides.get("add_bos_token") is not None:
        tokenizer.add_bos_token = overrides["add_bos_token"]


def prepare(name: str, spec: dict, out_dir: str | Path) -> dict:
    """Materialise a base model and return its pointer (also written to out_dir/model.json)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pointer = {"name": name, "tokenizer": spec.get("tokenizer", {}), "chat_template": spec.get("chat_template")}
    needs_copy = bool(
        spec.get("gguf")
        or any(v is not None for v in (spec.get("tokenizer") or {}).values())
        or spec.get("chat_template")
    )
    if spec.get("gguf"):
        gguf = assets.resolve(spec["gguf"], key=f"models.{name}.gguf")
        source = {"gguf": str(spec["gguf"]), "gguf_dir": str(gguf.parent), "gguf_file": gguf.name}
        load_args = {"pretrained_model_name_or_path": str(gguf.parent), "gguf_file": gguf.name}
    elif spec.get("path"):
        path = Path(spec["path"])
        if not (path / "config.json").exists():
            raise InputError(f"config key 'models.{name}.path': '{path}' is not a Hugging Face model directory")
        source = {"path": str(path.resolve())}
        load_args = {"pretrained_model_name_or_path": str(path.resolve())}
    else:
        source = {"hub": spec["hub"], "revision": spec.get("revision")}
        load_args = {"pretrained_model_name_or_path": spec["hub"], "revision": spec.get("revision")}
        if not needs_copy and os.environ.get("HF_HUB_OFFLINE") != "1":
            # fetch on the login node, so compute jobs can run with the hub offline
            from huggingface_hub import snapshot_download

            snapshot_download(spec["hub"], revision=spec.get("revision"))
    pointer["source"] = source
    if needs_copy:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        hf_dir = out_dir / "hf"
        tmp_dir = out_dir / ".hf.tmp"
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tokenizer = AutoTokenizer.from_pretrained(**load_args)
        if spec.get("gguf"):
            model = AutoModelForCausalLM.from_pretrained(**load_args, **compat.gguf_load_arguments())
            compat.drop_gguf_quantizer(model)  # transformers 5 keeps it on the dense model and then refuses to save
        else:
            model = AutoModelForCausalLM.from_pretrained(**load_args)
        _fix_tokenizer(tokenizer, spec.get("tokenizer") or {})
        if spec.get("chat_template"):
            tokenizer.chat_template = read_text(spec["chat_template"])
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.config.eos_token_id = tokenizer.eos_token_id
        model.config.pad_token_id = tokenizer.pad_token_id
        model.save_pretrained(tmp_dir)
        tokenizer.save_pretrained(tmp_dir)
        shutil.rmtree(hf_dir, ignore_errors=True)
        os.replace(tmp_dir, hf_dir)
        pointer["load"] = {"pretrained_model_name_or_path": str(hf_dir.resolve())}
    else:
        pointer["load"] = {k: v for k, v in load_args.items() if v is not None}
    write_json(out_dir / "model.json", pointer)
    return pointer


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_tokenizer(pointer: dict, padding_side: str = "left"):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(**pointer["load"])
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # a tokenizer without a chat template (a base model) loads: it is prompted with a text template
    # (`models.<name>.prompt_template`, `train.template`); `chat.render` stops if `chat` is asked of it
    return tokenizer


def load_causal_lm(pointer: dict, adapter_dir: str | None = None, *, dtype=None):
    """The base model, with a LoRA adapter applied when given, in eval mode on the best device."""
    import torch
    from transformers import AutoModelForCausalLM

    if dtype is None:
        dtype = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(**pointer["load"], dtype=dtype)
    if adapter_dir:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_dir)
    return model.to(device()).eval()


def load_run_model(pointer: dict, method: str, weights: str | None = None, *, dtype=None):
    """The model a run generates with: the base model, base + LoRA adapter, or the fully fine-tuned weights."""
    if method == "base":
        return load_causal_lm(pointer, dtype=dtype)
    if method == "lora":
        return load_causal_lm(pointer, weights, dtype=dtype)
    if method == "full":
        return load_causal_lm({**pointer, "load": {"pretrained_model_name_or_path": str(weights)}}, dtype=dtype)
    raise ValueError(f"unknown training method '{method}'")


def read_pointer(path: str | Path) -> dict:
    return read_json(path)
