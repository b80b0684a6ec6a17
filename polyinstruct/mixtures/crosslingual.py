"""Cross-lingual translation instructions from parallel text (BayLing 2).

BayLing 2 transfers ability from its pivots (zh, en) to 100+ languages by tuning on translation
instructions built from parallel text: sentence-level, document-level (k consecutive sentences),
constrained ("the translation must contain these words") and interactive translation (translate,
then revise on request). Prompts are written in the pivot language, in both directions.

Parallel text is line-aligned files (FLORES-101 `flores101_dataset/dev/{flores101}.dev`, optionally only the
lines of `crosslingual.parallel.lines`, kept apart from an MT test set's shot pool), TSV pairs or JSONL pairs. Every
random choice (constraint words, the word the interactive draft omits) comes from a generator
seeded by (seed, task, direction, line), so re-running yields byte-identical records.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

from polyinstruct import languages
from polyinstruct.io import InputError, Malformed, read_jsonl, read_text, read_text_lines

TASKS = ("sentence", "document", "constrained", "interactive")
# scripts written without spaces between words: constraint "words" are character bigrams there
UNSPACED_SCRIPTS = {"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr"}
CROSSLINGUAL = "crosslingual"  # the share key of mixtures and the `lang` counted in their manifests


def joiner(lang: str) -> str:
    """What consecutive sentences are joined with: nothing in unspaced scripts, a space elsewhere."""
    return "" if languages.get(lang).script in UNSPACED_SCRIPTS else " "


def load_prompts(prompts_dir: str | Path, lang: str) -> dict:
    """The prompt file of one pivot language (`<prompts_dir>/<lang>.yaml`)."""
    path = Path(prompts_dir) / f"{lang}.yaml"
    if not path.exists():
        raise InputError(
            f"config key 'crosslingual.prompts_dir': no prompt file '{path}' for pivot language '{lang}' "
            f"(write one like {Path(prompts_dir) / 'en.yaml'})"
        )
    prompts = yaml.safe_load(read_text(path))
    missing = [k for k in ("sentence", "document", "constrained", "revise") if k not in prompts]
    if missing:
        raise InputError(f"{path}: missing prompt(s) {', '.join(missing)}")
    return prompts


def language_name(prompts: dict, lang: str) -> str:
    return (prompts.get("names") or {}).get(lang) or languages.get(lang).name


# ---- reading parallel text ---------------------------------------------------------------------


def read_lines(path: str | Path, malformed: Malformed | None = None) -> list[str | None]:
    """The lines of a UTF-8 text file (a BOM dropped); a line with bad bytes stops naming file:line, or under
    `on_malformed: skip` is None (so line-aligned readers drop the pair)."""
    return [line for _, line in read_text_lines(path, malformed)]


def read_aligned(left: str | Path, right: str | Path, malformed: Malformed | None = None) -> list[tuple[int, str, str]]:
    """(line index, left line, right line) of two line-aligned files; pairs with a skipped line are dropped."""
    a, b = read_lines(left, malformed), read_lines(right, malformed)
    if len(a) != len(b):
        raise InputError(
            f"{right}: {len(b)} lines, but {left} has {len(a)}; line-aligned files must have the same number of lines"
        )
    return [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x is not None and y is not None]


def read_parallel(
    fmt: str, paths: dict[str, str], pivot: str, lang: str, malformed: Malformed | None = None
) -> list[tuple[str, str]]:
    """(pivot sentence, other-language sentence) pairs, in file order.

    `lines`: paths {pivot: file, lang: file}, line i of one is line i of the other.
    `tsv`: paths {"pair": file} with columns pivot<TAB>lang. `jsonl`: paths {"pair": file}, objects keyed by code.
    A line that cannot be read goes to `malformed` (default: stop naming file:line; skip drops the pair).
    An empty source is refused.
    """
    malformed = malformed or Malformed()
    if fmt == "lines":
        pairs = [(x, y) for _, x, y in read_aligned(paths[pivot], paths[lang], malformed)]
        source = f"{paths[pivot]} and {paths[lang]}"
    else:
        path = source = paths["pair"]
        pairs = []
        if fmt == "tsv":
            for lineno, line in read_text_lines(path, malformed):
                if line is None or not line.strip():
                    continue
                cells = line.split("\t")
                if len(cells) != 2:
                    malformed(
                        f"{path}:{lineno}", f"expected 2 tab-separated columns ({pivot}, {lang}), got {len(cells)}"
                    )
                    continue
                pairs.append((cells[0], cells[1]))
        else:
            for lineno, row in read_jsonl(path, malformed):
                if not isinstance(row.get(pivot), str) or not isinstance(row.get(lang), str):
                    malformed(f"{path}:{lineno}", f"needs string values for keys '{pivot}' and '{lang}'")
                    continue
                pairs.append((row[pivot], row[lang]))
    if not pairs:
        skipped = f" ({malformed.count} malformed line(s) skipped)" if malformed.count else ""
        raise InputError(f"{source}: no {pivot}-{lang} sentence pairs{skipped} (config key 'crosslingual.parallel')")
    return pairs


def parallel_paths(spec: dict, pivot: str, lang: str) -> dict[str, str]:
    """The files `crosslingual.parallel` names for one (pivot, language)."""
    from polyinstruct.data import sources

    pattern = spec["path"]
    if spec["format"] == "lines":
        return {pivot: sources.resolve(pattern, lang=pivot), lang: sources.resolve(pattern, lang=lang)}
    return {"pair": sources.resolve(pattern, pivot=pivot, lang=lang)}


# ---- building instructions ---------------------------------------------------------------------


def selected_lines(pairs: list[tuple[str, str]], lines: list[int] | None) -> tuple[list[tuple[str, str]], int]:
    """The pairs of `crosslingual.parallel.lines` ([start, stop], null stop = to the end; None = all) and the
    file line the first one is on: a documented split that keeps the cross-lingual text apart from an MT
    test set's shot pool (`mt_eval.testsets.<name>.dev_lines`) when both read the same parallel files."""
    if not lines:
        return pairs, 0
    start, stop = lines
    return pairs[start:stop], start


def _clean(pairs: list[tuple[str, str]], dropped: Counter, first_line: int = 0) -> list[tuple[int, str, str]]:
    kept = []
    for i, (a, b) in enumerate(pairs, first_line):
        a, b = a.strip(), b.strip()
        if not a or not b:
            dropped["empty_side"] += 1
            continue
        kept.append((i, a, b))
    return kept


def constraint_words(text: str, lang: str) -> list[str]:
    """Candidate constraint words of a reference, in order, without repeats.

    Spaced scripts: tokens of 4+ letters (punctuation stripped). Unspaced scripts: bigrams of adjacent
    letters within each run of letters (never across a space, digit or punctuation mark, so every word is a
    substring of the reference: FLORES Chinese mixes in Latin names, numbers and times).
    """
    if languages.get(lang).script in UNSPACED_SCRIPTS:
        words = []
        for run in _letter_runs(text):
            words += [run[i : i + 2] for i in range(0, len(run) - 1, 2)]
    else:
        words = [re.sub(r"^\W+|\W+$", "", token) for token in text.split()]
        words = [w for w in words if len(w) >= 4 and not any(c.isdigit() for c in w)]
    return list(dict.fromkeys(words))


def _letter_runs(text: str) -> list[str]:
    runs, current = [], ""
    for c in text:
        if unicodedata.category(c).startswith("L"):
            current += c
        else:
            runs, current = runs + [current] if current else runs, ""
    return runs + [current] if current else runs


def _rng(seed: int, *parts) -> random.Random:
    return random.Random(":".join(map(str, (seed, *parts))))


def _record(task: str, src: str, tgt: str, pivot: str, index: int, body: dict) -> dict:
    return {
        "id": f"xl-{task}-{src}-{tgt}-{index}",
        "source": CROSSLINGUAL,
        "lang": pivot,
        "task": task,
        "direction": f"{src}-{tgt}",
        **body,
    }


def _task_records(
    task: str,
    rows: list[tuple[int, str, str]],
    src: str,
    tgt: str,
    pivot: str,
    prompts: dict,
    settings: dict,
    seed: int,
    dropped: Counter,
) -> list[dict]:
    names = {"src_name": language_name(prompts, src), "tgt_name": language_name(prompts, tgt)}
    out = []
    if task == "document":
        k = settings["document_sentences"]
        for start in range(0, len(rows) - k + 1, k):
            window = rows[start : start + k]
            body = {
                "instruction": prompts["document"].format(**names),
                "input": joiner(src).join(r[1] for r in window),
                "output": joiner(tgt).join(r[2] for r in window),
            }
            out.append(_record(task, src, tgt, pivot, window[0][0], body))
        dropped[f"document_tail_{src}-{tgt}"] += len(rows) % k
        return out
    for index, source, reference in rows:
        if task == "sentence":
            body = {"instruction": prompts["sentence"].format(**names), "input": source, "output": reference}
        else:
            candidates = constraint_words(reference, tgt)
            rng = _rng(seed, task, src, tgt, index)
            if task == "constrained":
                n = settings["constraint_words"]
                if len(candidates) < n:
                    dropped["constrained_too_few_words"] += 1
                    continue
                words = sorted(rng.sample(candidates, n), key=reference.index)
                separator = prompts.get("word_separator", ", ")
                body = {
                    "instruction": prompts["constrained"].format(**names, words=separator.join(words)),
                    "input": source,
                    "output": reference,
                }
            else:
                if not candidates:
                    dropped["interactive_no_word"] += 1
                    continue
                word = rng.choice(candidates)
                # the first answer omits the word; the request to revise restores the reference
                draft = re.sub(r"\s{2,}", " ", reference.replace(word, "", 1)).strip()
                first = prompts["sentence"].format(**names) + "\n\n" + source
                body = {
                    "messages": [
                        {"role": "user", "content": first},
                        {"role": "assistant", "content": draft},
                        {"role": "user", "content": prompts["revise"].format(word=word)},
                        {"role": "assistant", "content": reference},
                    ]
                }
        out.append(_record(task, src, tgt, pivot, index, body))
    return out


def build(
    pairs: list[tuple[str, str]],
    pivot: str,
    lang: str,
    prompts: dict,
    settings: dict,
    seed: int,
    first_line: int = 0,
) -> tuple[list[dict], Counter]:
    """Every configured task in both directions (pivot->lang, lang->pivot) for one parallel corpus.

    `settings` is `crosslingual` of the config: tasks, directions, document_sentences,
    constraint_words, max_per_task. `first_line` is the file line of pairs[0] (records are named by file
    line). Returns (records, dropped counts by reason).
    """
    dropped: Counter = Counter()
    rows = _clean(pairs, dropped, first_line)
    directions = {"both": [(pivot, lang), (lang, pivot)], "from_pivot": [(pivot, lang)], "to_pivot": [(lang, pivot)]}[
        settings["directions"]
    ]
    records = []
    for src, tgt in directions:
        oriented = rows if src == pivot else [(i, b, a) for i, a, b in rows]
        for task in settings["tasks"]:
            built = _task_records(task, oriented, src, tgt, pivot, prompts, settings, seed, dropped)
            cap = settings["max_per_task"]
            if cap is not None and len(built) > cap:
                dropped["over_max_per_task"] += len(built) - cap
                built = _rng(seed, "cap", task, src, tgt).sample(built, cap)
                built.sort(key=lambda r: r["id"])
            records.extend(built)
    return records, +dropped
