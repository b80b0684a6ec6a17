"""The project's single language registry.

Config validation, translation engines, fastText language ID and reports all
name languages; each of those tools uses a different code system (ISO 639-1,
ISO 639-3, FLORES-200, LID-176 labels). Keeping every mapping in one
hand-checked table here means a language is spelled one way inside the project
(its canonical ``code``) and converted at the edges, instead of each module
carrying its own, slightly different, lookup dict.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = [
    "LANGUAGES",
    "LID_SCHEMES",
    "FLORES101",
    "Language",
    "UnknownLanguageError",
    "all_codes",
    "flores101",
    "from_lid_label",
    "get",
    "is_known",
    "lid_label",
]

#: Label schemes understood by :func:`from_lid_label` / :func:`lid_label`.
#: ``lid176``: fastText's LID-176 model (``__label__fr``).
#: ``flores``: FLORES-200 style labels (``__label__fra_Latn``), used by OpenLID and GlotLID.
LID_SCHEMES: tuple[str, ...] = ("lid176", "flores")

_LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class Language:
    """One language as the project knows it, with its code in every scheme we meet.

    ``code`` is canonical: ISO 639-1 where one exists, else ISO 639-3; a script
    suffix (``zh-Hant``) only where the project treats two scripts of one language
    as separate targets. ``iso639_3`` is the ISO 639-3 equivalent of ``code``; for
    ISO 639-1 macrolanguage codes that is the macrolanguage (``fa`` -> ``fas``,
    ``ar`` -> ``ara``), while ``flores`` names the specific variety FLORES-200 and
    NLLB use (``pes_Arab``, ``arb_Arab``). ``script`` is ISO 15924 and matches the
    FLORES script subtag. ``flores`` / ``lid176`` are None where that resource
    does not cover the language, so callers must handle the gap explicitly.
    """

    code: str
    iso639_3: str
    name: str
    script: str
    flores: str | None
    lid176: str | None


class UnknownLanguageError(ValueError):
    """A language code not in the registry.

    A ValueError subclass so config validation can catch it with other bad values.
    """


# fmt: off
# (code, iso639_3, name, script, flores, lid176)
# Checked against the FLORES-200 code list and the fastText LID-176 label list.
# Pitfalls: LID-176 "als" is Alemannic, not Albanian (Albanian is "sq");
# FLORES uses individual-language codes for several macrolanguages (lvs, azj,
# uzn, arb, pes, npi, zsm, swh, als); LID-176 has no ig, ha, zu or xh.
_TABLE: tuple[tuple[str, str, str, str, str | None, str | None], ...] = (
    ("en",      "eng", "English",               "Latn", "eng_Latn", "en"),
    ("de",      "deu", "German",                "Latn", "deu_Latn", "de"),
    ("fr",      "fra", "French",                "Latn", "fra_Latn", "fr"),
    ("es",      "spa", "Spanish",               "Latn", "spa_Latn", "es"),
    ("it",      "ita", "Italian",               "Latn", "ita_Latn", "it"),
    ("pt",      "por", "Portuguese",            "Latn", "por_Latn", "pt"),
    ("nl",      "nld", "Dutch",                 "Latn", "nld_Latn", "nl"),
    ("sv",      "swe", "Swedish",               "Latn", "swe_Latn", "sv"),
    ("da",      "dan", "Danish",                "Latn", "dan_Latn", "da"),
    ("no",      "nor", "Norwegian Bokmål",      "Latn", "nob_Latn", "no"),
    ("nn",      "nno", "Norwegian Nynorsk",     "Latn", "nno_Latn", "nn"),
    ("fi",      "fin", "Finnish",               "Latn", "fin_Latn", "fi"),
    ("et",      "est", "Estonian",              "Latn", "est_Latn", "et"),
    ("lv",      "lav", "Latvian",               "Latn", "lvs_Latn", "lv"),
    ("lt",      "lit", "Lithuanian",            "Latn", "lit_Latn", "lt"),
    ("pl",      "pol", "Polish",                "Latn", "pol_Latn", "pl"),
    ("cs",      "ces", "Czech",                 "Latn", "ces_Latn", "cs"),
    ("sk",      "slk", "Slovak",                "Latn", "slk_Latn", "sk"),
    ("sl",      "slv", "Slovenian",             "Latn", "slv_Latn", "sl"),
    ("hr",      "hrv", "Croatian",              "Latn", "hrv_Latn", "hr"),
    ("sr",      "srp", "Serbian",               "Cyrl", "srp_Cyrl", "sr"),
    ("bs",      "bos", "Bosnian",               "Latn", "bos_Latn", "bs"),
    ("bg",      "bul", "Bulgarian",             "Cyrl", "bul_Cyrl", "bg"),
    ("mk",      "mkd", "Macedonian",            "Cyrl", "mkd_Cyrl", "mk"),
    ("ru",      "rus", "Russian",               "Cyrl", "rus_Cyrl", "ru"),
    ("uk",      "ukr", "Ukrainian",             "Cyrl", "ukr_Cyrl", "uk"),
    ("be",      "bel", "Belarusian",            "Cyrl", "bel_Cyrl", "be"),
    ("ro",      "ron", "Romanian",              "Latn", "ron_Latn", "ro"),
    ("hu",      "hun", "Hungarian",             "Latn", "hun_Latn", "hu"),
    ("el",      "ell", "Greek",                 "Grek", "ell_Grek", "el"),
    ("tr",      "tur", "Turkish",               "Latn", "tur_Latn", "tr"),
    ("az",      "aze", "Azerbaijani",           "Latn", "azj_Latn", "az"),
    ("kk",      "kaz", "Kazakh",                "Cyrl", "kaz_Cyrl", "kk"),
    ("uz",      "uzb", "Uzbek",                 "Latn", "uzn_Latn", "uz"),
    ("ka",      "kat", "Georgian",              "Geor", "kat_Geor", "ka"),
    ("hy",      "hye", "Armenian",              "Armn", "hye_Armn", "hy"),
    ("he",      "heb", "Hebrew",                "Hebr", "heb_Hebr", "he"),
    ("ar",      "ara", "Arabic",                "Arab", "arb_Arab", "ar"),
    ("fa",      "fas", "Persian",               "Arab", "pes_Arab", "fa"),
    ("ur",      "urd", "Urdu",                  "Arab", "urd_Arab", "ur"),
    ("hi",      "hin", "Hindi",                 "Deva", "hin_Deva", "hi"),
    ("bn",      "ben", "Bengali",               "Beng", "ben_Beng", "bn"),
    ("pa",      "pan", "Punjabi",               "Guru", "pan_Guru", "pa"),
    ("gu",      "guj", "Gujarati",              "Gujr", "guj_Gujr", "gu"),
    ("mr",      "mar", "Marathi",               "Deva", "mar_Deva", "mr"),
    ("ta",      "tam", "Tamil",                 "Taml", "tam_Taml", "ta"),
    ("te",      "tel", "Telugu",                "Telu", "tel_Telu", "te"),
    ("kn",      "kan", "Kannada",               "Knda", "kan_Knda", "kn"),
    ("ml",      "mal", "Malayalam",             "Mlym", "mal_Mlym", "ml"),
    ("si",      "sin", "Sinhala",               "Sinh", "sin_Sinh", "si"),
    ("ne",      "nep", "Nepali",                "Deva", "npi_Deva", "ne"),
    ("th",      "tha", "Thai",                  "Thai", "tha_Thai", "th"),
    ("lo",      "lao", "Lao",                   "Laoo", "lao_Laoo", "lo"),
    ("km",      "khm", "Khmer",                 "Khmr", "khm_Khmr", "km"),
    ("my",      "mya", "Burmese",               "Mymr", "mya_Mymr", "my"),
    ("vi",      "vie", "Vietnamese",            "Latn", "vie_Latn", "vi"),
    ("id",      "ind", "Indonesian",            "Latn", "ind_Latn", "id"),
    ("ms",      "msa", "Malay",                 "Latn", "zsm_Latn", "ms"),
    ("tl",      "tgl", "Tagalog",               "Latn", "tgl_Latn", "tl"),
    ("zh",      "zho", "Chinese (Simplified)",  "Hans", "zho_Hans", "zh"),
    ("zh-Hant", "zho", "Chinese (Traditional)", "Hant", "zho_Hant", "zh"),
    ("ja",      "jpn", "Japanese",              "Jpan", "jpn_Jpan", "ja"),
    ("ko",      "kor", "Korean",                "Hang", "kor_Hang", "ko"),
    ("sw",      "swa", "Swahili",               "Latn", "swh_Latn", "sw"),
    ("am",      "amh", "Amharic",               "Ethi", "amh_Ethi", "am"),
    ("yo",      "yor", "Yoruba",                "Latn", "yor_Latn", "yo"),
    ("ig",      "ibo", "Igbo",                  "Latn", "ibo_Latn", None),
    ("ha",      "hau", "Hausa",                 "Latn", "hau_Latn", None),
    ("zu",      "zul", "Zulu",                  "Latn", "zul_Latn", None),
    ("xh",      "xho", "Xhosa",                 "Latn", "xho_Latn", None),
    ("af",      "afr", "Afrikaans",             "Latn", "afr_Latn", "af"),
    ("so",      "som", "Somali",                "Latn", "som_Latn", "so"),
    ("ca",      "cat", "Catalan",               "Latn", "cat_Latn", "ca"),
    ("eu",      "eus", "Basque",                "Latn", "eus_Latn", "eu"),
    ("gl",      "glg", "Galician",              "Latn", "glg_Latn", "gl"),
    ("cy",      "cym", "Welsh",                 "Latn", "cym_Latn", "cy"),
    ("ga",      "gle", "Irish",                 "Latn", "gle_Latn", "ga"),
    ("is",      "isl", "Icelandic",             "Latn", "isl_Latn", "is"),
    ("mt",      "mlt", "Maltese",               "Latn", "mlt_Latn", "mt"),
    ("sq",      "sqi", "Albanian",              "Latn", "als_Latn", "sq"),
    ("lb",      "ltz", "Luxembourgish",         "Latn", "ltz_Latn", "lb"),
    ("eo",      "epo", "Esperanto",             "Latn", "epo_Latn", "eo"),
    ("ast",     "ast", "Asturian",              "Latn", "ast_Latn", "ast"),
    # FLORES-101 languages BayLing 2 evaluates (FLORES-200 codes; fuv/khk/gaz/pbt are FLORES's varieties).
    ("as",      "asm", "Assamese",              "Beng", "asm_Beng", "as"),
    ("ceb",     "ceb", "Cebuano",               "Latn", "ceb_Latn", "ceb"),
    ("ff",      "ful", "Fula",                  "Latn", "fuv_Latn", None),
    ("lg",      "lug", "Ganda",                 "Latn", "lug_Latn", None),
    ("jv",      "jav", "Javanese",              "Latn", "jav_Latn", "jv"),
    ("kea",     "kea", "Kabuverdianu",          "Latn", "kea_Latn", None),
    ("kam",     "kam", "Kamba",                 "Latn", "kam_Latn", None),
    ("ky",      "kir", "Kyrgyz",                "Cyrl", "kir_Cyrl", "ky"),
    ("ln",      "lin", "Lingala",               "Latn", "lin_Latn", None),
    ("luo",     "luo", "Luo",                   "Latn", "luo_Latn", None),
    ("mi",      "mri", "Maori",                 "Latn", "mri_Latn", None),
    ("mn",      "mon", "Mongolian",             "Cyrl", "khk_Cyrl", "mn"),
    ("nso",     "nso", "Northern Sotho",        "Latn", "nso_Latn", None),
    ("ny",      "nya", "Nyanja",                "Latn", "nya_Latn", None),
    ("oc",      "oci", "Occitan",               "Latn", "oci_Latn", "oc"),
    ("or",      "ori", "Odia",                  "Orya", "ory_Orya", "or"),
    ("om",      "orm", "Oromo",                 "Latn", "gaz_Latn", None),
    ("ps",      "pus", "Pashto",                "Arab", "pbt_Arab", "ps"),
    ("sn",      "sna", "Shona",                 "Latn", "sna_Latn", None),
    ("sd",      "snd", "Sindhi",                "Arab", "snd_Arab", "sd"),
    ("ckb",     "ckb", "Central Kurdish",       "Arab", "ckb_Arab", "ckb"),
    ("tg",      "tgk", "Tajik",                 "Cyrl", "tgk_Cyrl", "tg"),
    ("umb",     "umb", "Umbundu",               "Latn", "umb_Latn", None),
    ("wo",      "wol", "Wolof",                 "Latn", "wol_Latn", None),
)
# fmt: on

#: Every registered language, in table order.
LANGUAGES: tuple[Language, ...] = tuple(Language(*row) for row in _TABLE)


def _first_wins(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Build a key -> canonical-code dict where the earlier table row wins a clash.

    Clashes are deliberate and few: ``zh`` and ``zh-Hant`` share ``zho`` and the
    LID-176 label ``zh``; the Simplified row comes first, so it is the default.
    """
    out: dict[str, str] = {}
    for key, code in pairs:
        out.setdefault(key, code)
    return out


#: The 102 file codes of the FLORES-101 release (`flores101_dataset/dev/<code>.dev`), as BayLing 2's tables
#: name them: ISO 639-3 codes, the FLORES-200 variety where FLORES-101 used one (azj, npi, swh ...), and
#: zho_simpl / zho_trad for the two Chinese scripts.
# fmt: off
FLORES101: tuple[str, ...] = (
    "afr", "amh", "ara", "asm", "ast", "azj", "bel", "ben", "bos", "bul", "cat", "ceb", "ces", "ckb", "cym",
    "dan", "deu", "ell", "eng", "est", "fas", "fin", "fra", "ful", "gle", "glg", "guj", "hau", "heb", "hin",
    "hrv", "hun", "hye", "ibo", "ind", "isl", "ita", "jav", "jpn", "kam", "kan", "kat", "kaz", "kea", "khm",
    "kir", "kor", "lao", "lav", "lin", "lit", "ltz", "lug", "luo", "mal", "mar", "mkd", "mlt", "mon", "mri",
    "msa", "mya", "nld", "nob", "npi", "nso", "nya", "oci", "orm", "ory", "pan", "pol", "por", "pus", "ron",
    "rus", "slk", "slv", "sna", "snd", "som", "spa", "srp", "swe", "swh", "tam", "tel", "tgk", "tgl", "tha",
    "tur", "ukr", "umb", "urd", "uzb", "vie", "wol", "xho", "yor", "zho_simpl", "zho_trad", "zul",
)
# fmt: on
_FLORES101_CHINESE = {"zho_Hans": "zho_simpl", "zho_Hant": "zho_trad"}


def _flores101_code(lang: Language) -> str | None:
    if lang.flores in _FLORES101_CHINESE:
        return _FLORES101_CHINESE[lang.flores]
    variety = lang.flores.split("_")[0] if lang.flores else None
    for candidate in (variety, lang.iso639_3):
        if candidate in FLORES101:
            return candidate
    return None


_TO_FLORES101: dict[str, str] = {lang.code: code for lang in LANGUAGES if (code := _flores101_code(lang)) is not None}

_BY_CODE: dict[str, Language] = {lang.code: lang for lang in LANGUAGES}

# Everything get() accepts, mapped to the canonical code. Order sets precedence:
# canonical codes, then ISO 639-3, then FLORES codes, then the FLORES language
# subtag (so the individual-language codes "arb", "pes", "nob" ... also resolve).
_LOOKUP: dict[str, str] = _first_wins(
    [(lang.code, lang.code) for lang in LANGUAGES]
    + [(lang.iso639_3, lang.code) for lang in LANGUAGES]
    + [(lang.flores, lang.code) for lang in LANGUAGES if lang.flores]
    + [(lang.flores.split("_")[0], lang.code) for lang in LANGUAGES if lang.flores]
)

_FROM_LID176: dict[str, str] = _first_wins([(lang.lid176, lang.code) for lang in LANGUAGES if lang.lid176])

# FLORES-style labels, plus "<iso639_3>_<script>" so a classifier that emits the
# macrolanguage (e.g. "fas_Arab", "msa_Latn") still maps; exact FLORES codes win.
_FROM_FLORES: dict[str, str] = _first_wins(
    [(lang.flores, lang.code) for lang in LANGUAGES if lang.flores]
    + [(f"{lang.iso639_3}_{lang.script}", lang.code) for lang in LANGUAGES]
)


def _suggest(code: str, n: int = 3) -> list[str]:
    """Close matches for a mistyped code, so the error can say what was meant.

    Compares case-insensitively against every accepted spelling and prefers
    candidates sharing the first letter (a typo is rarely in the first letter).
    """
    needle = code.strip().lower()
    if not needle:
        return []
    scored: list[tuple[float, str]] = []
    for key in _LOOKUP:
        ratio = difflib.SequenceMatcher(None, needle, key.lower()).ratio()
        if ratio < 0.5:
            continue
        bonus = 0.1 if key[:1].lower() == needle[:1] else 0.0
        scored.append((ratio + bonus, key))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [key for _, key in scored[:n]]


def get(code: str) -> Language:
    """Return the language for a canonical, ISO 639-3 or FLORES-200 code.

    Accepting all three lets configs and external data use whatever they carry;
    the lookup is exact (FLORES script subtags are case-sensitive) so that a
    typo fails loudly here rather than silently selecting a different language.
    Ambiguous ISO 639-3 codes resolve to the default variety (``zho`` -> ``zh``).
    """
    canonical = _LOOKUP.get(code) if isinstance(code, str) else None
    if canonical is None:
        hint = _suggest(code) if isinstance(code, str) else []
        message = f"unknown language code {code!r}"
        if hint:
            message += "; did you mean " + ", ".join(repr(h) for h in hint) + "?"
        raise UnknownLanguageError(message)
    return _BY_CODE[canonical]


def is_known(code: str) -> bool:
    """Whether :func:`get` would accept ``code``; for validation without try/except."""
    return isinstance(code, str) and code in _LOOKUP


def all_codes() -> list[str]:
    """Canonical codes of every registered language, in table order."""
    return [lang.code for lang in LANGUAGES]


def flores101(code: str) -> str | None:
    """The FLORES-101 file code of a language (``zh`` -> ``zho_simpl``, ``ne`` -> ``npi``); None when
    FLORES-101 does not cover it (FLORES-200 does: ``nn``, ``eu``, ``si`` ...)."""
    return _TO_FLORES101.get(get(code).code)


def _check_scheme(scheme: str) -> None:
    """Reject an unknown scheme, since guessing would mis-map every label."""
    if scheme not in LID_SCHEMES:
        raise ValueError(f"unknown LID label scheme {scheme!r}; expected one of {LID_SCHEMES}")


def from_lid_label(label: str, scheme: str) -> str | None:
    """Map a raw fastText label to a canonical code, or None if not registered.

    ``scheme`` is ``"lid176"`` (``__label__fr``) or ``"flores"``
    (``__label__fra_Latn``, as OpenLID and GlotLID emit). The ``__label__``
    prefix is optional. None (not an error) for unregistered labels, because a
    classifier legitimately predicts languages the project does not use and the
    caller decides what to do with them (typically: filter the row out).
    LID-176 cannot tell Chinese scripts apart, so ``zh`` maps to ``zh``.
    """
    _check_scheme(scheme)
    raw = label.strip()
    if raw.startswith(_LABEL_PREFIX):
        raw = raw[len(_LABEL_PREFIX) :]
    table = _FROM_LID176 if scheme == "lid176" else _FROM_FLORES
    return table.get(raw)


def lid_label(code: str, scheme: str) -> str | None:
    """The label (without ``__label__``) that ``scheme``'s model emits for ``code``.

    ``code`` may be any spelling :func:`get` accepts. None when the model does
    not cover the language, so LID filtering can skip such targets knowingly.
    """
    _check_scheme(scheme)
    lang = get(code)
    return lang.lid176 if scheme == "lid176" else lang.flores
