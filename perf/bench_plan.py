"""How long planning a large preset takes: `snakemake -n` per job against a trivial workflow, and the summary.

Times, for one config, `snakemake -n --forceall --replace-workflow-config` (a subprocess, as a researcher
runs it) with its job count, and the same dry run of two trivial three-rule workflows (a -> b -> c over one
wildcard) generated in a temporary directory with exactly the same number of jobs: "trivial", `shell:
touch` and nothing else (no input functions, params, logs or scripts), and "featured", the same chain with
the features every rule of ours has (`script:`, `log:`, `benchmark:`, `conda:`, a code param) but still no
input functions or computed params. It prints the per-job costs (wall-clock and the child's CPU seconds,
the best of --repeat runs each, alternating) and ours' ratio to each: to "trivial", what our workflow
costs on top of Snakemake's cheapest; to "featured", what our input functions and params alone add
(Snakemake's per-job work for scripts, logs, benchmarks and conda environments being the same). Our Snakefile
tunes Python's garbage collector while it plans (`workflow/collector.py`), has Snakemake's source cache parse
each script's path once (`workflow/script_sources.py`; only rules with a script gain from it) and reads each
function's signature once (`workflow/signatures.py`, Snakemake's own resource functions included); with
--same-collector the two baselines get the same lines, and the ratios to them say what is left once that is
equal. Then the planning summary: the sizes and estimates alone (`planning.summarise`, no Snakemake) and the whole
command (`python -m polyinstruct.workflow.planning`, which runs its own dry run); --no-summary skips it.

Default config: configs/bayling2.yaml; with --synthetic, a BayLing-sized config generated in a temporary
directory (every registry language with a FLORES code in mt_eval X<->en and X<->zh directions, lm-eval
tasks over them, 3 models, the crosslingual mixture and its ablation, MT-Bench-style judging through an API).

    .venv/bin/python perf/bench_plan.py [--configfile F | --synthetic] [--repeat 3] [--no-summary] [--profile]
                                        [--same-collector]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT = REPO / "configs/bayling2.yaml"


def synthetic_bayling(root: Path) -> Path:
    """A BayLing-2-sized config under `root` (tiny FLORES-style files for every language); returns its path."""
    from polyinstruct import languages

    langs = [c for c in languages.all_codes() if languages.get(c).flores]
    flores = root / "flores"
    flores.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        for split in ("dev", "devtest"):
            (flores / f"{lang}.{split}").write_text("".join(f"{lang} sentence {i}.\n" for i in range(20)))
    others = [c for c in langs if c not in ("en", "zh")]
    config = {
        "experiment": "synthetic BayLing 2 (planning benchmark)",
        "source_language": "en",
        "languages": ["en", "zh"],
        "eval_languages": ["en", "zh", "de", "fr", "ja", "ru", "ar", "hi", "sw", "th"],
        "datasets": {"alpaca": {"hub": "tatsu-lab/alpaca", "num_records": 52002}},
        "evalsets": {"mtbench": {"hub": "example/mt-bench-x", "num_items": 80, "turns": 2}},
        "translate": {"engine": "llm", "shard_size": 2000},
        "mixtures": {"kinds": ["crosslingual"]},
        "crosslingual": {
            "parallel": {"path": str(flores / "{lang}.devtest"), "format": "lines"},
            "pivots": ["en", "zh"],
            "languages": others,
            "ablation": True,
            "mixture": {"budget": 160000, "shares": {"zh": 0.43, "en": 0.26, "crosslingual": 0.31}},
        },
        "models": {
            "llama2-7b": {"hub": "meta-llama/Llama-2-7b-hf", "parameters": 6.7e9},
            "llama2-13b": {"hub": "meta-llama/Llama-2-13b-hf", "parameters": 13.0e9},
            "llama3-8b": {"hub": "meta-llama/Meta-Llama-3-8B", "parameters": 8.0e9},
        },
        "train": {"methods": ["lora"], "epochs": 3},
        "mt_eval": {
            "testsets": {
                "flores": {
                    "test": str(flores / "{lang}.devtest"),
                    "dev": str(flores / "{lang}.dev"),
                    "pivots": ["en", "zh"],
                    "languages": others,
                    "shots": 1,
                }
            },
            "comet": {"enabled": True},
        },
        "lm_eval": {
            "tasks": ["belebele_{flores}", "xnli_{lang}", "hellaswag_{lang}", "arc_{lang}"],
            "languages": langs,
        },
        "score": {
            "judge": {
                "backend": "openai",
                "protocols": ["mt_bench_single", "mt_bench_pairwise"],
                "openai": {"model": "gpt-4o", "base_url": "https://api.openai.com/v1"},
                "prices": {"prompt_per_million": 2.5, "completion_per_million": 10.0},
            }
        },
    }
    path = root / "bayling_synthetic.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


TRIVIAL = """\
N = {chains}
EXTRA = {extra}


rule all:
    input:
        expand("c/{{i}}.txt", i=range(N)),
        expand("a/{{i}}.txt", i=range(N, N + EXTRA)),

{rules}{planning_lines}"""

#: a step of the bare chain: what the issue's baseline is
SHELL_STEP = """
rule {name}:
{input}    output:
        "{name}/{{i}}.txt",
    shell:
        "touch {{output}}"
"""

#: a step of the chain with the rule features every one of our rules has (the house style): a `script:`, a
#: `log:`, a `benchmark:`, a `conda:` environment and a code-fingerprint param, but no input functions and no
#: computed params. Snakemake's own per-job work for these features is the same as for our rules, so our rules
#: against this chain is the cost of our input functions and params alone.
FEATURE_STEP = """
rule {name}:
{input}    output:
        "{name}/{{i}}.txt",
    params:
        code="0123456789abcdef",
    log:
        "logs/{name}/{{i}}.log",
    benchmark:
        "benchmarks/{name}/{{i}}.tsv",
    conda:
        "env.yaml"
    script:
        "touch.py"
"""


#: what our Snakefile does about planning speed, for the baselines with --same-collector: the garbage
#: collector's settings, the source cache's memo of parsed script paths (used only by rules with scripts) and
#: the signatures read once (Snakemake's own resource functions included)
PLANNING_LINES = """

from polyinstruct.workflow import collector, script_sources
from polyinstruct.workflow.signatures import pin_signatures

pin_signatures(workflow)
script_sources.parse_each_path_once()
collector.for_planning()


onstart:
    collector.for_running()
"""


def trivial_workflow(
    root: Path, jobs: int, features: bool = False, same_collector: bool = False
) -> tuple[Path, list[str]]:
    """A three-rule chain with exactly `jobs` jobs (`all` included); returns its directory and config args.
    `features`: each rule has our rules' features (FEATURE_STEP) instead of a bare `shell: touch`;
    `same_collector`: the Snakefile has our planning lines (garbage collector, script path memo, signatures
    read once)."""
    root.mkdir(parents=True, exist_ok=True)
    chains, extra = divmod(jobs - 1, 3)
    step = FEATURE_STEP if features else SHELL_STEP
    rules = "".join(
        step.format(name=name, input=f'    input:\n        "{before}/{{i}}.txt",\n' if before else "")
        for name, before in (("a", None), ("b", "a"), ("c", "b"))
    )
    planning_lines = PLANNING_LINES if same_collector else ""
    (root / "Snakefile").write_text(
        TRIVIAL.format(planning_lines=planning_lines, chains=chains, extra=extra, rules=rules), encoding="utf-8"
    )
    if features:
        (root / "env.yaml").write_text("channels: [conda-forge]\ndependencies: [python=3.11]\n", encoding="utf-8")
        (root / "touch.py").write_text("open(snakemake.output[0], 'w').close()\n", encoding="utf-8")
    return root, []


def dry_run(cwd: Path, args: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, job count) of one `snakemake -n --forceall` in `cwd`."""
    from polyinstruct.workflow import planning

    cmd = [sys.executable, "-m", "snakemake", "-n", "--forceall", "--nolock", "--cores", "1", "--quiet", "rules"]
    env = {**os.environ, **planning.OFFLINE_ENV, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake -n failed in {cwd}:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, sum(planning.parse_job_stats(proc.stdout).values())


def time_dry_run(configfile: Path) -> tuple[float, int]:
    seconds, _, jobs = dry_run(REPO, ["--replace-workflow-config", "--configfile", str(configfile)])
    return seconds, jobs


BASELINES = {"trivial": False, "featured": True}  # name -> trivial_workflow(features=...)


def compare(configfile: Path, root: Path, repeat: int, same_collector: bool = False) -> dict:
    """Best-of-`repeat` per-job wall and CPU milliseconds of ours and of the two trivial workflows (the bare
    shell chain, and the chain with our rules' features), and ours' ratios to each."""
    ours_args = ["--replace-workflow-config", "--configfile", str(configfile)]
    best = {name: [float("inf"), float("inf")] for name in ("ours", *BASELINES)}
    jobs = None
    workflows = {}
    for i in range(repeat):
        wall, cpu, n = dry_run(REPO, ours_args)
        if jobs is None:
            jobs = n
            workflows = {
                name: trivial_workflow(root / name, jobs, features, same_collector)
                for name, features in BASELINES.items()
            }
        best["ours"] = [min(best["ours"][0], wall), min(best["ours"][1], cpu)]
        line = [f"ours {wall:.1f} s wall / {cpu:.1f} s CPU"]
        for name, (cwd, args) in workflows.items():
            t_wall, t_cpu, t_jobs = dry_run(cwd, args)
            if t_jobs != jobs:
                raise SystemExit(f"{name} workflow planned {t_jobs} jobs, not {jobs}")
            best[name] = [min(best[name][0], t_wall), min(best[name][1], t_cpu)]
            line.append(f"{name} {t_wall:.1f} s wall / {t_cpu:.1f} s CPU")
        print(f"  run {i + 1}: " + ", ".join(line), flush=True)
    per_job = {k: {"wall_ms": 1000 * v[0] / jobs, "cpu_ms": 1000 * v[1] / jobs} for k, v in best.items()}
    ratios = {
        name: {
            "wall": per_job["ours"]["wall_ms"] / per_job[name]["wall_ms"],
            "cpu": per_job["ours"]["cpu_ms"] / per_job[name]["cpu_ms"],
        }
        for name in BASELINES
    }
    return {"jobs": jobs, **per_job, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", type=Path, default=None)
    parser.add_argument("--synthetic", action="store_true", help="the generated BayLing-sized config")
    parser.add_argument("--repeat", type=int, default=3, help="dry runs of each workflow; the best counts")
    parser.add_argument("--no-summary", action="store_true", help="only the per-job comparison")
    parser.add_argument("--profile", action="store_true", help="cProfile the planning summary's estimates")
    parser.add_argument(
        "--same-collector",
        action="store_true",
        help="the baselines have our planning lines (garbage collector, script path memo, signatures read once)",
    )
    args = parser.parse_args()

    from polyinstruct.workflow import planning

    with tempfile.TemporaryDirectory() as tmp:
        if args.synthetic or (args.configfile is None and not DEFAULT.exists()):
            configfile = synthetic_bayling(Path(tmp))
        else:
            configfile = (args.configfile or DEFAULT).resolve()
        print(f"config: {configfile}")
        result = compare(configfile, Path(tmp), args.repeat, args.same_collector)
        if args.same_collector:
            print(
                "baselines with our Snakefile's planning lines"
                " (workflow/collector.py, workflow/script_sources.py, workflow/signatures.py)"
            )
        print(f"snakemake -n, {result['jobs']:,} jobs each, best of {args.repeat}:")
        for name in ("ours", *BASELINES):
            row = result[name]
            print(f"  {name:<8} {row['wall_ms']:.2f} ms/job wall  {row['cpu_ms']:.2f} ms/job CPU")
        for name, ratio in result["ratios"].items():
            print(f"ratio ours/{name}: {ratio['wall']:.2f}x wall, {ratio['cpu']:.2f}x CPU (target <= 1.5x)")
        if args.no_summary:
            return

        config = planning.load_config([configfile])
        start = time.perf_counter()
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        summary = planning.summarise(config, {}, planning.rule_stages())
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
        print(f"planning estimates (no Snakemake): {time.perf_counter() - start:.2f} s")

        out = Path(tmp) / "plan"
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "polyinstruct.workflow.planning",
                "--configfile",
                str(configfile),
                "--out",
                str(out),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"planning failed:\n{proc.stderr[-3000:]}")
        print(f"python -m polyinstruct.workflow.planning (dry run included): {seconds:.1f} s")
        print(proc.stdout)
        print(f"GPU-hours {summary['gpu_hours']['total']:,.0f}, judge calls {summary['judge']['calls']:,}")


if __name__ == "__main__":
    main()
