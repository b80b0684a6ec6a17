"""The answer browser: one static site to read every prompt with every run's answers, side by side.

`results/report/browse/index.html` opens from disk (file://) with no server and no network. It holds
the page (resources/browse/: HTML, CSS, JS, inlined) and a catalog of eval sets, languages, runs and
protocols; the data are split per (eval set, language) into `data/chunk-N.js` files, each a call
`browseChunk("N", {...})` that a <script> tag loads when that eval set and language are picked
(Chromium blocks fetch() of local files, not scripts). When all chunks together are small
(`INLINE_LIMIT`), they are inlined into index.html as well, so the page also works where its folder
is not beside it: inside the Snakemake report, which embeds the page alone.

A chunk has the eval items (id, category, turns, reference) and, per run, each item's answers (every
turn), language ID per turn, every one-response protocol's rows (the judge's rating or criteria, the
gated value after language ID, the raw judge answer) and the pairwise rows against the run's
baseline (verdicts in both answer orders, the combined outcome, the raw answers). Gating reuses
`score.gating` with the config's `score.gating` modes, so a gated value is the one the tables count.

"Judges disagree" (flagged per answer, with the reasons shown on the page) means any of:
- two one-response protocols' item scores, each rescaled to 0-1 over the protocol's scale
  (`Protocol.scale`), differ by at least `DISAGREE_GAP` (e.g. Chen 3/3 against MT-Bench 4/10);
- the pairwise judge's verdicts in the two answer orders disagree (an inconsistent pair), on any turn;
- the pairwise outcome contradicts a one-response protocol: the run wins against its baseline where
  that protocol rated it lower on the same turn, or loses where it was rated higher.
Scores here are the judge's own (ungated): language errors are a separate flag.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from polyinstruct import languages
from polyinstruct.io import InputError, atomic_path, read_jsonl, write_text
from polyinstruct.score import gating, scores
from polyinstruct.score.judge import protocols
from polyinstruct.workflow import paths
from polyinstruct.workflow.paths import Run

ASSETS = Path(__file__).resolve().parents[2] / "resources" / "browse"
PAGE, STYLE, SCRIPT = "index.html", "browse.css", "browse.js"
DATA = "data"
#: Inline every chunk into index.html when their JSON totals at most this many bytes.
INLINE_LIMIT = 2_000_000
#: Rescaled (0-1) gap between two protocols' scores of one answer that counts as a disagreement.
DISAGREE_GAP = 0.5
MARKERS = ("/*@style*/", "/*@catalog*/", "<!--@chunks-->", "/*@script*/")


def asset_files() -> list[str]:
    """The page's source files (rule inputs, so editing one rebuilds the browser)."""
    return [str(ASSETS / name) for name in (PAGE, STYLE, SCRIPT)]


# ---- what the browser reads ---------------------------------------------------------------------


def layout(config: dict) -> dict:
    """The grid the browser shows (a rule's params): runs, eval sets, languages, protocols, pairs, gating."""
    from polyinstruct.workflow import grid

    return {
        "title": config["experiment"],
        "evalsets": list(config["evalsets"]),
        "langs": grid.eval_languages(config),
        "runs": [run.path for run in grid.runs(config)],
        "protocols": grid.single_protocols(config),
        "pairs": [
            {"protocol": protocol, "run": run.path, "lang": lang, "baseline": baseline.path}
            for protocol in grid.pairwise_protocols(config)
            for run, lang, baseline in grid.pairwise_pairs(config, protocol)
        ],
        "gating": config["score"]["gating"],
    }


def _files(layout: dict, evalset: str, lang: str) -> dict:
    runs = [Run.parse(p) for p in layout["runs"]]
    at = {"evalset": evalset, "lang": lang}
    return {
        "responses": {run.path: run.fill(paths.RESPONSES, **at) for run in runs},
        "langid": {run.path: run.fill(paths.LANGID, **at) for run in runs},
        "judge": {
            (protocol, run.path): run.fill(paths.JUDGE, protocol=protocol, **at)
            for protocol in layout["protocols"]
            for run in runs
        },
        "pairwise": [
            (
                pair,
                Run.parse(pair["run"]).fill(
                    paths.PAIRWISE, Run.parse(pair["baseline"]), protocol=pair["protocol"], **at
                ),
            )
            for pair in layout["pairs"]
            if pair["lang"] == lang
        ],
    }


def input_files(layout: dict) -> list[str]:
    """Every result file the browser reads (the rule's inputs are the same, from `targets`)."""
    out = []
    for evalset in layout["evalsets"]:
        for lang in layout["langs"]:
            files = _files(layout, evalset, lang)
            out += [*files["responses"].values(), *files["langid"].values(), *files["judge"].values()]
            out += [path for _, path in files["pairwise"]]
    return out


def run_labels(run_paths: list[str]) -> list[str]:
    """`Run.label` of each run; runs whose labels collide (they differ in dataset only) get the dataset too."""
    runs = [Run.parse(p) for p in run_paths]
    counts = defaultdict(int)
    for run in runs:
        counts[run.label] += 1
    return [f"{r.label} ({r.dataset})" if counts[r.label] > 1 else r.label for r in runs]


# ---- one (eval set, language) --------------------------------------------------------------------


def _rows(path: str) -> list[tuple[str, dict]]:
    """(file:line, record) of a JSONL file; every record must have an id."""
    out = []
    for lineno, record in read_jsonl(path):
        where = f"{path}:{lineno}"
        if "id" not in record:
            raise InputError(f"{where}: record has no 'id'")
        out.append((where, record))
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _protocol_rows(protocol: str, path: str, items: dict, correct: dict, mode: str) -> dict[str, dict]:
    """{item id: {turns: [...], score, gated}} of one protocol's rows, gated by language ID."""
    entry = protocols.get(protocol)
    rows = _rows(path)
    seen = {}
    for where, row in rows:
        if row["id"] not in items:
            raise InputError(f"{where}: {protocol} row for item '{row['id']}', which the run never answered")
        key = (row["id"], row.get("turn"))
        if key in seen:
            raise InputError(f"{where}: a second judge row for item '{row['id']}' turn {row.get('turn')} ({seen[key]})")
        seen[key] = where
    try:
        if entry.summary == "criteria":
            gated = gating.gate_criteria([r for _, r in rows], correct, mode)
        else:
            gated = gating.gate_ratings([r for _, r in rows], correct, mode)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    out: dict[str, dict] = {}
    for row in gated:
        if entry.summary == "criteria":
            value, gated_value = row["criteria"], row["gated_criteria"]
            head = value[scores.HEADLINE_CRITERION] if value else None
            gated_head = gated_value[scores.HEADLINE_CRITERION] if gated_value else None
        else:
            value, gated_value = row["rating"], row["score"]
            head, gated_head = value, gated_value
        item = out.setdefault(row["id"], {"turns": [], "_heads": [], "_gated": []})
        item["turns"].append(
            {
                "turn": row.get("turn"),
                "value": value,
                "gated": gated_value,
                "gated_out": row["gated_out"],
                "lang_correct": row["lang_correct"],
                "parse_error": row["parse_error"],
                "parse_detail": row.get("parse_detail"),
                "raw": row.get("raw"),
            }
        )
        item["_heads"].append((row.get("turn"), head))
        item["_gated"].append(gated_head)
    for item in out.values():
        item["turns"].sort(key=lambda t: t["turn"] or 0)
        item["by_turn"] = {str(turn or 1): head for turn, head in item.pop("_heads")}
        item["score"] = _mean(item["by_turn"].values())
        item["gated"] = _mean(item.pop("_gated"))
    return out


def _langid(path: str, items: dict) -> tuple[dict[str, dict], dict]:
    rows = _rows(path)
    out = {}
    for where, row in rows:
        if row["id"] not in items:
            raise InputError(f"{where}: language-ID row for item '{row['id']}', which the run never answered")
        if row["id"] in out:
            raise InputError(f"{where}: a second language-ID row for item '{row['id']}'")
        out[row["id"]] = row
    correct = gating.turn_correctness([r for _, r in rows])
    shown = {}
    for item_id, row in out.items():
        shown[item_id] = {
            "predicted": row["predicted"],
            "names": [languages.get(p).name if languages.is_known(p) else None for p in row["predicted"]],
            "prob": row.get("prob"),
            "turn_correct": [correct[(item_id, t)] for t in range(1, len(row["predicted"]) + 1)],
            "correct": bool(row["correct"]),
        }
    return shown, correct


def _rescaled(protocol: str, value) -> float | None:
    if value is None:
        return None
    low, high = protocols.get(protocol).scale
    return (value - low) / (high - low)


def _disagreements(judged: dict[str, dict]) -> list[str]:
    """Reasons two one-response protocols disagree on one answer (rescaled gap >= DISAGREE_GAP)."""
    reasons = []
    names = [p for p in judged if judged[p]["score"] is not None]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            gap = abs(_rescaled(a, judged[a]["score"]) - _rescaled(b, judged[b]["score"]))
            if gap >= DISAGREE_GAP:
                reasons.append(
                    f"{a} {judged[a]['score']:g} vs {b} {judged[b]['score']:g} "
                    f"(gap {gap:.2f} of the scale, threshold {DISAGREE_GAP:g})"
                )
    return reasons


def _pair_reasons(row: dict, protocol: str, baseline_label: str, mine: dict, theirs: dict) -> list[str]:
    """Reasons a pairwise row disagrees with itself or with a one-response protocol."""
    turn = row["turn"]
    reasons = []
    if row["consistent"] is False:
        reasons.append(
            f"{protocol} vs {baseline_label}, turn {turn}: the two answer orders disagree "
            f"({row['verdict_ab']} with this answer first, {row['verdict_ba']} with it second)"
        )
    if row["outcome"] in ("win", "loss"):
        for name, judged in mine.items():
            other = theirs.get(name)
            a, b = judged["by_turn"].get(str(turn)), (other or {}).get("by_turn", {}).get(str(turn))
            if a is None or b is None:
                continue
            if (row["outcome"] == "win" and a < b) or (row["outcome"] == "loss" and a > b):
                reasons.append(
                    f"{protocol} says {row['outcome']} against {baseline_label} on turn {turn}, "
                    f"but {name} rated it {a:g} against {b:g}"
                )
    return reasons


def build_chunk(layout: dict, evalset: str, lang: str) -> dict:
    """Everything the page shows for one eval set and language."""
    files = _files(layout, evalset, lang)
    run_paths = layout["runs"]
    labels = dict(zip(run_paths, run_labels(run_paths)))
    items: dict[str, dict] = {}
    first_seen: dict[str, str] = {}
    answers: dict[str, dict[str, dict]] = {}
    for run_path, path in files["responses"].items():
        entries = {}
        for where, record in _rows(path):
            item_id = record["id"]
            turns = record.get("turns")
            if not isinstance(turns, list) or not isinstance(record.get("responses"), list):
                raise InputError(f"{where}: a response record needs 'turns' and 'responses' lists")
            if item_id in entries:
                raise InputError(f"{where}: item '{item_id}' is answered twice")
            if item_id not in items:
                items[item_id] = {
                    "id": item_id,
                    "category": record.get("category"),
                    "turns": turns,
                    "reference": record.get("reference"),
                }
                first_seen[item_id] = where
            elif items[item_id]["turns"] != turns:
                raise InputError(f"{where}: item '{item_id}' has other turns than at {first_seen[item_id]}")
            entries[item_id] = {"responses": record["responses"]}
        answers[run_path] = entries
    judged_by_run: dict[str, dict[str, dict]] = {}
    for run_path, path in files["langid"].items():
        entries = answers[run_path]
        shown, correct = _langid(path, entries)
        for item_id, entry in entries.items():
            entry["langid"] = shown.get(item_id)
            entry["judge"] = {}
            entry["pairwise"] = []
            entry["disagree"] = []
        for protocol in layout["protocols"]:
            mode = scores.gating_mode(layout["gating"], protocol)
            judged = _protocol_rows(protocol, files["judge"][(protocol, run_path)], entries, correct, mode)
            for item_id, value in judged.items():
                entries[item_id]["judge"][protocol] = value
        for entry in entries.values():
            entry["disagree"] += _disagreements(entry["judge"])
            entry["wrong_language"] = entry["langid"] is not None and not entry["langid"]["correct"]
        judged_by_run[run_path] = entries
    for pair, path in files["pairwise"]:
        run_path, baseline = pair["run"], pair["baseline"]
        mine, theirs = answers[run_path], answers[baseline]
        for where, row in _rows(path):
            if row["id"] not in mine:
                raise InputError(f"{where}: pairwise row for item '{row['id']}', which the run never answered")
            entry = mine[row["id"]]
            entry["pairwise"].append(
                {
                    "protocol": pair["protocol"],
                    "baseline": run_paths.index(baseline),
                    "turn": row["turn"],
                    "verdict_ab": row["verdict_ab"],
                    "verdict_ba": row["verdict_ba"],
                    "outcome": row["outcome"],
                    "consistent": row["consistent"],
                    "position_flip": row["position_flip"],
                    "parse_error": row["parse_error"],
                    "raw": row["raw"],
                }
            )
            entry["disagree"] += _pair_reasons(
                row, pair["protocol"], labels[baseline], entry["judge"], theirs.get(row["id"], {}).get("judge", {})
            )
    order = list(items)
    return {
        "evalset": evalset,
        "lang": lang,
        "items": [items[i] for i in order],
        "answers": {
            str(index): [answers[run_path].get(item_id) for item_id in order]
            for index, run_path in enumerate(run_paths)
        },
    }


# ---- the site ------------------------------------------------------------------------------------


def _script_json(value) -> str:
    """JSON that is safe inside a <script> element (no '<', so no '</script>' or '<!--')."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _protocol_info(name: str, mode: str) -> dict:
    entry = protocols.get(name)
    return {
        "name": name,
        "scale": list(entry.scale),
        "unit": entry.unit,
        "summary": entry.summary,
        "gating": mode,
        "headline": scores.HEADLINE_CRITERION if entry.summary == "criteria" else None,
        "description": entry.description,
    }


def catalog(layout: dict) -> dict:
    """What index.html knows before any chunk loads: the grid and where each chunk's file is."""
    pairwise = sorted({pair["protocol"] for pair in layout["pairs"]})
    return {
        "title": layout["title"],
        "evalsets": layout["evalsets"],
        "langs": [{"code": code, "name": languages.get(code).name} for code in layout["langs"]],
        "runs": [{"path": p, "label": label} for p, label in zip(layout["runs"], run_labels(layout["runs"]))],
        "protocols": [_protocol_info(p, scores.gating_mode(layout["gating"], p)) for p in layout["protocols"]],
        "pairwise": [_protocol_info(p, scores.gating_mode(layout["gating"], p)) for p in pairwise],
        "disagree_gap": DISAGREE_GAP,
        "chunks": {},
    }


def _fill(template: str, values: dict[str, str]) -> str:
    for marker in MARKERS:
        if template.count(marker) != 1:
            raise ValueError(f"{ASSETS / PAGE} must contain {marker!r} exactly once")
    out = template
    for marker, value in values.items():
        head, _, tail = out.partition(marker)
        out = head + value + tail
    return out


def write_site(layout: dict, index_path: str | os.PathLike, inline_limit: int = INLINE_LIMIT) -> dict:
    """Write index.html and its data folder (data/ beside it); returns the catalog."""
    index_path = Path(index_path)
    data_dir = index_path.parent / DATA
    data_dir.mkdir(parents=True, exist_ok=True)
    cat = catalog(layout)
    texts = {}
    for evalset in layout["evalsets"]:
        for lang in layout["langs"]:
            key = str(len(cat["chunks"]))
            chunk = build_chunk(layout, evalset, lang)
            text = _script_json(chunk)
            texts[key] = text
            name = f"chunk-{key}.js"
            with atomic_path(data_dir / name) as tmp:
                Path(tmp).write_text(f'browseChunk("{key}",{text});\n', encoding="utf-8")
            answered = {i: sum(a is not None for a in chunk["answers"][str(i)]) for i in range(len(layout["runs"]))}
            cat["chunks"][key] = {
                "evalset": evalset,
                "lang": lang,
                "file": f"{DATA}/{name}",
                "bytes": len(text.encode("utf-8")),
                "items": len(chunk["items"]),
                "categories": sorted({str(i["category"]) for i in chunk["items"] if i["category"] is not None}),
                "answered": answered,
            }
    total = sum(c["bytes"] for c in cat["chunks"].values())
    cat["inlined"] = total <= inline_limit
    inline = ""
    if cat["inlined"]:
        inline = "\n".join(f'<script>browseChunk("{key}",{text});</script>' for key, text in texts.items())
    page = _fill(
        (ASSETS / PAGE).read_text(encoding="utf-8"),
        {
            "/*@style*/": (ASSETS / STYLE).read_text(encoding="utf-8"),
            "/*@catalog*/": _script_json(cat),
            "<!--@chunks-->": inline,
            "/*@script*/": (ASSETS / SCRIPT).read_text(encoding="utf-8"),
        },
    )
    write_text(index_path, page)
    return cat
