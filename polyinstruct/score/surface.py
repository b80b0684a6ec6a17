"""Surface metrics of one (run, eval set, language) that need no judge: language-ID correctness,
Hunspell spelling share and task-modifier fulfilment (Chirkova & Nikoulina). Relevance 0/1 needs a
chat model and runs as a judge protocol (`judge/relevance.py`).
"""

from __future__ import annotations

from polyinstruct.data import modifiers
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
        spelled = spelling.spelling_rows(records, {lang: checker})
        summary["spelling"] = {**spelling.summarise(spelled), "dictionary": str(checker.path)}
        rows += [{"metric": "spelling", **r} for r in spelled]
    if any(r.get("modifier") for r in records):
        rules = {k: settings["modifiers"][k] for k in modifiers.DEFAULT_RULES}
        fulfilled = modifiers.fulfilment_rows(records, langid_rows, rules)
        summary["modifiers"] = modifiers.fulfilment_by_modifier(fulfilled)
        rows += [{"metric": "modifier", **r} for r in fulfilled]
    return rows, summary
