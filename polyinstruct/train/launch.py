"""Start a training run: in this process, or one process per GPU through torchrun.

The job's `gpu` resource sets the process count. DeepSpeed always goes through torchrun (it
needs the launcher's rendezvous even for one process). The job script forwards SIGTERM/SIGUSR1
to the launcher, which forwards them to every worker; workers save a checkpoint and the job exits
non-zero, so the next run resumes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from polyinstruct.io import read_json, write_json

WORKER = "polyinstruct.train.worker"


def needs_launcher(spec: dict, processes: int) -> bool:
    return processes > 1 or bool(spec.get("deepspeed"))


def torchrun_command(spec_path: str | Path, processes: int) -> list[str]:
    """One node, `processes` workers, a free rendezvous port chosen by torchrun (`--standalone`)."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={processes}",
        "-m",
        WORKER,
        str(spec_path),
    ]


def _run_workers(command: list[str], stdout) -> int:
    child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT)
    forward = lambda signum, frame: child.send_signal(signum)  # noqa: E731
    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGUSR1)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(spec: dict, processes: int, stdout=None) -> dict:
    """Train `spec` with `processes` workers; returns the run's metrics, raises when the run did not finish."""
    from polyinstruct.train import preemption, recipe

    processes = max(1, int(processes))
    run_dir = Path(spec["run_dir"])
    spec = {**spec, "resume_from": preemption.resume_point(run_dir / "checkpoints", spec["fingerprint"])}
    preemption.mark(run_dir / "checkpoints", spec["fingerprint"], {"learning_rate": spec["learning_rate"]})
    if not needs_launcher(spec, processes):
        return recipe.train(spec)
    spec_path = run_dir / "job.json"
    write_json(spec_path, spec)
    code = _run_workers(torchrun_command(spec_path, processes), stdout or sys.stdout)
    if code != 0:
        raise RuntimeError(
            f"training workers exited with status {code} (see the log above); "
            f"checkpoints in {run_dir / 'checkpoints'} are resumed by the next run"
        )
    spec_path.unlink()
    return read_json(run_dir / "metrics.json")


def job_spec(
    method: str,
    pointer: dict,
    train_path: str,
    valid_path: str,
    run_dir: str | Path,
    settings: dict,
    learning_rate: float,
    seed: int,
    data_checksums: dict,
) -> dict:
    """Everything a worker needs, JSON-serialisable; the fingerprint names what makes two runs the same."""
    from polyinstruct.train import deepspeed_configs, preemption

    deepspeed = deepspeed_configs.resolve(settings.get("deepspeed")) if method == "full" else None
    spec = {
        "method": method,
        "pointer": pointer,
        "train": str(train_path),
        "valid": str(valid_path),
        "run_dir": str(run_dir),
        "settings": settings,
        "learning_rate": learning_rate,
        "seed": seed,
        "deepspeed": deepspeed,
    }
    spec["fingerprint"] = preemption.fingerprint(
        {
            **spec,
            "run_dir": None,
            "data": data_checksums,
            "deepspeed": deepspeed and json.loads(Path(deepspeed).read_text()),
        }
    )
    return spec
