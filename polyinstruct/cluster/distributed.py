"""What a cluster job sees, and the command lines that start distributed training on Slurm.

Two things a wrong request breaks silently, so both are checked or generated here:

* `job_view`/`smoke`: the GPU smoke rule (rules/cluster.smk) records the devices, ranks and world size
  a job really got and fails naming the request to fix, before hours of training run on the wrong shape.
* `MultiNode`: one torchrun per node under `srun`, all meeting at a c10d rendezvous on the first node of
  the allocation. Its Snakemake resources, the `sbatch` line the Slurm executor makes of them and the
  in-job `srun ... torchrun ...` line are generated and tested (tests/test_cluster.py) because the test
  cluster has one node.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
RENDEZVOUS_PORT = 29500


def visible_devices(env=os.environ) -> list[str]:
    """GPU ids the job may use: CUDA_VISIBLE_DEVICES as Slurm (or the user) set it; [] when unset or empty."""
    value = env.get("CUDA_VISIBLE_DEVICES", "")
    return [d for d in value.split(",") if d.strip() and d.strip() != "-1"] if value else []


def job_view(env=os.environ) -> dict:
    """This process's view: host, Slurm job, CPUs, visible GPUs, torch's CUDA devices, rank, hub mode."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "hostname": socket.gethostname(),
        "slurm_job_id": env.get("SLURM_JOB_ID"),
        "slurm_nodelist": env.get("SLURM_JOB_NODELIST"),
        "slurm_gpus": env.get("SLURM_GPUS_ON_NODE"),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cuda_visible_devices": visible_devices(env),
        "torch_cuda_build": torch.version.cuda,
        "torch_cuda_devices": torch.cuda.device_count() if cuda else 0,
        "torch_device_names": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "rank": int(env.get("RANK", 0)),
        "local_rank": int(env.get("LOCAL_RANK", 0)),
        "world_size": int(env.get("WORLD_SIZE", 1)),
        "hub_offline": {k: env.get(k) for k in OFFLINE_VARIABLES},
    }


def problems(report: dict, requested_gpus: int) -> list[str]:
    """What does not match the request, each message naming what to fix; [] when the job is as asked."""
    found, ranks = [], report["ranks"]
    granted = len(report["cuda_visible_devices"])
    if granted != requested_gpus:
        found.append(
            f"the rule asked for gpu={requested_gpus} but the job sees {granted} GPU(s) "
            f"(CUDA_VISIBLE_DEVICES={','.join(report['cuda_visible_devices']) or 'unset'}): check the "
            "rule's `gpu` resource and the GPU partition (slurm_partition, gpu_model) in profiles/slurm/"
        )
    expected_world = max(1, granted)
    if report["world_size"] != expected_world or len(ranks) != expected_world:
        found.append(
            f"world size {report['world_size']} with {len(ranks)} rank(s) answering, expected one process "
            f"per GPU = {expected_world}: check the torchrun --nproc-per-node of the launch"
        )
    if sorted(r["rank"] for r in ranks) != list(range(len(ranks))):
        found.append(f"ranks {sorted(r['rank'] for r in ranks)} are not 0..{len(ranks) - 1}")
    if any(r.get("all_reduce_sum") != len(ranks) for r in ranks):
        found.append("an all-reduce over the ranks did not sum to the world size: the process group is broken")
    if report["torch_cuda_build"] and report["torch_cuda_devices"] < granted:
        found.append(
            f"torch (CUDA {report['torch_cuda_build']}) sees {report['torch_cuda_devices']} of the "
            f"{granted} GPU(s) Slurm granted: check the CUDA driver on {report['hostname']}"
        )
    return found


def _rank_main(out_dir: str) -> None:
    """One torchrun rank: join the process group, all-reduce a one, write its view."""
    import torch
    import torch.distributed as dist

    view = job_view()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    device = torch.device("cuda", view["local_rank"]) if backend == "nccl" else torch.device("cpu")
    one = torch.ones(1, device=device)
    dist.all_reduce(one)
    view["all_reduce_sum"] = int(one.item())
    dist.destroy_process_group()
    Path(out_dir, f"rank-{view['rank']}.json").write_text(json.dumps(view), encoding="utf-8")


def smoke(requested_gpus: int, env=os.environ) -> dict:
    """Start one process per visible GPU (at least one) with torchrun and collect what each saw."""
    nproc = max(1, len(visible_devices(env)))
    with tempfile.TemporaryDirectory(prefix="gpu-smoke-") as tmp:
        cmd = [*torchrun_standalone(nproc), "-m", "polyinstruct.cluster.distributed", "rank", tmp]
        proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True)
        ranks = [json.loads(p.read_text()) for p in sorted(Path(tmp).glob("rank-*.json"))]
    report = {
        **job_view(env),
        "requested_gpus": requested_gpus,
        "command": cmd,
        "launch_returncode": proc.returncode,
        "ranks": ranks,
        "world_size": max((r["world_size"] for r in ranks), default=0),
    }
    if proc.returncode != 0:
        report["launch_output"] = (proc.stdout + proc.stderr)[-4000:]
    report["problems"] = problems(report, requested_gpus)
    if proc.returncode != 0:
        report["problems"].append(f"torchrun exited with {proc.returncode}: see launch_output")
    return report


class SmokeError(RuntimeError):
    pass


def main(out_path: str, requested_gpus: int) -> dict:
    """The GPU smoke rule: write the report, then fail if the job is not what the rule asked for."""
    report = smoke(int(requested_gpus))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "ranks"}, indent=2))
    if report["problems"]:
        raise SmokeError(f"{out_path}: " + "; ".join(report["problems"]))
    return report


def torchrun_standalone(nproc_per_node: int) -> list[str]:
    """torchrun on one node: a private rendezvous on a free port."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc_per_node}"]


# -- multi-node ------------------------------------------------------------------------------------------


def first_host(nodelist: str) -> str:
    """The first host of a Slurm node list ('gpu[07-09,12],login1' -> 'gpu07'), like `scontrol show hostnames`."""
    match = re.match(r"([^,\[]+)(?:\[([^\]]+)\])?", nodelist.strip())
    if not match:
        raise ValueError(f"cannot read the Slurm node list {nodelist!r}")
    prefix, ranges = match.groups()
    return prefix + ranges.split(",")[0].split("-")[0] if ranges else prefix


@dataclass(frozen=True)
class MultiNode:
    """One training job over `nodes` nodes with `gpus_per_node` GPUs each: one torchrun per node."""

    nodes: int
    gpus_per_node: int
    cpus_per_gpu: int = 8
    mem_mb_per_node: int = 128000
    runtime: int = 720

    def __post_init__(self):
        if self.nodes < 2:
            raise ValueError("MultiNode needs nodes >= 2; one node is `gpu: N` with torchrun --standalone")
        if self.gpus_per_node < 1:
            raise ValueError("MultiNode needs gpus_per_node >= 1")

    @property
    def world_size(self) -> int:
        return self.nodes * self.gpus_per_node

    def resources(self) -> dict:
        """A rule's `resources:` for the Slurm executor. `mpi` makes the job step run the rule without its own
        `srun -n1`, so the rule can `srun` one task per node; `gres` asks GPUs per node (`gpu` would ask a
        total Slurm may split unevenly); `tasks_per_gpu=0` keeps the executor from adding --ntasks-per-gpu."""
        return {
            "nodes": self.nodes,
            "tasks": self.nodes,
            "mpi": "srun",
            "gres": f"gpu:{self.gpus_per_node}",
            "tasks_per_gpu": 0,
            "cpus_per_task": self.gpus_per_node * self.cpus_per_gpu,
            "mem_mb": self.mem_mb_per_node,
            "runtime": self.runtime,
        }

    def srun(self) -> list[str]:
        """srun inside the allocation: exactly one task (one torchrun) per node with all of its CPUs."""
        return [
            "srun",
            f"--nodes={self.nodes}",
            f"--ntasks={self.nodes}",
            "--ntasks-per-node=1",
            f"--cpus-per-task={self.gpus_per_node * self.cpus_per_gpu}",
            "--kill-on-bad-exit=1",
        ]

    def torchrun(self, head_node: str, job_id: str, port: int = RENDEZVOUS_PORT) -> list[str]:
        """torchrun on every node: c10d rendezvous hosted on the first node, keyed by the Slurm job id."""
        return [
            "torchrun",
            f"--nnodes={self.nodes}",
            f"--nproc-per-node={self.gpus_per_node}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={head_node}:{port}",
            f"--rdzv-id={job_id}",
            "--max-restarts=0",
        ]

    def command(self, program: list[str], env=os.environ) -> list[str]:
        """The full launch of `program` (a script and its arguments) from inside the Slurm job."""
        head = first_host(env["SLURM_JOB_NODELIST"])
        return [*self.srun(), *self.torchrun(head, env["SLURM_JOB_ID"]), *program]

    def sbatch_script(
        self, program: list[str], job_name: str, partition: str | None = None, account: str | None = None
    ) -> str:
        """A stand-alone batch script doing what the Slurm executor does with `resources()`: for runs outside
        Snakemake. The head node is resolved in the job, by `scontrol show hostnames`."""
        options = [
            f"--job-name={job_name}",
            f"--nodes={self.nodes}",
            "--ntasks-per-node=1",
            f"--gres=gpu:{self.gpus_per_node}",
            f"--cpus-per-task={self.gpus_per_node * self.cpus_per_gpu}",
            f"--mem={self.mem_mb_per_node}",
            f"--time={self.runtime}",
        ]
        options += [f"--partition={partition}"] if partition else []
        options += [f"--account={account}"] if account else []
        launch = [*self.srun(), *self.torchrun("$HEAD_NODE", "$SLURM_JOB_ID")]
        return "\n".join(
            [
                "#!/bin/bash",
                *(f"#SBATCH {o}" for o in options),
                "set -euo pipefail",
                'HEAD_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
                "export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1",
                " ".join(a if a.startswith(("$", "--rdzv")) else shlex.quote(a) for a in launch)
                + " "
                + shlex.join(program),
                "",
            ]
        )


if __name__ == "__main__" and sys.argv[1:2] == ["rank"]:
    _rank_main(sys.argv[2])
