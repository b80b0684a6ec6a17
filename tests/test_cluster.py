"""polyinstruct.cluster.distributed without a cluster: the smoke check's verdicts and the multi-node command lines."""

import json
import os
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import snakemake

from polyinstruct.cluster import distributed


@pytest.mark.parametrize(
    "nodelist, first",
    [
        ("gpu07", "gpu07"),
        ("gpu[07-09,12]", "gpu07"),
        ("gpu[3,5],login1", "gpu3"),
        ("a,b", "a"),
        ("n[001-128]", "n001"),
    ],
)
def test_first_host_of_a_slurm_node_list(nodelist, first):
    assert distributed.first_host(nodelist) == first


def test_visible_devices():
    assert distributed.visible_devices({"CUDA_VISIBLE_DEVICES": "0,3"}) == ["0", "3"]
    assert distributed.visible_devices({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert distributed.visible_devices({}) == []


def _report(visible, ranks, cuda_build=None, cuda_devices=0):
    return {
        "cuda_visible_devices": visible,
        "world_size": len(ranks),
        "hostname": "gpu07",
        "torch_cuda_build": cuda_build,
        "torch_cuda_devices": cuda_devices,
        "ranks": [{"rank": r, "all_reduce_sum": len(ranks)} for r in ranks],
    }


def test_smoke_problems_name_the_request_to_fix():
    assert distributed.problems(_report(["0", "1"], [0, 1], "12.8", 2), requested_gpus=2) == []
    assert distributed.problems(_report([], [0]), requested_gpus=0) == []
    (wrong_grant,) = distributed.problems(_report(["0"], [0], "12.8", 1), requested_gpus=2)
    assert "asked for gpu=2 but the job sees 1 GPU(s)" in wrong_grant and "profiles/slurm/" in wrong_grant
    (one_process,) = distributed.problems(_report(["0", "1"], [0], "12.8", 2), requested_gpus=2)
    assert "expected one process per GPU = 2" in one_process and "--nproc-per-node" in one_process
    (driver,) = distributed.problems(_report(["0", "1"], [0, 1], "12.8", 0), requested_gpus=2)
    assert "sees 0 of the 2 GPU(s)" in driver and "gpu07" in driver


def test_smoke_on_cpu_runs_one_process(tmp_path):
    report = distributed.main(str(tmp_path / "smoke.json"), 0)
    assert report["problems"] == [] and report["world_size"] == 1
    assert report["ranks"][0]["all_reduce_sum"] == 1
    assert json.loads((tmp_path / "smoke.json").read_text())["requested_gpus"] == 0


def test_smoke_fails_when_the_job_lacks_the_gpus_it_asked_for(tmp_path):
    with pytest.raises(distributed.SmokeError, match="asked for gpu=1 but the job sees 0 GPU"):
        distributed.main(str(tmp_path / "smoke.json"), 1)
    assert json.loads((tmp_path / "smoke.json").read_text())["problems"]  # the report is written anyway


@pytest.mark.workflow
def test_smoke_rule_runs_on_cpu(tiny_workdir):
    snakemake(tiny_workdir, "results/cluster/gpu_smoke/0gpu.json")
    report = json.loads((tiny_workdir / "results/cluster/gpu_smoke/0gpu.json").read_text())
    assert report["requested_gpus"] == 0 and report["world_size"] == 1 and report["problems"] == []


TWO_NODES = distributed.MultiNode(nodes=2, gpus_per_node=4, cpus_per_gpu=8, mem_mb_per_node=256000, runtime=1440)


def test_multinode_launch_inside_the_allocation():
    command = TWO_NODES.command(
        ["scripts/train.py", "--config", "x.yaml"], env={"SLURM_JOB_NODELIST": "gpu[07-08]", "SLURM_JOB_ID": "4242"}
    )
    assert shlex.join(command) == (
        "srun --nodes=2 --ntasks=2 --ntasks-per-node=1 --cpus-per-task=32 --kill-on-bad-exit=1 "
        "torchrun --nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d --rdzv-endpoint=gpu07:29500 "
        "--rdzv-id=4242 --max-restarts=0 scripts/train.py --config x.yaml"
    )
    assert TWO_NODES.world_size == 8


def test_multinode_rejects_a_single_node():
    with pytest.raises(ValueError, match="nodes >= 2"):
        distributed.MultiNode(nodes=1, gpus_per_node=4)


class _Resources(dict):
    __getattr__ = dict.__getitem__


def test_multinode_resources_become_the_sbatch_line_the_executor_submits():
    """The Slurm executor's own sbatch builder, fed a job with MultiNode.resources()."""
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    job = SimpleNamespace(resources=_Resources(TWO_NODES.resources(), slurm_partition="gpu"), threads=1)
    params = {
        "run_uuid": "run",
        "slurm_logfile": "log",
        "comment_str": "rule_train_lora",
        "account": "",
        "partition": "-p gpu",
        "workdir": "/work",
    }
    call = get_submit_command(job, params) + set_gres_string(job)
    options = shlex.split(call)
    for expected in ("--nodes=2", "--ntasks=2", "--cpus-per-task=32", "--gres=gpu:4"):
        assert expected in options, (expected, call)
    assert options[options.index("--mem") + 1] == "256000" and options[options.index("-t") + 1] == "1440"
    assert not any(o.startswith(("--gpus", "--ntasks-per-gpu", "--cpus-per-gpu")) for o in options), call


def test_multinode_batch_script():
    script = TWO_NODES.sbatch_script(
        ["scripts/train.py", "--run", "a b"], job_name="train", partition="gpu", account="proj"
    )
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert {
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --gres=gpu:4",
        "#SBATCH --cpus-per-task=32",
        "#SBATCH --mem=256000",
        "#SBATCH --time=1440",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=proj",
    } <= set(lines)
    assert 'HEAD_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)' in lines
    assert lines[-1] == (
        "srun --nodes=2 --ntasks=2 --ntasks-per-node=1 --cpus-per-task=32 --kill-on-bad-exit=1 torchrun "
        "--nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d --rdzv-endpoint=$HEAD_NODE:29500 "
        "--rdzv-id=$SLURM_JOB_ID --max-restarts=0 scripts/train.py --run 'a b'"
    )


SMOKE_TARGET = "results/cluster/gpu_smoke/2gpu.json"


def test_snakemake_profile_slurm_works_as_typed_after_make_slurm_profile(tmp_path, monkeypatch):
    """The README's one-time step (`make slurm-profile`) puts profiles/slurm where `--profile slurm` looks
    (XDG_CONFIG_HOME/snakemake/), and `snakemake --profile slurm` from the repository root then runs with the
    cluster profile's settings: the default workflow profile, applied on top of it, overrides none of them."""
    import re
    import subprocess
    import sys

    import snakemake.common
    import yaml
    from conftest import REPO
    from snakemake.cli import parse_args

    readme = (REPO / "README.md").read_text()
    section = readme.split("## On a Slurm cluster", 1)[1].split("\n## ", 1)[0]
    assert "make slurm-profile" in section
    commands = re.findall(r"^(\.venv/bin/snakemake [^#\n]*?)\s*(?:#|$)", section, flags=re.M)
    assert commands and all(c.startswith(".venv/bin/snakemake --profile slurm") for c in commands)
    makefile = (REPO / "Makefile").read_text()
    assert "$(PYTHON) -m polyinstruct.cluster.profile install" in makefile.split("\nslurm-profile:", 1)[1]

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-m", "polyinstruct.cluster.profile", "install"], cwd=REPO, env=env, check=True)
    installed = tmp_path / "snakemake/slurm/config.yaml"
    assert installed.read_text() == (REPO / "profiles/slurm/config.yaml").read_text()

    slurm = yaml.safe_load(installed.read_text())
    default = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert not {"cores", "latency-wait", "executor", "jobs", "default-resources", "set-resources"} & set(default)
    assert all(slurm[key] == value for key, value in default.items() if key in slurm)

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(snakemake.common, "APPDIRS", None)  # Snakemake caches the user's config directory
    monkeypatch.chdir(REPO)
    _, args = parse_args(["--profile", "slurm", "-n"])
    assert (args.executor, args.jobs, args.latency_wait, args.retries, args.local_cores) == ("slurm", 50, 60, 2, 2)
    assert args.cores is None  # nothing caps the jobs' threads at the login node's cores

    proc = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "--profile", "slurm", "-n", "--forceall", SMOKE_TARGET],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Using profiles slurm and workflow specific profile profiles/default" in proc.stderr


def test_slurm_profile_install_keeps_an_edited_copy_unless_forced(tmp_path):
    from polyinstruct.cluster import profile

    target, what = profile.install(tmp_path / "slurm")
    assert what == "installed" and profile.install(tmp_path / "slurm") == (target, "unchanged")
    target.write_text(target.read_text().replace('slurm_partition: "cpu"', 'slurm_partition: "compute"'))
    with pytest.raises(FileExistsError, match="differs from .*profiles/slurm/config.yaml.*FORCE=1"):
        profile.install(tmp_path / "slurm")
    assert 'slurm_partition: "compute"' in target.read_text()
    assert profile.install(tmp_path / "slurm", force=True) == (target, "installed")
    tuned = profile.render({"seconds-between-status-checks": 1})
    assert "\nseconds-between-status-checks: 1\n" in tuned
    assert tuned.count("\n") == profile.SHIPPED.read_text().count("\n")  # one line replaced, the comments kept
    assert profile.user_profiles_dir({"HOME": "/home/u"}) == Path("/home/u/.config/snakemake")
    assert profile.user_profiles_dir({"HOME": "/home/u", "XDG_CONFIG_HOME": "/x"}) == Path("/x/snakemake")
