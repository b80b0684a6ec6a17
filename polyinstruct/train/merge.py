"""LoRA folded into the base weights: a plain Hugging Face model directory for tools that need one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from polyinstruct.models import loader


def merge_lora(pointer: dict, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out_dir = Path(out_dir)
    base = AutoModelForCausalLM.from_pretrained(**pointer["load"], dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    tokenizer = loader.load_tokenizer(pointer)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return out_dir
