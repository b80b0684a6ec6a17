"""Hunspell spellcheck share: a tiny shipped dictionary always, the system's dictionaries when installed."""

from pathlib import Path

import pytest

from polyinstruct.io import InputError
from polyinstruct.score import spelling

TINY = Path(__file__).resolve().parent / "fixtures/hunspell"
SYSTEM = Path("/usr/share/hunspell")


def test_words_skip_code_urls_and_numbers():
    text = "Le chat dort.\n```python\nprint('x')\n```\nVoir https://exemple.fr et `le_code` 42 l’homme"
    assert spelling.words(text) == ["Le", "chat", "dort", "Voir", "et", "l'homme"]


def test_dictionary_is_chosen_through_the_registry():
    assert spelling.find_dictionary("fr", [TINY]) == TINY / "fr_FR"
    assert spelling.find_dictionary("fra", [TINY]) == TINY / "fr_FR"  # ISO 639-3 spelling, same language
    with pytest.raises(InputError, match=r"no Hunspell dictionary for language 'de' \(German\).*de_DE"):
        spelling.find_dictionary("de", [TINY])
    with pytest.raises(InputError, match=r"config key 'surface.spelling.dictionaries.fr'"):
        spelling.find_dictionary("fr", [TINY], overrides={"fr": "fr_CA"})
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        spelling.find_dictionary("xx", [TINY])


def test_share_of_correct_words_with_the_tiny_dictionary():
    checker = spelling.SpellChecker(spelling.find_dictionary("fr", [TINY]), "fr")
    assert checker.share_correct("Le chat dort sur le canapé.") == (1.0, 6)
    assert checker.share_correct("Les chats dorrt sur les canapés.") == (pytest.approx(5 / 6), 6)  # plural by affix
    assert checker.share_correct("Le chien dort.") == (pytest.approx(2 / 3), 3)
    assert checker.share_correct("```\ncode only\n``` 123") == (None, 0)
    rows = spelling.spelling_rows([{"id": "a", "lang": "fr", "responses": ["Le chat dort.", "42"]}], {"fr": checker})
    common = {"id": "a", "lang": "fr", "expected": "fr", "no_dictionary": False}
    assert rows == [
        {**common, "turn": 1, "spelling": 1.0, "words": 3},
        {**common, "turn": 2, "spelling": None, "words": 0},
    ]
    summary = spelling.summarise(rows)
    assert summary == {"n": 2, "mean_spelling": 1.0, "no_words": 1, "no_dictionary": 0, "word_weighted": 1.0}
    with pytest.raises(InputError, match="record 'b': no spellchecker loaded for language 'de'"):
        spelling.spelling_rows([{"id": "b", "lang": "de", "responses": ["Hallo"]}], {"fr": checker})


@pytest.fixture(scope="session")
def system_dictionaries():
    """Debian's hunspell-de-de and hunspell-fr, installed when missing (`make test` installs them first);
    skipped, saying why, only where they cannot be installed (not root, no apt-get)."""
    import system_packages

    if system_packages.missing_hunspell():
        reason = system_packages.why_not_installable()
        if reason:
            pytest.skip(f"needs {' '.join(system_packages.missing_hunspell())}: {reason}")
        system_packages.install()
    return SYSTEM


def test_system_dictionaries_tell_real_typos(system_dictionaries):
    german = spelling.SpellChecker(spelling.find_dictionary("de"), "de")
    assert german.share_correct("Das Wetter ist heute herrlich.") == (1.0, 5)
    assert german.share_correct("Das Wettr ist heute herlich.") == (0.6, 5)
    french = spelling.SpellChecker(spelling.find_dictionary("fr"), "fr")
    assert french.share_correct("Aujourd'hui, l'homme mange une pomme.") == (1.0, 5)
