"""Translation engines by name, registered lazily as "module:Class" (lm-eval's way): naming an engine
imports only that engine's module, and no engine module imports this one.

Adding an engine is one entry here plus its class (an `engines.Engine`, usually a `SegmentEngine`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from polyinstruct.io import InputError


@dataclass(frozen=True)
class EngineEntry:
    target: str  # "module:Class"
    uses_model: bool  # runs a neural model: its jobs ask for a GPU
    takes_device: bool  # its constructor takes `device=`

    def load(self):
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


ENGINES: dict[str, EngineEntry] = {
    "precomputed": EngineEntry("polyinstruct.translate.engines:PrecomputedEngine", False, False),
    "hf-seq2seq": EngineEntry("polyinstruct.translate.hf_seq2seq:HFSeq2SeqEngine", True, True),
    "ctranslate2": EngineEntry("polyinstruct.translate.ct2:CTranslate2Engine", True, True),
    "llm": EngineEntry("polyinstruct.translate.llm:LLMEngine", True, False),
}


def entry(name: str, key: str = "translate.engine") -> EngineEntry:
    if name not in ENGINES:
        raise InputError(f"config key '{key}': unknown engine '{name}' (one of {', '.join(ENGINES)})")
    return ENGINES[name]


def make_engine(name: str, settings: dict, *, device: str | None = None):
    """The engine `name` configured by `settings` (the rule passes the engine's resolved section)."""
    found = entry(name)
    cls = found.load()
    return cls(**settings, device=device) if found.takes_device else cls(**settings)


def model_engines() -> tuple[str, ...]:
    return tuple(name for name, e in ENGINES.items() if e.uses_model)
