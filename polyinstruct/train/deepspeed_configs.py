"""DeepSpeed configs: the shipped ZeRO-2 / ZeRO-3 files by name, or a file of the user's.

The shipped files leave batch sizes, accumulation, clipping and precision on "auto", so the
trainer fills them from `train.*` and there is one source of truth for the global batch.
"""

from __future__ import annotations

import json
from pathlib import Path

from polyinstruct.io import InputError

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "deepspeed"
NAMES = ("zero2", "zero3")
KEY = "train.full.deepspeed"


def resolve(value: str | None) -> str | None:
    """An absolute path to the DeepSpeed JSON for `zero2`, `zero3` or a path; None for plain DDP."""
    if not value:
        return None
    path = SHIPPED / f"{value}.json" if value in NAMES else Path(value)
    if not path.is_file():
        raise InputError(f"config key '{KEY}': '{value}' is neither {' nor '.join(NAMES)} nor an existing file")
    try:
        stage = json.loads(path.read_text(encoding="utf-8")).get("zero_optimization", {}).get("stage")
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error}); named by config key '{KEY}'") from error
    if stage is None:
        raise InputError(f"{path}: has no zero_optimization.stage; named by config key '{KEY}'")
    return str(path.resolve())
