"""Machine-translation benchmarks: FLORES-style k-shot test sets and WMT-style pairs, scored with sacrebleu.

BayLing 2 reports FLORES X<->en and X<->zh 1-shot (the shot drawn from dev) and WMT22. A test set is
either FLORES-style line-aligned files (`test: flores101_dataset/devtest/{flores101}.devtest`, `dev:
flores101_dataset/dev/{flores101}.dev`, the shots from `dev_lines` of dev when set) or WMT-style
source/reference files per pair (`source: txt/sources/generaltest2022.{src}-{tgt}.src.{src}`, `reference:
txt/references/generaltest2022.{src}-{tgt}.ref.{ref}.{tgt}` with the reference id of `refs`). Every direction gets
plain-text `.src`/`.ref` files next to its items, so scores can be recomputed with the sacrebleu and
comet-score command lines on exactly the segments scored here.

Scores go through sacrebleu's metric classes with the tokenizer `mt_eval.tokenizers` names for the
target language, and each score is stored with sacrebleu's signature.
"""

from __future__ import annotations

import os
import random
from collections import Counter

from polyinstruct.io import InputError, Malformed
from polyinstruct.mixtures import crosslingual
from polyinstruct.models import chat


def directions(spec: dict) -> list[tuple[str, str]]:
    """(src, tgt) of a test set: its explicit pairs, else X<->pivot for every language."""
    if spec.get("pairs"):
        from polyinstruct import languages

        return [split_pair(pair, languages.all_codes()) for pair in spec["pairs"]]
    both = {
        "both": lambda p, x: [(x, p), (p, x)],
        "to_pivot": lambda p, x: [(x, p)],
        "from_pivot": lambda p, x: [(p, x)],
    }[spec.get("directions", "both")]
    return [d for pivot in spec["pivots"] for lang in spec["languages"] if lang != pivot for d in both(pivot, lang)]


def split_pair(pair: str, known: list[str]) -> tuple[str, str]:
    """`src-tgt` into codes, for codes that themselves hold a hyphen (zh-Hant)."""
    for src in sorted(known, key=len, reverse=True):
        if pair.startswith(src + "-") and pair[len(src) + 1 :] in known:
            return src, pair[len(src) + 1 :]
    raise InputError(f"'{pair}' is not a src-tgt pair of registry codes")


def files(spec: dict, src: str, tgt: str, name: str = "") -> dict[str, str]:
    """The files one direction reads: source and reference of the test split, and of dev when shots are drawn."""
    from polyinstruct.data.sources import resolve as one

    key = f"mt_eval.testsets.{name}"
    if spec.get("test"):
        out = {"source": one(spec["test"], lang=src), "reference": one(spec["test"], lang=tgt)}
        dev = (one(spec["dev"], lang=src), one(spec["dev"], lang=tgt)) if spec.get("dev") else None
    elif spec.get("source") and spec.get("reference"):
        ref = reference_id(spec, src, tgt, name)
        out = {
            "source": one(spec["source"], src=src, tgt=tgt),
            "reference": one(spec["reference"], src=src, tgt=tgt, ref=ref),
        }
        dev = (
            (one(spec["dev_source"], src=src, tgt=tgt), one(spec["dev_reference"], src=src, tgt=tgt))
            if spec.get("dev_source") and spec.get("dev_reference")
            else None
        )
    else:
        raise InputError(f"config key '{key}': set `test` (FLORES-style) or `source` and `reference` (WMT-style)")
    if spec.get("shots", 1) > 0:
        if dev is None:
            raise InputError(
                f"config key '{key}.shots': {spec['shots']} shot(s) need dev files (`dev`, or "
                f"`dev_source` and `dev_reference`)"
            )
        out["dev_source"], out["dev_reference"] = dev
    return out


def reference_id(spec: dict, src: str, tgt: str, name: str = "") -> str | None:
    """The reference a {ref} placeholder stands for in one pair: `refs[src-tgt]`, else `refs.default`
    (WMT22 has references A for most pairs but only B and C for en-cs and cs-en; sacrebleu scores B)."""
    if "{ref}" not in (spec.get("reference") or ""):
        return None
    refs = spec.get("refs") or {}
    ref = refs.get(f"{src}-{tgt}", refs.get("default"))
    if ref is None:
        raise InputError(
            f"config key 'mt_eval.testsets.{name}.refs': the reference pattern has {{ref}} and no reference id "
            f"is set for {src}-{tgt} (name it, or `default`)"
        )
    return str(ref)


def prepare(
    paths: dict[str, str],
    spec: dict,
    seed: int,
    src: str,
    tgt: str,
    malformed: Malformed | None = None,
    dropped: Counter | None = None,
) -> list[dict]:
    """The items of one direction from a test set's spec as its rule's params: optional settings (`limit`,
    `dev_lines`) may be left out of it (grid.without_planning_keys), so they are read with .get."""
    return items(
        paths, spec.get("shots", 1), seed, src, tgt, spec.get("limit"), spec.get("dev_lines"), malformed, dropped
    )


def items(
    paths: dict[str, str],
    shots: int,
    seed: int,
    src: str,
    tgt: str,
    limit: int | None = None,
    dev_lines: list[int] | None = None,
    malformed: Malformed | None = None,
    dropped: Counter | None = None,
) -> list[dict]:
    """Test items with their k shots; shots drawn from dev (its `dev_lines` only, when set: the shot pool
    kept apart from the cross-lingual training text) by a generator seeded by (seed, direction, item).

    A segment whose source or reference line is empty is left out and counted in `dropped` (`empty_segment`);
    a line with bad bytes stops naming file:line, or under `on_malformed: skip` drops its pair (counted by
    `malformed`). Ids keep the line index, so they do not shift. A test set left with no segments is refused.
    """
    dropped = Counter() if dropped is None else dropped
    test = crosslingual.read_aligned(paths["source"], paths["reference"], malformed)[:limit]
    kept = [(i, s, r) for i, s, r in test if s.strip() and r.strip()]
    if len(kept) < len(test):
        dropped["empty_segment"] += len(test) - len(kept)
    if not kept:
        raise InputError(
            f"{paths['source']}: no test segments left for {src}-{tgt} "
            f"({'the files are empty' if not test else f'all {len(test)} have an empty side'})"
        )
    dev = []
    if shots:  # the pool is cut by file line, so a skipped malformed line does not shift it
        pool = crosslingual.read_aligned(paths["dev_source"], paths["dev_reference"], malformed)
        start, stop = dev_lines or (0, None)
        dev = [(s, r) for i, s, r in pool if i >= start and (stop is None or i < stop)]
    if shots > len(dev):
        raise InputError(f"{paths.get('dev_source')}: {len(dev)} dev segments, fewer than {shots} shots")
    out = []
    for i, source, reference in kept:
        rng = random.Random(f"{seed}:{src}-{tgt}:{i}")
        out.append(
            {
                "id": f"{src}-{tgt}-{i}",
                "source": source,
                "reference": reference,
                "shots": [{"source": s, "reference": r} for s, r in rng.sample(dev, shots)],
            }
        )
    return out


def conversation(item: dict, src: str, tgt: str, prompts: dict) -> list[dict]:
    """The chat an item is asked as: each shot a (user, assistant) exchange, then the test sentence."""
    instruction = prompts["sentence"].format(
        src_name=crosslingual.language_name(prompts, src), tgt_name=crosslingual.language_name(prompts, tgt)
    )
    messages = []
    for shot in item["shots"]:
        messages += [
            {"role": "user", "content": f"{instruction}\n\n{shot['source']}"},
            {"role": "assistant", "content": shot["reference"]},
        ]
    return messages + [{"role": "user", "content": f"{instruction}\n\n{item['source']}"}]


def first_line(text: str) -> str:
    """A translation is one line: models often continue with notes or another sentence."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def translate(
    engine, tokenizer, items_: list[dict], src: str, tgt: str, prompts: dict, template: str, max_new_tokens: int
) -> tuple[list[dict], dict]:
    rendered = [chat.render(conversation(item, src, tgt, prompts), template, tokenizer) for item in items_]
    texts, stats = engine.complete(rendered, temperature=0.0, max_new_tokens=max_new_tokens)
    return [{**item, "output": text, "hypothesis": first_line(text)} for item, text in zip(items_, texts)], stats


def bleu_tokenizer(tokenizers: dict, lang: str) -> str:
    return tokenizers.get(lang, tokenizers.get("default", "13a"))


def use_sacrebleu_dir(directory: str | None) -> None:
    """Point sacrebleu at `directory` for its SentencePiece models, as SACREBLEU=<dir> does for its CLI."""
    if not directory:
        return
    os.environ["SACREBLEU"] = str(directory)
    import sacrebleu.tokenizers.tokenizer_spm as spm
    import sacrebleu.utils as utils

    utils.SACREBLEU_DIR = spm.SACREBLEU_DIR = str(directory)


def score(hypotheses: list[str], references: list[str], tgt: str, settings: dict) -> dict:
    """BLEU, chrF and spBLEU (as `mt_eval.metrics` asks) with their sacrebleu signatures and CLI flags."""
    from sacrebleu.metrics import BLEU, CHRF

    use_sacrebleu_dir(settings.get("sacrebleu_dir"))
    metrics = {}
    for name in settings["metrics"]:
        if name == "chrf":
            metric, flags = CHRF(), ["-m", "chrf"]
        else:
            tok = settings["spbleu_tokenizer"] if name == "spbleu" else bleu_tokenizer(settings["tokenizers"], tgt)
            metric, flags = BLEU(tokenize=tok), ["-m", "bleu", "-tok", tok]
        result = metric.corpus_score(hypotheses, [references])
        metrics[name] = {"score": result.score, "signature": str(metric.get_signature()), "cli": flags}
    return metrics
