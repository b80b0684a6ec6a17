"""Share of a response's words that pass a Hunspell spellcheck (Chirkova & Nikoulina's surface metric).

Dictionaries are the system's Hunspell `.aff`/`.dic` pairs (Debian `hunspell-*` packages), read by
spylls (pure Python). Which file serves a language is decided here from the registry code:
a config override (`surface.spelling.dictionaries.<lang>`), else the usual locale names for that
language, else any `<code>_*.dic`. No dictionary for a language is an error naming it.

Only words are checked: fenced code, inline code and URLs are removed first, and tokens with
digits are not words. A response with no word at all has no share (None) and is counted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from polyinstruct import languages
from polyinstruct.io import InputError

DEFAULT_DIRS = ("/usr/share/hunspell", "/usr/share/myspell", "/usr/share/myspell/dicts")

#: Preferred dictionary names per registry code, first found wins (others fall back to `<code>_*`).
LOCALES = {
    "en": ("en_US", "en_GB"),
    "de": ("de_DE", "de_AT", "de_CH"),
    "fr": ("fr_FR", "fr"),
    "es": ("es_ES", "es"),
    "it": ("it_IT",),
    "pt": ("pt_PT", "pt_BR"),
    "ru": ("ru_RU",),
    "bg": ("bg_BG",),
    "cs": ("cs_CZ",),
    "fi": ("fi_FI",),
    "nl": ("nl_NL", "nl"),
    "sv": ("sv_SE",),
    "da": ("da_DK",),
    "no": ("nb_NO", "no_NO"),
    "nn": ("nn_NO",),
    "pl": ("pl_PL",),
    "uk": ("uk_UA",),
    "el": ("el_GR",),
    "hu": ("hu_HU",),
    "ro": ("ro_RO",),
    "tr": ("tr_TR",),
    "ca": ("ca", "ca_ES"),
}

WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
URL = re.compile(r"\b(?:https?://|www\.)\S+")


def words(text: str) -> list[str]:
    """The words a spellcheck should see (apostrophes normalised to ')."""
    text = URL.sub(" ", INLINE_CODE.sub(" ", CODE_BLOCK.sub(" ", text))).replace("\u2019", "'")
    return WORD.findall(text)


def find_dictionary(lang: str, dirs=DEFAULT_DIRS, overrides: dict | None = None) -> Path:
    """The `.dic` path (without suffix) serving `lang`; an error naming the language if none is installed."""
    code = languages.get(lang).code
    override = (overrides or {}).get(code)
    candidates = [override] if override else [*LOCALES.get(code, ()), code]
    for directory in map(Path, dirs):
        for name in candidates:
            if (directory / f"{name}.dic").is_file() and (directory / f"{name}.aff").is_file():
                return directory / name
    if not override:
        for directory in map(Path, dirs):
            found = sorted(p for p in directory.glob(f"{code}_*.dic") if p.with_suffix(".aff").is_file())
            if found:
                return found[0].with_suffix("")
    where = "config key 'surface.spelling.dictionaries." + code + "'" if override else "the defaults"
    raise InputError(
        f"no Hunspell dictionary for language '{code}' ({languages.get(code).name}): looked for "
        f"{', '.join(candidates)} (from {where}) and {code}_* in {', '.join(map(str, dirs))}; install one "
        f"(e.g. apt-get install hunspell-{code}) or point 'surface.spelling.dictionary_dirs' at it"
    )


class SpellChecker:
    """One language's dictionary, with a per-word memo (responses repeat words a lot)."""

    def __init__(self, dictionary: str | Path, lang: str):
        from spylls.hunspell import Dictionary

        self.path = Path(dictionary)
        self.lang = languages.get(lang).code
        self._dictionary = Dictionary.from_files(str(self.path))
        self.correct = lru_cache(maxsize=200_000)(self._lookup)

    def _lookup(self, word: str) -> bool:
        return bool(self._dictionary.lookup(word))

    def share_correct(self, text: str) -> tuple[float | None, int]:
        """(share of words that pass, number of words); (None, 0) for a text with no words."""
        found = words(text)
        if not found:
            return None, 0
        return sum(self.correct(w) for w in found) / len(found), len(found)


def spelling_rows(records: list[dict], checkers: dict[str, SpellChecker | None]) -> list[dict]:
    """One row per (record, turn): {id, lang, expected, turn, spelling, words}; `spelling` None if no words.

    A response is checked in the language it should be in (`records.expected_language`: "answer in
    German" is spelled in German). `checkers` maps a language to its checker, or to None when no
    dictionary is installed for a language only a modifier asks for: those rows get `spelling` None
    and `no_dictionary` True, and are counted."""
    from polyinstruct.data.records import expected_language

    rows = []
    for record in records:
        expected = expected_language(record)
        if expected not in checkers:
            raise InputError(f"record '{record['id']}': no spellchecker loaded for language '{expected}'")
        checker = checkers[expected]
        for turn, response in enumerate(record["responses"], start=1):
            share, n = checker.share_correct(response) if checker is not None else (None, 0)
            rows.append(
                {
                    "id": record["id"],
                    "lang": record["lang"],
                    "expected": expected,
                    "turn": turn,
                    "spelling": share,
                    "words": n,
                    "no_dictionary": checker is None,
                }
            )
    return rows


def summarise(rows: list[dict]) -> dict:
    """Mean share of correctly spelled words over responses that had words, and how many had none (or no
    dictionary for the language they were asked to be in)."""
    shares = [r["spelling"] for r in rows if r["spelling"] is not None]
    no_dictionary = sum(bool(r.get("no_dictionary")) for r in rows)
    return {
        "n": len(rows),
        "mean_spelling": sum(shares) / len(shares) if shares else None,
        "no_words": len(rows) - len(shares) - no_dictionary,
        "no_dictionary": no_dictionary,
        "word_weighted": (
            sum(r["spelling"] * r["words"] for r in rows if r["spelling"] is not None) / sum(r["words"] for r in rows)
        )
        if any(r["words"] for r in rows)
        else None,
    }
