"""Where transformers 4.57 (the lock) and 5.x (the GPU machines' images) differ, the one place that knows both.

The pipeline is pinned to transformers 4.57 (unbabel-comet needs <5), but GPU images ship 5.x; every
call that changed between them goes through a helper here, decided by what the installed library offers
(a field, a signature), not by its version number. tests/test_compat.py covers each helper with both
spellings; transformers' MIGRATION_GUIDE_V5.md lists the changes.
"""

from __future__ import annotations

import sys
from functools import cache

from polyinstruct.io import InputError

#: transformers' availability flags for libraries a model job never reaches through it, with the module whose import
#: reads the flag: scikit-learn (with scipy.stats and pandas) for assisted generation's dynamic threshold,
#: read while `transformers.generation` loads; scipy (scipy.optimize, scipy.linalg) for the object-detection
#: losses, read while `transformers.modeling_utils` loads.
UNUSED_PROBES = {"_sklearn_available": "transformers.generation", "_scipy_available": "transformers.modeling_utils"}


def skip_unused_probes() -> list[str]:
    """Keep transformers from importing scikit-learn and scipy in a model job; returns the flags switched off.

    transformers 4.57 imports `sklearn.metrics` while loading its generation code whenever scikit-learn is
    installed (lm-eval installs it), only for the dynamic confidence threshold of assisted generation with a
    draft model, and `scipy.optimize` while loading `modeling_utils`, only for the Hungarian matching of the
    object-detection losses. Neither is used by a causal LM or Marian model; together the two imports are
    about 2.5 s of the 6-7 s a model job spends importing transformers on 2 cores (perf/RESULTS.md). Each flag
    is switched off before transformers reads it: transformers then reports the library as absent. Nothing of
    ours reaches scikit-learn or scipy through transformers (lm-eval and unbabel-comet import them
    themselves, unaffected). A flag is left alone once the module that reads it is imported, or where the
    installed version has no such flag.
    """
    try:
        from transformers.utils import import_utils
    except ImportError:
        return []
    switched = []
    for flag, reader in UNUSED_PROBES.items():
        if reader not in sys.modules and hasattr(import_utils, flag):
            setattr(import_utils, flag, False)
            switched.append(flag)
    return switched


@cache
def training_argument_names() -> frozenset[str]:
    """The fields of the installed `transformers.TrainingArguments` (TRL's configs subclass it)."""
    import dataclasses

    from transformers import TrainingArguments

    return frozenset(f.name for f in dataclasses.fields(TrainingArguments))


def warmup_arguments(ratio: float, fields: frozenset[str] | None = None) -> dict:
    """Linear warm-up over a share of the training steps, as the installed TrainingArguments takes it.

    4.x: `warmup_ratio=r`. 5.x removed `warmup_ratio`; `warmup_steps` takes a float, read as a share
    of the steps when below 1 (and as a step count from 1 up), so a share must stay below 1.
    """
    fields = training_argument_names() if fields is None else fields
    ratio = float(ratio or 0.0)
    if "warmup_ratio" in fields:
        return {"warmup_ratio": ratio}
    if ratio >= 1:
        raise InputError(f"config key 'train.warmup_ratio': {ratio} is not a share of the steps below 1")
    return {"warmup_steps": ratio}


def length_grouping_arguments(enabled: bool, fields: frozenset[str] | None = None) -> dict:
    """Batches of similar lengths (transformers' `LengthGroupedSampler`), as the installed version names it.

    4.x: `group_by_length=True`. 5.x: `train_sampling_strategy="group_by_length"` (default "random").
    """
    fields = training_argument_names() if fields is None else fields
    if "group_by_length" in fields:
        return {"group_by_length": bool(enabled)}
    return {"train_sampling_strategy": "group_by_length" if enabled else "random"}


def gguf_load_arguments(transformers_module=None) -> dict:
    """Extra `from_pretrained` arguments for a GGUF file: dense weights, whatever kernels the machine has.

    4.x always de-quantises GGUF weights at load (no extra argument). 5.x may keep them packed in GGUF
    blocks when a matmul kernel exists for the device (`GgufConfig`), and such a model cannot be saved;
    `GgufConfig(dequantize=True)` asks for the dense model we save as an HF checkpoint.
    """
    if transformers_module is None:
        import transformers as transformers_module
    config_class = getattr(transformers_module, "GgufConfig", None)
    return {} if config_class is None else {"quantization_config": config_class(dequantize=True)}


def drop_gguf_quantizer(model):
    """A de-quantised GGUF model as a plain dense one, so `save_pretrained` writes it.

    5.x leaves the GGUF quantizer on the model even when every weight was unpacked, and refuses to save
    any model that carries it; 4.x attaches none. Raises if weights were left packed.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return model
    config = quantizer.quantization_config
    if str(getattr(config, "quant_method", "")).lower().removeprefix("quantizationmethod.") != "gguf":
        return model
    if not getattr(config, "dequantize", False):
        raise InputError("the GGUF weights were left packed in GGUF blocks; load with GgufConfig(dequantize=True)")
    quantizer.remove_quantization_config(model)
    return model
