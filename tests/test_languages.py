"""Tests for the language registry in polyinstruct.languages."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from polyinstruct import languages as L

CODE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?$")
ISO3_RE = re.compile(r"^[a-z]{3}$")
SCRIPT_RE = re.compile(r"^[A-Z][a-z]{3}$")
FLORES_RE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")
LID176_RE = re.compile(r"^[a-z]{2,3}$")

IDS = [lang.code for lang in L.LANGUAGES]


def _dupes(values: list[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def test_registry_size_and_required_languages() -> None:
    required = [
        "en",
        "de",
        "fr",
        "es",
        "it",
        "pt",
        "nl",
        "sv",
        "da",
        "no",
        "nn",
        "fi",
        "et",
        "lv",
        "lt",
        "pl",
        "cs",
        "sk",
        "sl",
        "hr",
        "sr",
        "bs",
        "bg",
        "mk",
        "ru",
        "uk",
        "be",
        "ro",
        "hu",
        "el",
        "tr",
        "az",
        "kk",
        "uz",
        "ka",
        "hy",
        "he",
        "ar",
        "fa",
        "ur",
        "hi",
        "bn",
        "pa",
        "gu",
        "mr",
        "ta",
        "te",
        "kn",
        "ml",
        "si",
        "ne",
        "th",
        "lo",
        "km",
        "my",
        "vi",
        "id",
        "ms",
        "tl",
        "zh",
        "ja",
        "ko",
        "sw",
        "am",
        "yo",
        "ig",
        "ha",
        "zu",
        "xh",
        "af",
        "so",
        "ca",
        "eu",
        "gl",
        "cy",
        "ga",
        "is",
        "mt",
        "sq",
        "lb",
        "eo",
        "ast",
        "zh-Hant",
    ]
    codes = L.all_codes()
    assert set(required) <= set(codes)
    assert len(codes) >= 70
    assert codes == [lang.code for lang in L.LANGUAGES]


def test_language_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        L.get("fr").name = "Français"  # type: ignore[misc]


@pytest.mark.parametrize("lang", L.LANGUAGES, ids=IDS)
def test_entry_codes_well_formed(lang: L.Language) -> None:
    assert CODE_RE.match(lang.code), lang.code
    assert ISO3_RE.match(lang.iso639_3), lang.iso639_3
    assert SCRIPT_RE.match(lang.script), lang.script
    assert lang.name and lang.name.strip() == lang.name
    if lang.flores is not None:
        assert FLORES_RE.match(lang.flores), lang.flores
        # The ISO 15924 script must agree with the FLORES script subtag.
        assert lang.flores.split("_")[1] == lang.script
    if lang.lid176 is not None:
        assert LID176_RE.match(lang.lid176), lang.lid176
        assert not lang.lid176.startswith("__label__")
    # A three-letter canonical code is only used where no ISO 639-1 code exists,
    # so it must equal the ISO 639-3 code.
    if len(lang.code) == 3:
        assert lang.code == lang.iso639_3


def test_canonical_and_flores_codes_unique() -> None:
    assert _dupes([lang.code for lang in L.LANGUAGES]) == []
    assert _dupes([lang.flores for lang in L.LANGUAGES if lang.flores]) == []


def test_only_zh_variants_share_iso639_3_and_lid176() -> None:
    assert _dupes([lang.iso639_3 for lang in L.LANGUAGES]) == ["zho"]
    assert _dupes([lang.lid176 for lang in L.LANGUAGES if lang.lid176]) == ["zh"]


def test_canonical_codes_do_not_shadow_other_entries() -> None:
    # A canonical code that equalled another language's ISO 639-3 code would
    # make get() ambiguous.
    for lang in L.LANGUAGES:
        for other in L.LANGUAGES:
            if other.code != lang.code:
                assert lang.code != other.iso639_3


@pytest.mark.parametrize("lang", L.LANGUAGES, ids=IDS)
def test_lookups_by_all_code_kinds_agree(lang: L.Language) -> None:
    assert L.get(lang.code) is lang
    assert L.is_known(lang.code)
    if lang.flores is not None:
        assert L.get(lang.flores) is lang
        assert L.is_known(lang.flores)
    assert L.is_known(lang.iso639_3)
    if lang.code == "zh-Hant":
        # "zho" is shared; it resolves to the default (Simplified) variety.
        assert L.get(lang.iso639_3).code == "zh"
    else:
        assert L.get(lang.iso639_3) is lang


def test_flores_language_subtag_resolves() -> None:
    # Individual-language codes that FLORES uses for macrolanguages.
    assert L.get("arb").code == "ar"
    assert L.get("pes").code == "fa"
    assert L.get("nob").code == "no"
    assert L.get("zsm").code == "ms"
    assert L.get("lvs").code == "lv"


@pytest.mark.parametrize(
    ("code", "iso3", "flores", "lid176", "script"),
    [
        ("fr", "fra", "fra_Latn", "fr", "Latn"),
        ("zh", "zho", "zho_Hans", "zh", "Hans"),
        ("zh-Hant", "zho", "zho_Hant", "zh", "Hant"),
        ("no", "nor", "nob_Latn", "no", "Latn"),
        ("nn", "nno", "nno_Latn", "nn", "Latn"),
        ("ar", "ara", "arb_Arab", "ar", "Arab"),
        ("fa", "fas", "pes_Arab", "fa", "Arab"),
        ("sr", "srp", "srp_Cyrl", "sr", "Cyrl"),
        ("uz", "uzb", "uzn_Latn", "uz", "Latn"),
        ("ne", "nep", "npi_Deva", "ne", "Deva"),
        ("ms", "msa", "zsm_Latn", "ms", "Latn"),
        ("tl", "tgl", "tgl_Latn", "tl", "Latn"),
        ("sw", "swa", "swh_Latn", "sw", "Latn"),
        ("sq", "sqi", "als_Latn", "sq", "Latn"),
        ("ast", "ast", "ast_Latn", "ast", "Latn"),
        ("ja", "jpn", "jpn_Jpan", "ja", "Jpan"),
        ("ko", "kor", "kor_Hang", "ko", "Hang"),
        ("ig", "ibo", "ibo_Latn", None, "Latn"),
        ("zu", "zul", "zul_Latn", None, "Latn"),
    ],
)
def test_known_facts(code: str, iso3: str, flores: str, lid176: str | None, script: str) -> None:
    lang = L.get(code)
    assert (lang.code, lang.iso639_3, lang.flores, lang.lid176, lang.script) == (
        code,
        iso3,
        flores,
        lid176,
        script,
    )


def test_lookup_is_exact() -> None:
    assert not L.is_known("fra_latn")  # script subtag is case-sensitive
    assert not L.is_known("FR")
    assert not L.is_known("")
    assert not L.is_known(None)  # type: ignore[arg-type]


def test_unknown_code_error_names_code_and_suggests() -> None:
    with pytest.raises(L.UnknownLanguageError) as info:
        L.get("fz")
    message = str(info.value)
    assert "'fz'" in message
    assert message == "unknown language code 'fz'; did you mean 'fa', 'ff', 'fi'?"
    assert isinstance(info.value, ValueError)


def test_unknown_code_suggests_right_case_flores() -> None:
    with pytest.raises(L.UnknownLanguageError, match="'fra_latn'.*'fra_Latn'"):
        L.get("fra_latn")


def test_unknown_code_without_neighbours() -> None:
    with pytest.raises(L.UnknownLanguageError) as info:
        L.get("qqqqqqqq")
    assert str(info.value) == "unknown language code 'qqqqqqqq'"


@pytest.mark.parametrize("lang", L.LANGUAGES, ids=IDS)
def test_lid176_round_trip(lang: L.Language) -> None:
    label = L.lid_label(lang.code, "lid176")
    assert label == lang.lid176
    if label is None:
        return
    expected = "zh" if lang.code == "zh-Hant" else lang.code  # LID-176 has one Chinese label
    assert L.from_lid_label(f"__label__{label}", "lid176") == expected
    assert L.from_lid_label(label, "lid176") == expected


@pytest.mark.parametrize("lang", [lg for lg in L.LANGUAGES if lg.flores], ids=lambda lg: lg.code)
def test_flores_round_trip(lang: L.Language) -> None:
    label = L.lid_label(lang.code, "flores")
    assert label == lang.flores
    assert L.from_lid_label(f"__label__{label}", "flores") == lang.code
    assert L.from_lid_label(label, "flores") == lang.code
    # Reverse lookup also accepts other spellings of the code.
    assert L.lid_label(label, "flores") == label


def test_flores_scheme_accepts_macrolanguage_labels() -> None:
    assert L.from_lid_label("__label__fas_Arab", "flores") == "fa"
    assert L.from_lid_label("__label__msa_Latn", "flores") == "ms"


@pytest.mark.parametrize(
    ("label", "scheme"),
    [
        ("__label__als", "lid176"),  # Alemannic in LID-176, not Albanian
        ("__label__yue", "lid176"),
        ("__label__xx", "lid176"),
        ("__label__fra_Latn", "lid176"),  # wrong scheme
        ("__label__fr", "flores"),  # wrong scheme
        ("__label__srp_Latn", "flores"),  # registry has Serbian in Cyrillic only
        ("__label__prs_Arab", "flores"),  # Dari is not Persian (pes) here
        ("__label__xyz_Latn", "flores"),
        ("__label__", "flores"),
        ("", "lid176"),
    ],
)
def test_unknown_labels_map_to_none(label: str, scheme: str) -> None:
    assert L.from_lid_label(label, scheme) is None


def test_lid_label_none_when_uncovered() -> None:
    for code in ("ig", "ha", "zu", "xh"):
        assert L.lid_label(code, "lid176") is None
        assert L.lid_label(code, "flores") is not None


def test_unknown_scheme_rejected() -> None:
    assert L.LID_SCHEMES == ("lid176", "flores")
    with pytest.raises(ValueError, match="scheme"):
        L.from_lid_label("__label__fr", "cld3")
    with pytest.raises(ValueError, match="scheme"):
        L.lid_label("fr", "cld3")


def test_lid_label_unknown_code_raises() -> None:
    with pytest.raises(L.UnknownLanguageError):
        L.lid_label("zz", "lid176")
