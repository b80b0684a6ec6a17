"""The workflow on a real Slurm (tests/slurm_cluster.py) through snakemake-executor-plugin-slurm and
profiles/slurm/: resource mapping seen in sacct, retries, local download rules, the tiny experiment."""

import json
import time
from pathlib import Path

import pytest
from conftest import job_counts, snakemake, tiny_experiment

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

TRIVIAL = """
localrules: fetch


rule all:
    input: "fetched.json", "counted.txt", "flaky.txt"


# a download: runs here, on the "login node", with the hub reachable
rule fetch:
    output: "fetched.json"
    shell: "python -c 'import json, os; print(json.dumps(dict(os.environ)))' > {output}"


rule count:
    input: "fetched.json"
    output: "counted.txt"
    threads: 2
    resources: mem_mb=1500, runtime=7
    shell: "env > {output}"


# fails on its first attempt; the profile's retries resubmit it with attempt=2 and more memory
rule flaky:
    output: "flaky.txt"
    resources: mem_mb=lambda wc, attempt: 1000 * attempt, runtime=3
    shell: "if [ ! -e first-attempt ]; then touch first-attempt; exit 1; fi; env > {output}"
"""


def _env_file(path: Path) -> dict:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_cluster_answers_sinfo_and_sacct(slurm_cluster):
    assert slurm_cluster.node_state() == "idle"
    assert slurm_cluster.startup_seconds["total"] < 60, slurm_cluster.startup_seconds
    slurm_cluster.sacct()  # accounting works: the executor's status command


def test_trivial_workflow_maps_resources_retries_and_keeps_downloads_local(slurm_cluster, tmp_path):
    (tmp_path / "Snakefile").write_text(TRIVIAL)
    t0 = time.monotonic()
    slurm_cluster.snakemake(tmp_path, snakefile=tmp_path / "Snakefile", configfile=None)
    print(f"trivial workflow on Slurm: {time.monotonic() - t0:.1f}s")

    # the local rule ran in Snakemake's own process environment: no Slurm job, hub online
    fetched = json.loads((tmp_path / "fetched.json").read_text())
    assert "SLURM_JOB_ID" not in fetched and "HF_HUB_OFFLINE" not in fetched
    assert not slurm_cluster.rule_jobs("fetch")

    # threads -> cpus, mem_mb -> --mem, runtime (min) -> --time, default partition from the profile
    (count,) = slurm_cluster.rule_jobs("count")
    assert (count["State"], count["AllocCPUS"], count["ReqMem"], count["Timelimit"], count["Partition"]) == (
        "COMPLETED",
        "2",
        "1500M",
        "00:07:00",
        "cpu",
    )
    env = _env_file(tmp_path / "counted.txt")
    assert env["SLURM_JOB_ID"] == count["JobID"]
    assert env["HF_HUB_OFFLINE"] == env["HF_DATASETS_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"

    # failed once, resubmitted by the profile's retries with the attempt-scaled memory
    first, second = slurm_cluster.rule_jobs("flaky")
    assert (first["State"], first["ReqMem"]) == ("FAILED", "1000M")
    assert (second["State"], second["ReqMem"]) == ("COMPLETED", "2000M")
    assert _env_file(tmp_path / "flaky.txt")["SLURM_JOB_ID"] == second["JobID"]


# (rule, allocated CPUs, ReqMem, Timelimit, partition, GPUs) as rules/*.smk and profiles/slurm/ map them
EXPECTED = [
    ("translate_shard", "2", "8000M", "04:00:00", "cpu", None),
    ("merge_translations", "1", "2000M", "00:30:00", "cpu", None),
    ("build_mixture", "1", "4000M", "00:30:00", "cpu", None),
    ("train", "2", "32000M", "12:00:00", "gpu", "1"),  # LoRA: train.smk asks 32 GB and 12 h for it
    ("generate", "1", "16000M", "02:00:00", "gpu", "1"),
    ("judge", "1", "16000M", "02:00:00", "gpu", "1"),
    ("langid_responses", "1", "2000M", "00:30:00", "cpu", None),  # the profile's defaults: the rule asks none
    ("summarise_scores", "1", "2000M", "00:30:00", "cpu", None),
    ("report_tables", "1", "2000M", "00:30:00", "cpu", None),
    ("gpu_smoke", "1", "2000M", "00:10:00", "gpu", "2"),
]
LOCAL_RULES = ("normalise_instructions", "normalise_eval", "prepare_model")


def _gpus(row: dict) -> str | None:
    tres = dict(item.split("=", 1) for item in row["AllocTRES"].split(",") if "=" in item)
    return tres.get("gres/gpu")


def test_tiny_experiment_runs_through_slurm(slurm_cluster, tmp_path, tiny_llama):
    """Every rule of the tiny experiment through Slurm; evaluated in fr only (en would repeat the same generate,
    language-ID, judge and summary jobs: 12 Slurm jobs more, each a Snakemake start and a model process)."""
    tiny_experiment(tmp_path, tiny_llama, eval_languages=["fr"])
    t0 = time.monotonic()
    slurm_cluster.snakemake(tmp_path, "all", "results/cluster/gpu_smoke/2gpu.json")
    print(f"tiny experiment on Slurm: {time.monotonic() - t0:.1f}s")
    assert (tmp_path / "results/report/scores.csv").exists()
    assert job_counts(snakemake(tmp_path, "-n").stdout) == {}  # nothing left to do

    for rule, cpus, mem, time_limit, partition, gpus in EXPECTED:
        rows = slurm_cluster.rule_jobs(rule)
        assert rows, f"no Slurm job for {rule}"
        for row in rows:
            got = (row["State"], row["AllocCPUS"], row["ReqMem"], row["Timelimit"], row["Partition"], _gpus(row))
            assert got == ("COMPLETED", cpus, mem, time_limit, partition, gpus), (rule, row)
    for rule in LOCAL_RULES:
        assert not slurm_cluster.rule_jobs(rule), f"{rule} downloads: it must run on the login node"

    # the smoke job saw the two GPUs it asked for, and torchrun started one process per GPU
    smoke = json.loads((tmp_path / "results/cluster/gpu_smoke/2gpu.json").read_text())
    (smoke_job,) = slurm_cluster.rule_jobs("gpu_smoke")
    assert smoke["slurm_job_id"] == smoke_job["JobID"] and smoke["problems"] == []
    assert len(smoke["cuda_visible_devices"]) == 2 and smoke["world_size"] == 2
    assert [r["rank"] for r in smoke["ranks"]] == [0, 1] and {r["all_reduce_sum"] for r in smoke["ranks"]} == {2}
    assert smoke["hub_offline"]["HF_HUB_OFFLINE"] == "1"


def test_preempted_training_job_resumes_from_its_checkpoint(slurm_cluster, tmp_path, tiny_llama):
    """SIGTERM to a running training job (what `scancel --signal=TERM`, or a `--signal=TERM@<s>` preemption
    warning, delivers): the run saves a checkpoint and exits non-zero, the profile's retry resubmits the
    job, and the new job resumes from that checkpoint and ends where an uninterrupted run ends."""
    import yaml

    tiny_experiment(tmp_path, tiny_llama)
    config = yaml.safe_load((tmp_path / "tiny.yaml").read_text())
    config["train"].update(epochs=150, save_every_steps=3)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run_dir = tmp_path / "results/train/tiny-llama/lora/tiny/mono-en/0.0003"
    before = {r["JobID"] for r in slurm_cluster.rule_jobs("train")}  # the session's earlier tests

    background = slurm_cluster.snakemake(tmp_path, str(run_dir.relative_to(tmp_path) / "metrics.json"), background=True)
    try:
        deadline = time.monotonic() + 600
        while not list(run_dir.glob("checkpoints/checkpoint-*/counters.json")):
            assert background.poll() is None and time.monotonic() < deadline, (tmp_path / "snakemake.log").read_text()[
                -3000:
            ]
            time.sleep(0.2)
        # the executor names each job's log after its Slurm job id
        (job_log,) = (tmp_path / ".snakemake/slurm_logs/rule_train").glob("*/*.log")
        # the job's steps only (not --full: bash, the batch shell, would die at once and take srun with it)
        slurm_cluster.run("scancel", "--signal=TERM", job_log.stem)
        assert background.wait(timeout=900) == 0, (tmp_path / "snakemake.log").read_text()[-4000:]
    finally:
        if background.poll() is None:
            background.kill()

    jobs = [r for r in slurm_cluster.rule_jobs("train") if r["JobID"] not in before]
    assert [j["State"] for j in jobs] == ["FAILED", "COMPLETED"], jobs
    metrics = json.loads((run_dir / "metrics.json").read_text())
    manifest = json.loads((tmp_path / "results/mixtures/tiny/mono-en/manifest.json").read_text())
    assert metrics["resumed_from_step"] >= 3 and metrics["epochs_seen"] == 150
    assert metrics["examples_seen"] == 150 * metrics["train_examples_used"]  # nothing seen twice or skipped
    assert metrics["train_examples"] == manifest["train_total"]
    assert not (run_dir / "checkpoints").exists()
