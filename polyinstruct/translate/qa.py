"""Quality checks of translated records: each flag is a reason a researcher can filter on."""
from __future__ import annotations

from polyinstruct import records as rec
from polyinstruct.langid import LanguageIdentifier, same_language


def check_records(records: list[dict], target_lang: str, identifier: LanguageIdentifier) -> list[dict]:
    """Attach `qa` = {lid, lid_prob, flags} to each record (a new dict), in order."""
    texts = [" ".join(t for t in rec.texts(r).values() if t) for r in records]
    predictions = identifier.predict(texts)
    checked = []
    for record, text, pred in zip(records, texts, predictions):
        flags = []
        if not text.strip() or not rec.response(record).strip():
            flags.append("empty_output")
        elif not same_language(pred.lang, target_lang):
            flags.append("wrong_language")
        checked.append({**record, "qa": {"lid": pred.lang or pred.label, "lid_prob": round(pred.prob, 4), "flags": flags}})
    return checked
