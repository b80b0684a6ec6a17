"""How long planning a large preset takes: `snakemake -n` (the DAG) and the planning summary.

Times, for one config, the wall-clock of `snakemake -n --forceall --replace-workflow-config` (a subprocess,
as a researcher runs it) with its job count, then the planning summary: the sizes and estimates alone
(`planning.summarise`, no Snakemake) and the whole command (`python -m polyinstruct.workflow.planning`, which runs its
own dry run). Default config: configs/bayling2.yaml; until that preset exists, or with --synthetic, a
BayLing-sized config generated in a temporary directory (every registry language with a FLORES code in
mt_eval X<->en and X<->zh directions, lm-eval tasks over them, 3 models, the crosslingual mixture and its
ablation, MT-Bench-style judging through an API).

    .venv/bin/python perf/bench_plan.py [--configfile F | --synthetic] [--repeat 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
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


def time_dry_run(configfile: Path) -> tuple[float, int]:
    from polyinstruct.workflow import planning

    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-n",
        "--forceall",
        "--nolock",
        "--cores",
        "1",
        "--quiet",
        "rules",
        "--replace-workflow-config",
        "--configfile",
        str(configfile),
    ]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, **planning.OFFLINE_ENV})
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake -n failed:\n{proc.stderr[-3000:]}")
    return seconds, sum(planning.parse_job_stats(proc.stdout).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", type=Path, default=None)
    parser.add_argument("--synthetic", action="store_true", help="the generated BayLing-sized config")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the planning summary's estimates")
    args = parser.parse_args()

    from polyinstruct.workflow import planning

    with tempfile.TemporaryDirectory() as tmp:
        if args.synthetic or (args.configfile is None and not DEFAULT.exists()):
            configfile = synthetic_bayling(Path(tmp))
        else:
            configfile = (args.configfile or DEFAULT).resolve()
        print(f"config: {configfile}")
        for _ in range(args.repeat):
            seconds, jobs = time_dry_run(configfile)
            print(f"snakemake -n: {jobs:,} jobs in {seconds:.1f} s")

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
