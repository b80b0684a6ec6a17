"""Mixture building at BayLing's scale: the streamed builder against a plain Python json loop, time and memory.

Data: `--records` records (default 3.2M, BayLing 2's corpus size) in the shipped languages' shape: one
JSONL file per language (en, fr, de), parallel (the same ids in each), each record a shipped polyalpaca
record of that language (cycled) with the fields the pipeline writes (`id`, `source`, `lang`, the text
fields, and `qa` on the translated languages, as translation leaves it), about 1.2 GB in all at 3.2M.
Generated once into `--data` (reused when it is there), with each file's line index beside it
(`polyinstruct.mixtures.stream.write_index`, what the rule that writes a part file writes with it; the time it
takes is printed: it is paid once per file, not per mixture). `--no-index` builds without the indexes (the
builder reads, checks and parses every file itself, as it does when an index is missing or stale).

Each mixture is built twice, each time in a fresh process (as a `build_mixture` job runs it): the plain
loop (`json.loads` every line into a dict, `compose.build`/`build_shares`, `json.dumps` every record
out: the code before issue 20) and `stream.build_files` (what the rule runs now). The table gives
seconds, peak RSS (`ru_maxrss` of the process, imports included) and the ratio, and checks the two
outputs are byte-identical. Mixtures: mono-fr, multilingual, downsampled, sampled (en/fr/de,
validation 0.05) and a BayLing-style share mixture (budget 160,000, 43/26/31% of de/en/fr, validation
0.01).

    .venv/bin/python perf/bench_mixtures.py [--records 3200000] [--data /tmp/polyinstruct-mixtures]
        [--mixtures mono-fr multilingual downsampled sampled shares] [--skip-plain] [--no-index]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LANGS = ("en", "fr", "de")
SHARES = {"shares": {"de": 0.43, "en": 0.26, "fr": 0.31}, "budget": 160_000, "drop": []}
MIXTURES = ("mono-fr", "multilingual", "downsampled", "sampled", "shares")


def generate(data: Path, records: int) -> dict[str, Path]:
    """The per-language files (reused when `data` already holds them for this many records)."""
    from polyinstruct.io import dumps

    per_lang = records // len(LANGS)
    stamp = data / f"records-{per_lang * len(LANGS)}"
    paths = {lang: data / f"{lang}.jsonl" for lang in LANGS}
    if stamp.exists():
        return paths
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob("records-*"):
        old.unlink()
    for lang in LANGS:
        shipped = [json.loads(line) for line in (REPO / f"resources/data/polyalpaca/{lang}.jsonl").open()]
        with open(paths[lang], "w", encoding="utf-8") as fh:
            for i in range(per_lang):
                r = shipped[i % len(shipped)]
                record = {"id": f"pa-{i:07d}", "source": "polyalpaca", "lang": lang}
                record.update(instruction=r["instruction"], input=r["input"], output=r["output"])
                if lang != "en":
                    record["qa"] = {"lid": lang, "lid_prob": 0.98, "flags": []}
                fh.write(dumps(record) + "\n")
    stamp.touch()
    return paths


def settings(mixture: str) -> dict:
    if mixture == "shares":
        return {"languages": None, "source_lang": None, "shares": SHARES, "validation_fraction": 0.01}
    languages = ["fr"] if mixture == "mono-fr" else list(LANGS)
    return {"languages": languages, "source_lang": "en", "shares": None, "validation_fraction": 0.05}


def write_indexes(data: Path) -> float:
    """Each file's line index, written where it is missing or not that of the file; returns the seconds."""
    from polyinstruct.mixtures import line_index, stream

    start = time.perf_counter()
    for lang in LANGS:
        path = data / f"{lang}.jsonl"
        if line_index.load(path) is None:
            stream.write_index(path)
    return time.perf_counter() - start


def run_one(how: str, mixture: str, data: Path, out: Path) -> None:
    """One build in this process; prints its seconds and peak RSS as JSON."""
    paths = {lang: str(data / f"{lang}.jsonl") for lang in LANGS}
    s = settings(mixture)
    if s["languages"]:
        paths = {lang: paths[lang] for lang in s["languages"]}
    import numpy  # noqa: F401  (both paths' imports before the clock: numpy, pyarrow, polars)
    import polars  # noqa: F401
    import pyarrow.json  # noqa: F401

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    if how == "plain":
        from polyinstruct.io import load_jsonl, write_jsonl
        from polyinstruct.mixtures import compose

        parts = {key: load_jsonl(path) for key, path in paths.items()}
        if s["shares"]:
            sh = s["shares"]
            train, valid, _ = compose.build_shares(
                mixture, parts, sh["shares"], sh["budget"], 42, s["validation_fraction"], drop=tuple(sh["drop"])
            )
        else:
            train, valid, _ = compose.build(
                mixture, parts, s["languages"], s["source_lang"], 42, s["validation_fraction"]
            )
        write_jsonl(out / "train.jsonl", train)
        write_jsonl(out / "valid.jsonl", valid)
    else:
        from polyinstruct.mixtures import line_index, stream

        if how == "streamed-no-index":
            line_index.load = lambda *args, **kwargs: None
        if s["shares"]:
            sh = s["shares"]
            stream.build_shares(
                mixture,
                paths,
                sh["shares"],
                sh["budget"],
                42,
                s["validation_fraction"],
                out / "train.jsonl",
                out / "valid.jsonl",
                drop=tuple(sh["drop"]),
            )
        else:
            stream.build(
                mixture,
                paths,
                s["languages"],
                s["source_lang"],
                42,
                s["validation_fraction"],
                out / "train.jsonl",
                out / "valid.jsonl",
            )
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": usage.ru_maxrss / 1024}))


def measure(how: str, mixture: str, data: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, __file__, "--run", how, "--mixtures", mixture, "--data", str(data), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise SystemExit(f"{how} {mixture} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    from polyinstruct.io import sha256_file

    result["sha256"] = [sha256_file(out / name) for name in ("train.jsonl", "valid.jsonl")]
    with open(out / "train.jsonl", "rb") as fh:
        result["lines"] = sum(1 for _ in fh)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3_200_000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "polyinstruct-mixtures")
    parser.add_argument("--mixtures", nargs="+", default=list(MIXTURES), choices=MIXTURES)
    parser.add_argument("--skip-plain", action="store_true", help="only the streamed builder")
    parser.add_argument("--no-index", action="store_true", help="build without the part files' line indexes")
    parser.add_argument("--run", choices=("plain", "streamed", "streamed-no-index"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_one(args.run, args.mixtures[0], args.data, args.out)
        return

    start = time.perf_counter()
    generate(args.data, args.records)
    size = sum((args.data / f"{lang}.jsonl").stat().st_size for lang in LANGS)
    print(f"data: {args.records:,} records, {size / 1e9:.2f} GB in {args.data} ({time.perf_counter() - start:.0f} s)")
    if not args.no_index:
        print(f"line indexes (checked, and written where missing, once per file): {write_indexes(args.data):.1f} s")
    streamed_how = "streamed-no-index" if args.no_index else "streamed"
    print(
        f"{'mixture':<13}{'lines out':>11}{'plain s':>10}{'plain MB':>10}{'streamed s':>12}{'streamed MB':>13}"
        f"{'ratio':>8}  identical"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for mixture in args.mixtures:
            streamed = measure(streamed_how, mixture, args.data, Path(tmp) / "streamed")
            if args.skip_plain:
                plain = {"seconds": float("nan"), "cpu_seconds": float("nan"), "peak_rss_mb": float("nan")}
                plain["sha256"] = None
            else:
                plain = measure("plain", mixture, args.data, Path(tmp) / "plain")
            same = "-" if plain["sha256"] is None else str(plain["sha256"] == streamed["sha256"])
            print(
                f"{mixture:<13}{streamed['lines']:>11,}{plain['seconds']:>9.1f}{plain['cpu_seconds']:>8.1f}"
                f"{plain['peak_rss_mb']:>7,.0f}{streamed['seconds']:>12.1f}{streamed['cpu_seconds']:>8.1f}"
                f"{streamed['peak_rss_mb']:>7,.0f}{plain['seconds'] / streamed['seconds']:>7.1f}x"
                f"{plain['cpu_seconds'] / streamed['cpu_seconds']:>9.1f}x  {same}",
                flush=True,
            )


if __name__ == "__main__":
    main()
