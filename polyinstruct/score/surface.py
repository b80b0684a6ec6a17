"""Surface metrics of one (run, eval set, language) that need no judge: language-ID correctness,
Hunspell spelling share and task-modifier fulfilment (Chirkova & Nikoulina). Relevance 0/1 needs a
chat model and runs as a judge protocol (`judge/relevance.py`).
"""

from __future__ import annotations

from polyinstruct.data import modifiers
from polyinstruct.data.records import expected_language
from polyinstruct.io import InputError
from polyinstruct.score import spelling


def measure(records: list[dict], langid_rows: list[dict], lang: str, settings: dict) -> tuple[list[dict], dict]:
    """(rows, summary): spelling rows when `surface.spelling.enabled`, modifier rows for modified items."""
    n = len(langid_rows)
    summary = {
        "n": len(records),
        "lang_correct_rate": sum(bool(r["correct"]) for r in langid_rows) / n if n else None,
        "spelling": None,
        "modifiers": None,
    }
    rows: list[dict] = []
    spell = settings["spelling"]
    if spell["enabled"]:
        checker = spelling.SpellChecker(
            spelling.find_dictionary(lang, spell["dictionary_dirs"], spell["dictionaries"]), lang
        )
        checkers: dict[str, spelling.SpellChecker | None] = {lang: checker}
        for other in sorted({expected_language(r) for r in records} - {lang}):
            try:  # a language only an "answer in X" modifier asks for: counted when X has no dictionary
                path = spelling.find_dictionary(other, spell["dictionary_dirs"], spell["dictionaries"])
                checkers[other] = spelling.SpellChecker(path, other)
            except InputError:
                checkers[other] = None
        spelled = spelling.spelling_rows(records, checkers)
        summary["spelling"] = {
            **spelling.summarise(spelled),
            "dictionary": str(checker.path),
            "requested_languages": {k: str(v.path) if v else None for k, v in checkers.items() if k != lang},
        }
        rows += [{"metric": "spelling", **r} for r in spelled]
    if any(r.get("modifier") for r in records):
        rules = {k: settings["modifiers"][k] for k in modifiers.DEFAULT_RULES}
        fulfilled = modifiers.fulfilment_rows(records, langid_rows, rules)
        summary["modifiers"] = modifiers.fulfilment_by_modifier(fulfilled)
        rows += [{"metric": "modifier", **r} for r in fulfilled]
    return rows, summary
