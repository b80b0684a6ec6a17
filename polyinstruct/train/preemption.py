"""Preemption: save on SIGTERM (or SIGUSR1, Slurm's `--signal`), exit non-zero, resume on re-run.

Checkpoints go to `<run>/checkpoints/` every N steps, next to `run.json`, a fingerprint of
everything that determines the run (settings, seed, data and model). A re-run resumes from the
latest checkpoint when the fingerprint matches and starts afresh (discarding them) when it does
not, so a changed hyperparameter never continues an old run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import signal
from pathlib import Path

from transformers import TrainerCallback

from polyinstruct.train import counters

log = logging.getLogger(__name__)
EXIT_CODE = 143  # 128 + SIGTERM, what a job killed by SIGTERM reports
SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class Preempted(RuntimeError):
    """Training stopped on a signal after saving a checkpoint; re-run to resume."""


class Preemption(TrainerCallback):
    """Turns a signal into "save a checkpoint at the end of this step, then stop"."""

    def __init__(self):
        self.received: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame):
        self.received = signum
        log.warning("received signal %s: saving a checkpoint at the end of this step", signal.Signals(signum).name)

    def on_train_begin(self, args, state, control, **kwargs):
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def on_train_end(self, args, state, control, **kwargs):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _anywhere(self) -> bool:
        """Whether any process got the signal: all ranks must stop at the same step."""
        import torch
        import torch.distributed as dist

        flag = int(self.received is not None)
        if dist.is_available() and dist.is_initialized():
            device = "cuda" if torch.cuda.is_available() and dist.get_backend() == "nccl" else "cpu"
            tensor = torch.tensor([flag], device=device)
            dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
            flag = int(tensor.item())
        return bool(flag)

    def on_step_end(self, args, state, control, **kwargs):
        if self._anywhere():
            self.received = self.received or signal.SIGTERM
            control.should_save = True
            control.should_training_stop = True
        return control


def fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def complete_checkpoints(checkpoint_dir: Path) -> list[Path]:
    """Checkpoints written to the end, newest first: the trainer state and the run's counters are the
    last files a save writes, so a job killed mid-save leaves a directory without them."""
    found = [p for p in Path(checkpoint_dir).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    found.sort(key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    complete = []
    for path in found:
        if (path / "trainer_state.json").exists() and (path / counters.FILE).exists():
            complete.append(path)
        else:
            log.warning("%s: incomplete checkpoint (killed while saving?); not resumed from", path)
    return complete


def resume_point(checkpoint_dir: Path, run_fingerprint: str) -> str | None:
    """The latest complete checkpoint of this same run, or None; checkpoints of another run are removed."""
    checkpoint_dir = Path(checkpoint_dir)
    marker = checkpoint_dir / "run.json"
    if checkpoint_dir.is_dir():
        recorded = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint") if marker.exists() else None
        if recorded == run_fingerprint:
            complete = complete_checkpoints(checkpoint_dir)
            if complete:
                return str(complete[0])
        else:
            log.warning(
                "%s: checkpoints of a different run (fingerprint %s, now %s); starting afresh",
                checkpoint_dir,
                recorded,
                run_fingerprint,
            )
            shutil.rmtree(checkpoint_dir)
    return None


def mark(checkpoint_dir: Path, run_fingerprint: str, parts: dict) -> None:
    checkpoint_dir = Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    (checkpoint_dir / "run.json").write_text(
        json.dumps({"fingerprint": run_fingerprint, **parts}, indent=1, default=str), encoding="utf-8"
    )
