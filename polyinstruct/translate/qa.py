"""Quality checks of translated records: each flag is a reason a researcher can filter on.

Flags: empty_output, wrong_language (fastText), untranslated (a field copied verbatim),
length_ratio (outside the configured bounds), repetition (a word n-gram looping), numbers_lost,
protected_span_lost (a code/URL/placeholder token the engine broke).
"""

from __future__ import annotations

from polyinstruct.data import records as rec
from polyinstruct.score.langid import LanguageIdentifier, same_language
from polyinstruct.translate import structure

DEFAULT_LENGTH_RATIO = (0.3, 3.0)
FLAGS = (
    "empty_output",
    "wrong_language",
    "untranslated",
    "length_ratio",
    "repetition",
    "numbers_lost",
    "protected_span_lost",
)


def repetition_loop(text: str, max_repeats: int = 4, max_n: int = 4) -> bool:
    """True if some 1..max_n word n-gram repeats more than `max_repeats` times in a row."""
    words = text.split()
    for n in range(1, max_n + 1):
        for offset in range(n):  # an n-gram loop can start at any word
            run = 1
            for i in range(offset + n, len(words) - n + 1, n):
                run = run + 1 if words[i : i + n] == words[i - n : i] else 1
                if run > max_repeats:
                    return True
    return False


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def record_flags(
    source: dict,
    translated: dict,
    target_lang: str,
    lid_lang: str | None,
    length_ratio: tuple[float, float] = DEFAULT_LENGTH_RATIO,
) -> list[str]:
    src_texts, tgt_texts = rec.texts(source), rec.texts(translated)
    flags = []
    if (
        any(src.strip() and not tgt_texts.get(f, "").strip() for f, src in src_texts.items())
        or not rec.response(translated).strip()
    ):
        return ["empty_output"]
    if not same_language(lid_lang, target_lang):
        flags.append("wrong_language")
    if any(_has_letters(src) and len(src) > 20 and tgt_texts[f].strip() == src.strip() for f, src in src_texts.items()):
        flags.append("untranslated")
    src_len = sum(len(t) for t in src_texts.values())
    tgt_len = sum(len(t) for t in tgt_texts.values())
    if src_len >= 20 and not length_ratio[0] <= tgt_len / src_len <= length_ratio[1]:
        flags.append("length_ratio")
    if any(repetition_loop(tgt_texts[f]) and not repetition_loop(src) for f, src in src_texts.items()):
        flags.append("repetition")
    if not all(structure.numbers_preserved(src, tgt_texts[f]) for f, src in src_texts.items()):
        flags.append("numbers_lost")
    if translated.get("translation", {}).get("protected_span_lost"):
        flags.append("protected_span_lost")
    return flags


def check_records(
    records: list[dict],
    target_lang: str,
    identifier: LanguageIdentifier,
    sources: dict[str, dict],
    length_ratio: tuple[float, float] = DEFAULT_LENGTH_RATIO,
) -> list[dict]:
    """Attach `qa` = {lid, lid_prob, flags} to each record (a new dict), in order; `sources` by id."""
    texts = [" ".join(t for t in rec.texts(r).values() if t) for r in records]
    predictions = identifier.predict(texts)
    checked = []
    for record, pred in zip(records, predictions):
        flags = record_flags(sources[record["id"]], record, target_lang, pred.lang, length_ratio)
        checked.append(
            {**record, "qa": {"lid": pred.lang or pred.label, "lid_prob": round(pred.prob, 4), "flags": flags}}
        )
    return checked
