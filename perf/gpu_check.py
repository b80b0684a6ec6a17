"""The steps of perf/gpu_check.sh: one GPU loan proves the CUDA paths and measures throughput and MFU.

    python3 perf/gpu_check.py plan [--dry-run]                 # the steps and their time boxes (for the shell)
    python3 perf/gpu_check.py STEP --work DIR --out DIR [--dry-run]
    python3 perf/gpu_check.py report --work DIR --out DIR [--dry-run]

Each step runs in its own process under `timeout` (the shell script), writes `<work>/steps/<step>.json`
(status pass / fail / skip, a one-line detail, its figures; rewritten as figures come in, so a step cut
off by its time box keeps what it measured) and exits 0 unless it failed. `report` gathers them into
`<out>/gpu_check.json` and `<out>/gpu_check.md` and prints the Markdown.

On the GPU (default) the sizes are the real ones: a ~1.1B Llama in bf16, the tiny experiment through
Snakemake on CUDA, 36 prompts. `--dry-run` runs the same code on the CPU at tiny sizes in seconds
(tests/test_gpu_check.py), so the script does not rot between loans; it installs nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "perf"), str(REPO / "tests")]

# step -> (its time box on the GPU, in a dry run), seconds, in this order, most important first. The boxes and
# the report's reserve fit in TOTAL (9 minutes on the GPU); a step may also use what earlier steps left unused
# (the shell gives it everything but the boxes of the steps after it).
STEPS = {
    "install": (40, 30),
    "device": (35, 60),
    "train": (185, 240),
    "workflow": (110, 120),
    "generate": (55, 90),
    "deepspeed": (70, 60),
    "comet": (30, 120),
}
TOTAL = (540, 740)
REPORT_RESERVE = 15  # seconds kept for the report

# GPU sizes, and the dry run's
TRAIN = {
    "gpu": {"examples": 1600, "steps": 20, "max_length": 1024, "micro": 16},
    "dry": {"examples": 32, "steps": 2, "max_length": 128, "micro": 4},
}
# the dry run trains both methods and all three batchings in three runs instead of six
DRY_RUNS = (("lora", "packed"), ("full", "length-grouped"), ("lora", "padded"))
DRY_SHAPE = dict(
    hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2
)
GENERATE = {"gpu": {"prompts": 24, "tokens": 32, "batch": 12}, "dry": {"prompts": 6, "tokens": 4, "batch": 3}}
DEEPSPEED_STEPS = 6
COMET_SEGMENTS = {"gpu": 256, "dry": 8}
MATMUL = {"gpu": 8192, "dry": 256}
VERSIONS = (
    "torch",
    "transformers",
    "tokenizers",
    "peft",
    "accelerate",
    "trl",
    "datasets",
    "snakemake",
    "deepspeed",
    "unbabel-comet",
    "numpy",
    "pytorch-lightning",
    "fasttext-numpy2",
)


class Step:
    """A step's result file: written at start (running), after each figure (`save`), and at the end."""

    def __init__(self, name: str, work: Path, dry: bool):
        self.path = work / "steps" / f"{name}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.result = {"step": name, "status": "running", "detail": "", "dry_run": dry, "figures": {}}
        self.started = time.perf_counter()
        self.save()

    def save(self, **figures) -> None:
        self.result["figures"].update(figures)
        self.result["seconds"] = round(time.perf_counter() - self.started, 1)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.result, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def end(self, status: str, detail: str) -> int:
        self.result.update(status=status, detail=detail)
        self.save()
        print(f"[{self.result['step']}] {status.upper()}: {detail}", flush=True)
        return 1 if status == "fail" else 0


def mode(dry: bool) -> str:
    return "dry" if dry else "gpu"


def cuda_or_reason(dry: bool) -> str | None:
    """None when the step may go on: CUDA is there, or this is a dry run."""
    import torch

    if dry or torch.cuda.is_available():
        return None
    return "CUDA is not available to torch " + torch.__version__


# --- steps ------------------------------------------------------------------------------------------------------


def step_install(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    if dry:
        manifest = REPO / "wheels-gpu" / "MANIFEST.json"
        here = f"; wheels-gpu/ here: {manifest.exists()}"
        return "skip", "dry run: nothing installed, the project's own environment is used" + here
    return install(REPO / "wheels-gpu", work, step)


def install(wheels_dir: Path, work: Path, step: Step) -> tuple[str, str]:
    """`<wheels_dir>/*.whl` into <work>/site (on every later step's path) and `<wheels_dir>/comet/*.whl` into
    <work>/comet-site (first on the COMET step's path only), without the network or dependencies."""
    wheels = sorted(wheels_dir.glob("*.whl"))
    comet_wheels = sorted((wheels_dir / "comet").glob("*.whl"))
    if not wheels:
        return "fail", f"no wheels in {wheels_dir}: run `make gpu-wheels` here and name wheels-gpu in the run's carry"
    installed = {}
    for target, group in ((work / "site", wheels), (work / "comet-site", comet_wheels)):
        if not group:
            continue
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--no-compile"]
        command += ["--no-cache-dir", "--disable-pip-version-check", "--upgrade", "--target", str(target)]
        proc = subprocess.run([*command, *map(str, group)], capture_output=True, text=True)
        if proc.returncode != 0:
            return "fail", f"pip install into {target} failed: {(proc.stderr or proc.stdout)[-600:]}"
        installed[target.name] = [w.name for w in group]
        step.save(installed=installed)
    return "pass", f"{len(wheels)} wheels into {work / 'site'}, {len(comet_wheels)} into {work / 'comet-site'}"


def step_device(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    import importlib.metadata as metadata

    import torch

    from polyinstruct.train import efficiency

    versions = {}
    for name in VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    figures = {"python": sys.version.split()[0], "versions": versions, "cuda_available": torch.cuda.is_available()}
    step.save(**figures)
    reason = cuda_or_reason(dry)
    if reason:
        return "fail", reason
    on_gpu = torch.cuda.is_available() and not dry
    device = "cuda" if on_gpu else "cpu"
    dtype = torch.bfloat16 if on_gpu else torch.float32
    n = MATMUL[mode(dry)]
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    repeats = 10
    if on_gpu:
        props = torch.cuda.get_device_properties(0)
        step.save(
            device=torch.cuda.get_device_name(0),
            capability=".".join(map(str, torch.cuda.get_device_capability(0))),
            memory_gib=round(props.total_memory / 2**30, 1),
            multiprocessors=props.multi_processor_count,
            cuda=torch.version.cuda,
        )
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        for _ in range(repeats):
            a @ b
        stop.record()
        torch.cuda.synchronize()
        seconds = start.elapsed_time(stop) / 1000
    else:
        started = time.perf_counter()
        for _ in range(repeats):
            a @ b
        seconds = time.perf_counter() - started
    flops = 2 * n**3 * repeats / seconds
    name = torch.cuda.get_device_name(0) if on_gpu else "cpu"
    datasheet = efficiency.peak_flops(name) if on_gpu else None
    step.save(
        matmul=f"{n}x{n}x{n} {str(dtype).replace('torch.', '')}, mean of {repeats} after 3 warm-ups",
        peak_flops_measured=flops,
        peak_flops_datasheet=datasheet,
        measured_share_of_datasheet=round(flops / datasheet, 3) if datasheet else None,
    )
    (work / "peak.json").write_text(json.dumps({"device": name, "peak_flops": flops}), encoding="utf-8")
    what = "bf16 peak" if on_gpu else "CPU fp32 (dry run, not a peak)"
    return "pass", f"{name}: {what} {_flops(flops)} measured" + (
        f" (datasheet {datasheet / 1e12:.0f})" if datasheet else ""
    )


def measured_peak(work: Path) -> float | None:
    path = work / "peak.json"
    return json.loads(path.read_text())["peak_flops"] if path.exists() else None


def train_inputs(work: Path, dry: bool):
    """The benchmark model and data under <work>/train, built once (the generate and deepspeed steps reuse them)."""
    import bench_train

    sizes = TRAIN[mode(dry)]
    shape = DRY_SHAPE if dry else bench_train.GPU_SHAPE
    return bench_train.gpu_data(work / "train", sizes["examples"], shape, device="cpu" if dry else "cuda")


def step_train(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    import bench_train

    reason = cuda_or_reason(dry)
    if reason:
        return "fail", reason
    sizes = TRAIN[mode(dry)]
    started = time.perf_counter()
    pointer, data = train_inputs(work, dry)
    step.save(
        model="random Llama " + ("(tiny, dry run)" if dry else "1.1B (hidden 2048, 16 layers, 32 heads, 8 KV heads)"),
        sizes=sizes,
        build_seconds=round(time.perf_counter() - started, 1),
        peak_flops_measured=measured_peak(work),
    )
    rows = bench_train.gpu_rows(
        work / "train",
        pointer,
        data,
        steps=sizes["steps"],
        max_length=sizes["max_length"],
        micro=sizes["micro"],
        runs=DRY_RUNS if dry else bench_train.GPU_RUNS,
        peak_measured=measured_peak(work),
        on_row=lambda rows: step.save(runs=rows),
    )
    bad = [f"{r['method']}/{r['batching']}" for r in rows if not _finite(r["final_loss"])]
    if bad:
        return "fail", f"loss not finite in {', '.join(bad)}"
    if not dry and any(r["device"] == "cpu" for r in rows):
        return "fail", "a run trained on the CPU"
    best = max(rows, key=lambda r: r["steady_tokens_per_second_per_device"] or 0)
    mfu = best["steady_mfu_measured_peak"]
    return "pass", (
        f"{len(rows)} runs of LoRA and full fine-tuning, padded, length-grouped and packed; fastest {best['method']}/"
        f"{best['batching']} {best['steady_tokens_per_second_per_device']} tokens/s per device"
        + (f", MFU {mfu:.1%} of the measured peak" if mfu else "")
    )


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def step_workflow(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    """The tiny experiment (tests/conftest.py) through the real rules, up to the score summaries."""
    import tarfile

    from conftest import _shipped, tiny_experiment
    from tiny_models import build_tiny_llama

    from polyinstruct.workflow.planning import OFFLINE_ENV, parse_job_stats

    reason = cuda_or_reason(dry)
    if reason:
        return "fail", reason
    root = work / "workflow"
    root.mkdir(parents=True, exist_ok=True)
    corpus = [r["instruction"] + " " + r["output"] for lang in ("en", "fr", "de") for r in _shipped(lang, 100)]
    tiny_experiment(root, build_tiny_llama(root / "tiny-llama", corpus))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(root)]
    command += ["--configfile", str(root / "tiny.yaml"), "--profile", str(REPO / "tests/profile")]
    command += ["--cores", str(os.cpu_count() or 2), "--scheduler", "greedy", "--until", "summarise_scores"]
    if dry:
        command.append("-n")
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=root, env={**os.environ, **OFFLINE_ENV})
    seconds = round(time.perf_counter() - started, 1)
    (root / "snakemake.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    jobs = parse_job_stats(proc.stdout + proc.stderr)
    step.save(command=" ".join(command[1:]), seconds_snakemake=seconds, jobs=jobs, returncode=proc.returncode)
    if not dry:
        with tarfile.open(out / "workflow_logs.tar.gz", "w:gz") as archive:
            for path in [root / "snakemake.log", *sorted((root / "logs").rglob("*"))]:
                if path.is_file():
                    archive.add(path, arcname=str(path.relative_to(root)))
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout)[-800:].strip().replace("\n", " | ")
        return "fail", f"snakemake exited {proc.returncode}: {tail}"
    if dry:
        return "pass", f"dry run: snakemake -n plans {sum(jobs.values())} jobs up to summarise_scores"
    status, detail, figures = workflow_outcome(root, jobs)
    step.save(**figures)
    return status, (f"{sum(jobs.values())} jobs in {seconds} s; " if status == "pass" else "") + detail


def workflow_outcome(root: Path, jobs: dict) -> tuple[str, str, dict]:
    """Whether a finished run of the tiny experiment trained on the GPU and wrote every planned score summary."""
    from polyinstruct.io import read_json

    metrics = [read_json(p) for p in sorted((root / "results/train").rglob("metrics.json"))]
    summaries = sorted((root / "results/score/summary").rglob("*.json"))
    devices = sorted({m.get("device", "?") for m in metrics})
    figures = {
        "train_runs": len(metrics),
        "train_devices": devices,
        "train_tokens_per_second": [m.get("tokens_per_second") for m in metrics],
        "score_summaries": len(summaries),
    }
    if not metrics or "cpu" in devices:
        return "fail", f"training ran on {', '.join(devices) or 'nothing'}, not on a GPU", figures
    if len(summaries) != jobs.get("summarise_scores"):
        return "fail", f"{len(summaries)} score summaries written, {jobs.get('summarise_scores')} planned", figures
    return "pass", f"{len(metrics)} runs trained on {', '.join(devices)}; {len(summaries)} score summaries", figures


def step_generate(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    import bench_generate

    from polyinstruct.generate import answers
    from polyinstruct.models import loader

    reason = cuda_or_reason(dry)
    if reason:
        return "fail", reason
    sizes = GENERATE[mode(dry)]
    pointer, _ = train_inputs(work, dry)
    model, tokenizer = loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)
    prompts = bench_generate.prompts_for(tokenizer)[: sizes["prompts"]]
    step.save(model="the train step's random Llama" + (" (tiny)" if dry else " (1.1B)"), sizes=sizes)
    result = bench_generate.measure(model, tokenizer, prompts, sizes["tokens"], sizes["batch"])
    step.save(**result)
    started = time.perf_counter()
    _, stats = answers.batched_generate(
        model, tokenizer, prompts, batch_size=len(prompts), max_new_tokens=sizes["tokens"]
    )
    seconds = time.perf_counter() - started
    step.save(
        one_batch_of_all={
            "batch_size": len(prompts),
            "seconds": round(seconds, 2),
            "new_tokens_per_s": round(stats["new_tokens"] / seconds, 1),
        }
    )
    if not dry and result["device"] == "cpu":
        return "fail", "the model was on the CPU"
    return "pass", (
        f"batched ({sizes['batch']} a batch) {result['speedup_responses_per_s']}x one call per prompt "
        f"({result['batched']['new_tokens_per_s']} against {result['one_at_a_time']['new_tokens_per_s']} "
        f"new tokens/s on {result['device']}, {result['dtype']})"
    )


def step_deepspeed(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    try:
        import deepspeed
    except ImportError as error:
        return "skip", f"DeepSpeed is not installed ({error}): `make gpu-wheels` builds its wheel into wheels-gpu/"
    from polyinstruct.train import deepspeed_configs

    config = deepspeed_configs.resolve("zero2")
    step.save(deepspeed=deepspeed.__version__, config=str(Path(config).relative_to(REPO)))
    if dry:
        return "skip", f"dry run: DeepSpeed {deepspeed.__version__} imports and ZeRO-2 resolves; not trained on the CPU"
    reason = cuda_or_reason(dry)
    if reason:
        return "fail", reason
    import bench_train

    sizes = TRAIN["gpu"]
    pointer, data = train_inputs(work, dry)
    rows = bench_train.gpu_rows(
        work / "train",
        pointer,
        data,
        steps=DEEPSPEED_STEPS,
        max_length=sizes["max_length"],
        micro=sizes["micro"],
        runs=(("full", "packed"),),
        peak_measured=measured_peak(work),
        deepspeed="zero2",
    )
    step.save(runs=rows)
    r = rows[0]
    if not _finite(r["final_loss"]) or r["device"] == "cpu":
        return "fail", f"ZeRO-2 run: loss {r['final_loss']}, device {r['device']}"
    return "pass", (
        f"ZeRO-2 full fine-tuning, {r['steps']} steps through torchrun: "
        f"{r['steady_tokens_per_second_per_device']} tokens/s per device, peak {r['peak_gpu_mib']} MiB"
    )


def step_comet(step: Step, work: Path, out: Path, dry: bool) -> tuple[str, str]:
    import importlib.metadata as metadata

    try:
        import comet  # noqa: F401
    except ImportError as error:
        return "skip", f"unbabel-comet is not installed ({error})"
    transformers_version = metadata.version("transformers")
    step.save(transformers=transformers_version, comet=metadata.version("unbabel-comet"))
    if int(transformers_version.split(".")[0]) >= 5:
        return "skip", (
            f"unbabel-comet needs transformers<5 and this path has {transformers_version} "
            "(wheels-gpu/comet/ was not installed)"
        )
    import torch
    from tiny_models import build_tiny_comet

    from polyinstruct.mt import comet_score

    reason = cuda_or_reason(dry)
    if reason:
        return "fail", reason
    flores = REPO / "tests/fixtures/flores101/flores101_dataset/devtest"  # FLORES-101's devtest (released lines)
    codes = {"en": "eng", "fr": "fra", "de": "deu", "zh": "zho_simpl"}
    devtest = {
        lang: (flores / f"{code}.devtest").read_text(encoding="utf-8").splitlines() for lang, code in codes.items()
    }
    lines = {lang: devtest[lang] for lang in ("en", "fr")}
    corpus = [line for lang in ("en", "fr", "de", "zh") for line in devtest[lang]]
    checkpoint = build_tiny_comet(work / "comet", corpus)
    n = COMET_SEGMENTS[mode(dry)]
    sources = [lines["en"][i % len(lines["en"])] for i in range(n)]
    references = [lines["fr"][i % len(lines["fr"])] for i in range(n)]
    hypotheses = references[1:] + references[:1]
    started = time.perf_counter()
    result = comet_score.score(str(checkpoint), sources, hypotheses, references, batch_size=32, gpus=0 if dry else 1)
    seconds = time.perf_counter() - started
    on = "cuda" if torch.cuda.is_available() and not dry else "cpu"
    step.save(
        model="tiny random COMET (regression metric over a 2-layer XLM-R, tests/tiny_models.py)",
        segments=n,
        seconds=round(seconds, 2),
        segments_per_s=round(n / seconds, 1),
        system_score=result["system_score"],
        device=on,
    )
    if not all(map(_finite, result["scores"])):
        return "fail", "COMET scores are not finite"
    return "pass", f"tiny COMET scored {n} segments on {on} in {seconds:.1f} s (transformers {transformers_version})"


# --- report ------------------------------------------------------------------------------------------------------


def gather(work: Path, dry: bool) -> dict:
    steps = []
    for name in STEPS:
        path = work / "steps" / f"{name}.json"
        result = json.loads(path.read_text()) if path.exists() else {"step": name, "figures": {}}
        rc_path = work / "steps" / f"{name}.rc"
        rc, limit = (None, None)
        if rc_path.exists():
            fields = rc_path.read_text().split()
            rc, limit = int(fields[0]), int(fields[1])
            result["time_box_s"] = limit
        if rc in (124, 137):
            result.update(status="fail", detail=f"timed out after its {limit} s time box ({result.get('detail', '')})")
        elif rc == -1:
            result.update(status="skip", detail="not run: no time left in the check's budget")
        elif result.get("status") in (None, "running"):
            result.update(status="fail", detail=f"exited with status {rc} before finishing (see gpu_check.log)")
        steps.append(result)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "dry_run": dry,
        "steps": steps,
        "passed": all(s["status"] != "fail" for s in steps),
    }


def _fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(report: dict) -> str:
    by_name = {s["step"]: s for s in report["steps"]}
    device = by_name["device"]["figures"]
    title = f"# GPU check, {report['date']}: {device.get('device', 'no GPU')}"
    lines = [title + (" (dry run on the CPU, tiny sizes)" if report["dry_run"] else ""), ""]
    lines += ["| step | result | seconds | detail |", "|---|---|---:|---|"]
    for s in report["steps"]:
        lines.append(f"| {s['step']} | {s['status'].upper()} | {_fmt(s.get('seconds'), 1)} | {s.get('detail', '')} |")
    lines += ["", f"**{'PASSED' if report['passed'] else 'FAILED'}**", ""]
    if device.get("versions"):
        lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in device["versions"].items() if v), ""]
    if device.get("peak_flops_measured"):
        lines += [
            f"Peak: {device.get('matmul')}: {_flops(device['peak_flops_measured'])} measured"
            + (
                f" (datasheet {device['peak_flops_datasheet'] / 1e12:.0f})"
                if device.get("peak_flops_datasheet")
                else ""
            ),
            "",
        ]
    runs = list(by_name["train"]["figures"].get("runs", [])) + list(by_name["deepspeed"]["figures"].get("runs", []))
    if runs:
        lines += [
            "## Training through the recipe (" + str(by_name["train"]["figures"].get("model", "")) + ")",
            "",
            "| method | batching | DeepSpeed | steps | padding | tokens/example | tokens/s/device "
            "| steady tokens/s/device | MFU (measured peak) | MFU (datasheet) | peak MiB |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in runs:
            share = r["padding_share"]
            lines.append(
                f"| {r['method']} | {r['batching']} | {'ZeRO-2' if r['deepspeed'] else '-'} | {r['steps']} "
                f"| {'-' if share is None else f'{share:.1%}'} | {_fmt(r['mean_tokens_per_example'], 0)} "
                f"| {_fmt(r['tokens_per_second_per_device'])} | {_fmt(r['steady_tokens_per_second_per_device'])} "
                f"| {_pct(r['steady_mfu_measured_peak'])} | {_pct(r['steady_mfu_datasheet'])} "
                f"| {_fmt(r['peak_gpu_mib'])} |"
            )
        lines += [
            "",
            "Steady = without each run's first optimiser step. MFU = model FLOPs (6N full, 4N LoRA, plus attention) "
            "x tokens/s / peak.",
            "",
        ]
    generate = by_name["generate"]["figures"]
    if generate.get("batched"):
        lines += [
            "## Generation: batched against one call per prompt",
            "",
            f"{generate['prompts']} prompts, {generate['max_new_tokens']} new tokens at most, greedy, "
            f"{generate['device']} {generate['dtype']}: one call per prompt {generate['one_at_a_time']['seconds']} s "
            f"({generate['one_at_a_time']['new_tokens_per_s']} new tokens/s), batches of {generate['batch_size']} "
            f"{generate['batched']['seconds']} s ({generate['batched']['new_tokens_per_s']} new tokens/s): "
            f"**{generate['speedup_responses_per_s']}x**; identical responses {generate['identical_responses']} "
            f"of {generate['prompts']}."
            + (
                f" One batch of all {generate['one_batch_of_all']['batch_size']}: "
                f"{generate['one_batch_of_all']['new_tokens_per_s']} new tokens/s."
                if generate.get("one_batch_of_all")
                else ""
            ),
            "",
        ]
    for name in ("workflow", "comet"):
        figures = by_name[name]["figures"]
        if figures:
            shown = {k: v for k, v in figures.items() if k not in ("command",)}
            lines += [f"## {name}", "", "```", json.dumps(shown, indent=1, default=str)[:2000], "```", ""]
    return "\n".join(lines)


def _flops(value: float) -> str:
    return f"{value / 1e12:.1f} TFLOP/s" if value >= 1e12 else f"{value / 1e9:.1f} GFLOP/s"


def _pct(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def report(work: Path, out: Path, dry: bool) -> int:
    result = gather(work, dry)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    text = markdown(result)
    (out / "gpu_check.md").write_text(text + "\n", encoding="utf-8")
    print(text, flush=True)
    return 0 if result["passed"] else 1


STEP_FUNCTIONS = {
    "install": step_install,
    "device": step_device,
    "train": step_train,
    "workflow": step_workflow,
    "generate": step_generate,
    "deepspeed": step_deepspeed,
    "comet": step_comet,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["plan", "report", *STEPS])
    parser.add_argument("--work", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    column = 1 if args.dry_run else 0
    if args.step == "plan":
        print(f"total {TOTAL[column]} {REPORT_RESERVE}")
        boxes = [limits[column] for limits in STEPS.values()]
        for i, name in enumerate(STEPS):
            print(f"{name} {boxes[i]} {sum(boxes[i + 1 :])}")  # its box, and the boxes still to come after it
        return 0
    if args.step == "report":
        return report(args.work, args.out, args.dry_run)
    step = Step(args.step, args.work, args.dry_run)
    try:
        if args.step != "install":
            import torch

            torch.manual_seed(0)
            if args.dry_run:
                torch.set_num_threads(min(2, os.cpu_count() or 1))
        status, detail = STEP_FUNCTIONS[args.step](step, args.work, args.out, args.dry_run)
    except Exception as error:  # noqa: BLE001 (any failure is this step's result; the next step still runs)
        traceback.print_exc()
        status, detail = "fail", f"{type(error).__name__}: {str(error)[-500:]}"
    return step.end(status, detail)


if __name__ == "__main__":
    sys.exit(main())
