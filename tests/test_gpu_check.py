"""The one-call GPU check (perf/gpu_check.sh): its dry run on the CPU, its verdicts, and the wheel bundle's rules.

The dry run is the GPU check's own code at tiny sizes (train through the recipe, Snakemake's plan of the
tiny experiment, batched against one-at-a-time generation, COMET), so the script cannot rot between GPU
loans unnoticed. The verdict tests feed `gather` the results a GPU run can leave (a step cut off by its
time box, a step that died before writing, no time left).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "perf"))

import gpu_check  # noqa: E402
import gpu_wheels  # noqa: E402


@pytest.mark.workflow
def test_dry_run_runs_every_step_and_reports_each(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    env = {**os.environ, "PYTHON": sys.executable, "GPU_CHECK_WORK": str(work), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        ["bash", str(REPO / "perf/gpu_check.sh"), str(out), "--dry-run"], capture_output=True, text=True, env=env
    )
    log = (out / "gpu_check.log").read_text() if (out / "gpu_check.log").exists() else proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    report = json.loads((out / "gpu_check.json").read_text())
    status = {s["step"]: s["status"] for s in report["steps"]}
    assert list(status) == list(gpu_check.STEPS) and report["dry_run"] and report["passed"]
    assert status == {
        "install": "skip",  # a dry run installs nothing
        "device": "pass",
        "train": "pass",
        "workflow": "pass",
        "generate": "pass",
        "deepspeed": "skip",  # imported and configured, not trained on the CPU
        "comet": "pass",
    }
    steps = {s["step"]: s["figures"] for s in report["steps"]}
    runs = steps["train"]["runs"]
    assert {r["method"] for r in runs} == {"lora", "full"}
    assert {r["batching"] for r in runs} == {"padded", "length-grouped", "packed"}
    for r in runs:
        assert r["steps"] == gpu_check.TRAIN["dry"]["steps"] and r["tokens_per_second_per_device"] > 0
        assert r["steady_tokens_per_second_per_device"] > 0 and r["steady_mfu_measured_peak"] > 0
    assert next(r for r in runs if r["batching"] == "packed")["padding_share"] == 0
    assert steps["workflow"]["returncode"] == 0 and steps["workflow"]["jobs"]["train"] == 2
    generate = steps["generate"]
    assert generate["one_at_a_time"]["new_tokens"] > 0 and generate["speedup_responses_per_s"] > 0
    assert steps["comet"]["segments"] == gpu_check.COMET_SEGMENTS["dry"]
    markdown = (out / "gpu_check.md").read_text()
    assert "| train | PASS |" in markdown and "**PASSED**" in markdown and "steady tokens/s/device" in markdown
    assert markdown.strip() in proc.stdout  # printed too, so the device tool's output tail shows it


def _write_step(work: Path, name: str, status: str | None, rc: int | None, limit: int = 60, **figures) -> None:
    steps = work / "steps"
    steps.mkdir(parents=True, exist_ok=True)
    if status is not None:
        result = {"step": name, "status": status, "detail": f"{name} detail", "figures": figures}
        (steps / f"{name}.json").write_text(json.dumps(result))
    if rc is not None:
        (steps / f"{name}.rc").write_text(f"{rc} {limit}\n")


def test_verdicts_of_cut_off_dead_and_unreached_steps(tmp_path):
    work = tmp_path / "work"
    _write_step(work, "install", "pass", 0)
    _write_step(work, "device", "pass", 0, device="NVIDIA H200", peak_flops_measured=7.9e14, matmul="8192^3 bf16")
    _write_step(work, "train", "running", 124, limit=170, runs=[])  # cut off by its time box
    _write_step(work, "workflow", None, 1)  # died before writing anything
    _write_step(work, "generate", "pass", 0)
    _write_step(work, "deepspeed", "skip", 0)
    _write_step(work, "comet", None, -1, limit=0)  # the budget was spent
    report = gpu_check.gather(work, dry=False)
    verdict = {s["step"]: (s["status"], s["detail"]) for s in report["steps"]}
    assert verdict["train"][0] == "fail" and "timed out after its 170 s time box" in verdict["train"][1]
    assert verdict["workflow"][0] == "fail" and "exited with status 1" in verdict["workflow"][1]
    assert verdict["comet"] == ("skip", "not run: no time left in the check's budget")
    assert verdict["deepspeed"][0] == "skip" and verdict["generate"][0] == "pass"
    assert not report["passed"]
    markdown = gpu_check.markdown(report)
    assert markdown.startswith("# GPU check") and "NVIDIA H200" in markdown and "790.0 TFLOP/s measured" in markdown
    assert "| train | FAIL |" in markdown and "**FAILED**" in markdown


def _pure_wheel(folder: Path, name: str) -> Path:
    """A minimal valid py3-none-any wheel holding the module `name`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", "".join(f"{member},,\n" for member in files) + f"{info}/RECORD,,\n")
    return path


def test_install_puts_the_bundle_and_comets_stack_in_their_own_folders(tmp_path):
    wheels, work = tmp_path / "wheels-gpu", tmp_path / "work"
    _pure_wheel(wheels, "carried_demo")
    _pure_wheel(wheels / "comet", "comet_stack_demo")
    step = gpu_check.Step("install", work, dry=False)
    status, detail = gpu_check.install(wheels, work, step)
    assert status == "pass", detail
    assert (work / "site/carried_demo/__init__.py").is_file() and not (work / "site/comet_stack_demo").exists()
    assert (work / "comet-site/comet_stack_demo/__init__.py").is_file()
    status, detail = gpu_check.install(tmp_path / "empty", work, step)
    assert status == "fail" and "make gpu-wheels" in detail


@pytest.mark.workflow
def test_workflow_verdict_of_a_finished_tiny_run(finished_tiny_run, tmp_path):
    import shutil

    jobs = {"summarise_scores": 6}
    status, detail, figures = gpu_check.workflow_outcome(finished_tiny_run, jobs)
    assert status == "fail" and "training ran on cpu, not on a GPU" in detail  # this machine has no GPU
    assert figures["train_runs"] == 2 and figures["score_summaries"] == 6
    # the same outputs as a GPU run writes them: the verdict passes, and fails when a summary is missing
    copy = tmp_path / "run"
    shutil.copytree(finished_tiny_run / "results", copy / "results")
    for path in (copy / "results/train").rglob("metrics.json"):
        metrics = json.loads(path.read_text())
        path.write_text(json.dumps({**metrics, "device": "NVIDIA H200"}))
    status, detail, _ = gpu_check.workflow_outcome(copy, jobs)
    assert status == "pass" and detail == "2 runs trained on NVIDIA H200; 6 score summaries"
    next((copy / "results/score/summary").rglob("*.json")).unlink()
    assert gpu_check.workflow_outcome(copy, jobs)[:2] == ("fail", "5 score summaries written, 6 planned")


def test_plan_fits_nine_minutes():
    proc = subprocess.run([sys.executable, str(REPO / "perf/gpu_check.py"), "plan"], capture_output=True, text=True)
    first, *steps = proc.stdout.split("\n")[:-1]
    total, reserve = map(int, first.split()[1:])
    assert total <= 9 * 60 and reserve > 0
    names, boxes, later = zip(*(line.split() for line in steps))
    assert list(names) == list(gpu_check.STEPS)
    assert sum(map(int, boxes)) + reserve <= total  # every step gets at least its own box
    assert [int(n) for n in later] == [sum(map(int, boxes[i + 1 :])) for i in range(len(boxes))]


# --- the wheel bundle -------------------------------------------------------------------------------------------


def _wheel(path: Path, name: str, requires: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        meta = "Metadata-Version: 2.1\nName: " + name + "\nVersion: 1.0\n"
        meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
        archive.writestr(f"{name}-1.0.dist-info/METADATA", meta)
    return path


def test_wheel_requirements_are_read_for_cpython_312_on_linux(tmp_path):
    wheel = _wheel(
        tmp_path / "demo-1.0-py3-none-any.whl",
        "demo",
        [
            "Foo_Bar>=1",
            'tomli>=1.1; python_version < "3.11"',
            'greenlet>=1; platform_machine == "x86_64"',
            'pywin32; sys_platform == "win32"',
            'pytest; extra == "test"',
        ],
    )
    assert gpu_wheels.wheel_requirements(wheel) == ["foo-bar", "greenlet"]
    assert gpu_wheels.wheel_name(tmp_path / "snakemake_interface_common-1.23.0-py3-none-any.whl") == (
        "snakemake-interface-common"
    )


def test_everything_the_bundle_starts_from_is_pinned_and_not_on_the_image():
    lock, image = gpu_wheels.lock_versions(), gpu_wheels.image_packages()
    roots = [*gpu_wheels.ROOTS, gpu_wheels.DEEPSPEED, gpu_wheels.COMET]
    assert all(gpu_wheels.canonical(name) in lock for name in [*roots, *gpu_wheels.COMET_STACK])
    assert not {gpu_wheels.canonical(name) for name in roots} & image
    # COMET's stack is on the image in other versions: that is why it is installed apart
    assert set(gpu_wheels.COMET_STACK) <= image and lock["transformers"].startswith("4.")
    assert {"torch", "transformers", "peft", "accelerate", "numpy"} <= image
