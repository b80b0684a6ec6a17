"""How fast the answer browser opens on a Chen-sized grid: 30 runs x 8 languages x 50 prompts.

Writes the grid's result files in a temporary directory (tests/browse_fixtures.py: the job code's judge
rows from a scripted Chen 1-3 judge, fastText language ID, answers of about 1,200 characters built from
the shipped polyalpaca outputs), builds the site (`browse.write_site`), then opens it from disk in
headless Chromium (polyinstruct/report/chromium.py) and times:
- open: navigation start to the first view drawn (the page's `browse-ready` performance mark; one eval
  set and language loaded, two runs shown), each time in a fresh navigation;
- switch language: picking another language until it is drawn (its data file loaded on demand);
- all runs: selecting all 30 runs (1,500 answers drawn) until the layout is done.

    .venv/bin/python perf/bench_browse.py [--runs 30] [--langs 8] [--prompts 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

CHEN_EVAL_LANGUAGES = ["en", "es", "fr", "bg", "ru", "zh", "bn", "no"]  # configs/chen2024_alpaca.yaml
CHEN_TRAIN_LANGUAGES = ["en", "es", "fr", "bg", "ru", "zh", "de", "fi"]
CATEGORIES = ("open_qa", "brainstorming", "writing", "advice", "reasoning", "classification", "summarisation")


def grid_config(runs: int, langs: int) -> dict:
    """A config whose grid has `runs` runs (models x (base + english-only, monolingual, multilingual))."""
    from browse_fixtures import config

    per_model = 1 + len(CHEN_TRAIN_LANGUAGES) + 1
    if runs % per_model:
        raise SystemExit(f"--runs must be a multiple of {per_model} (base + {per_model - 1} mixtures per model)")
    base = config()
    model = base["models"]["smollm2-135m"]
    return config(
        languages=CHEN_TRAIN_LANGUAGES,
        eval_languages=CHEN_EVAL_LANGUAGES[:langs],
        models={"smollm2-135m": model, **{f"model-{i}": model for i in range(1, runs // per_model)}},  # one judges
        mixtures={"kinds": ["english-only", "monolingual", "multilingual"], "validation_fraction": 0.1},
        evalsets={"alpaca_eval": {"path": "unused/{lang}.jsonl"}},
        protocols=["chen_single"],
    )


def write_grid(root: Path, runs: int, langs: int, prompts: int):
    from browse_fixtures import shipped_texts, write_results

    from polyinstruct.report import browse

    cfg = grid_config(runs, langs)
    layout = browse.layout(cfg)
    assert len(layout["runs"]) == runs, len(layout["runs"])
    sources = {lang: shipped_texts(lang) for lang in ("en", "fr", "de")}
    instructions = {lang: [t[:160].rsplit(" ", 1)[0] + "?" for t in texts] for lang, texts in sources.items()}
    items = {}
    for lang in layout["langs"]:
        source = lang if lang in sources else ("en", "fr", "de")[len(items) % 3]
        items[("alpaca_eval", lang)] = [
            {
                "id": f"ae-{i:03d}",
                "lang": lang,
                "category": CATEGORIES[i % len(CATEGORIES)],
                "turns": [instructions[source][i % 100]],
                "reference": None,
            }
            for i in range(prompts)
        ]

    def answer(run, lang, index, turn):
        texts = sources[lang if lang in sources and run.mixture != "mono-en" else "en"]
        body = " ".join(texts[(index + 1 + 13 * k) % 100] for k in range(7))
        quality = zlib.crc32(f"{run.path} {lang} {index}".encode()) % 100 / 100
        return f"{texts[index % 100]} {body}"[:1200], quality

    def rate(protocol, text, quality):
        rating = 1 + round(quality * 2)
        return (
            "The response answers the instruction and is mostly accurate, but it repeats itself and drifts into "
            f"unrelated details; its language matches the question. Rating: [[{rating}]]"
        )

    write_results(root, layout, cfg, items, answer, rate)
    return layout


def timed_open(browser, index: Path) -> tuple[float, float, float]:
    """ms from navigation start to the first view drawn (DOM built) and painted (the next frame), and wall ms
    from the navigate command until the page said it was ready."""
    from polyinstruct.report import chromium

    browser.open("about:blank")
    started = time.perf_counter()
    browser.open(str(index), ready=chromium.READY)
    wall = (time.perf_counter() - started) * 1000
    mark = browser.evaluate("performance.getEntriesByName('browse-ready')[0].startTime")
    painted = browser.evaluate(PAINTED)
    return mark, painted, wall


# the first frame after the view was drawn: layout and paint done (ms since navigation start)
PAINTED = "new Promise(r => requestAnimationFrame(() => setTimeout(() => r(performance.now()))))"
SWITCH = """new Promise(resolve => {
  const select = document.querySelector('#lang');
  select.value = %s;
  const t0 = performance.now();
  select.dispatchEvent(new Event('change'));
  (function poll() {
    if (document.documentElement.dataset.state !== 'ready') return setTimeout(poll, 1);
    document.body.offsetHeight;
    resolve(performance.now() - t0);
  })();
})"""
ALL_RUNS = """(() => {
  const t0 = performance.now();
  document.querySelector('#runs-all').click();
  return new Promise(r => requestAnimationFrame(() => setTimeout(() =>
    r([performance.now() - t0, document.querySelectorAll('.answer').length]))));
})()"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--langs", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import json

    from polyinstruct.report import browse, chromium

    with tempfile.TemporaryDirectory(prefix="bench-browse-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        layout = write_grid(root, args.runs, args.langs, args.prompts)
        written = time.perf_counter() - started
        os.chdir(root)
        started = time.perf_counter()
        catalog = browse.write_site(layout, "site/index.html")
        built = time.perf_counter() - started
        index = root / "site/index.html"
        sizes = [c["bytes"] for c in catalog["chunks"].values()]
        print(f"grid: {len(layout['runs'])} runs x {len(layout['langs'])} languages x {args.prompts} prompts")
        print(f"result files written in {written:.1f} s; site built in {built:.1f} s")
        print(
            f"index.html {index.stat().st_size / 1e3:.0f} kB (inlined: {catalog['inlined']}); "
            f"data {sum(sizes) / 1e6:.1f} MB in {len(sizes)} files of {min(sizes) / 1e6:.2f}-{max(sizes) / 1e6:.2f} MB"
        )
        with chromium.Chromium() as browser:
            opens = [timed_open(browser, index) for _ in range(args.repeat)]
            langs = [c["code"] for c in catalog["langs"]]
            switches = [
                browser.evaluate(SWITCH % json.dumps(langs[(i + 1) % len(langs)])) for i in range(len(langs) - 1)
            ]
            all_runs, answers = browser.evaluate(ALL_RUNS)
            errors = browser.errors
        marks, painted, walls = ([o[i] for o in opens] for i in range(3))

        def spread(values):
            return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"

        print(f"open (navigation start -> first view drawn): {spread(marks)}")
        print(f"open (navigation start -> first view painted): {spread(painted)}")
        print(f"open (wall, navigate command -> ready seen): {spread(walls)}")
        print(f"switch language (data loaded on demand): {spread(switches)}")
        print(f"select all {len(layout['runs'])} runs ({answers} answers drawn): {all_runs:.0f} ms")
        if errors:
            raise SystemExit(f"the page reported errors: {errors}")


if __name__ == "__main__":
    main()
