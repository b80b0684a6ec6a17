import random
import re

import pytest

from polyinstruct.translate.structure import (
    TOKEN_RE,
    Plan,
    ProtectionError,
    Segment,
    numbers,
    numbers_preserved,
    plan,
)

CODE_BLOCK = '```python\ndef greet(name):\n    print(f"Hello, {name}. Bye!")  # see https://x.io\n    return 1,000\n```'

TEXTS = {
    "empty": "",
    "only_whitespace": "  \n\n \t\n",
    "plain": "Name three fruits.",
    "prose_code_prose": "Here is a function that greets someone.\n\n"
    + CODE_BLOCK
    + "\n\nCall it with a name. It prints a greeting.",
    "only_code": CODE_BLOCK,
    "only_code_trailing_newline": CODE_BLOCK + "\n",
    "tilde_fence": "Run this:\n~~~bash\necho 'Hi. There'\n~~~\nDone.",
    "unclosed_fence": "Example:\n```\nx = 1. Not prose\nstill code",
    "long_fence": "Nested:\n````md\n```js\nlet a = 1;\n```\n````\nAfter the block.",
    "indented_fence": "1. Install:\n   ```sh\n   pip install x\n   ```\n2. Run it.",
    "nested_lists": "- Fruits\n  - Apples are red.\n  - Bananas\n    * Yellow ones\n+ Vegetables\n- [ ] todo item\n- [x] done item",
    "numbered": "Steps:\n1. Preheat the oven to 180 degrees.\n2) Mix 2 eggs with 250g of flour.\n10. Bake for 25 minutes.",
    "headings": "# Title\n\n## Section one ##\nSome text.\n\n### Third level\n####### not a heading",
    "blockquote": "> To be or not to be.\n> > Nested quote here.\n>\n> - quoted list item",
    "table": "| Country | Capital |\n|:--------|--------:|\n| France  | Paris   |\n| Germany | Berlin  |\n| Pipe \\| escaped | `a|b` |",
    "table_no_outer_pipes": "Name | Age\n--- | ---\nAlice | 30\nBob | 25",
    "urls_emails": "Visit https://example.com/path?q=1&b=2#frag or www.example.org. Mail info@example.com, "
    "or ftp://files.example.net/pub. See https://en.wikipedia.org/wiki/Python_(language).",
    "placeholders": "Hello {name}, you have {0} new messages and {{count}} alerts. Use {user.id} or {x:>10}.",
    "printf": "Printed %s items in %d seconds (%.2f%%) for %(user)s. Price: 50% off.",
    "html": "Use <b>bold</b> text<br/> or <a href=\"https://x.com\" class='c'>a link</a>. <!-- note -->",
    "inline_code": "Call `foo()` then ``bar(`x`)``. The variable `x` holds it.",
    "md_links": 'Read [the docs](https://docs.example.com/a "Title") and ![a cat](img/cat.png). [Empty]() too.',
    "whitespace_edges": "  \n  Leading spaces and trailing spaces.   \n\n\n   ",
    "trailing_newlines": "Answer: yes.\n\n",
    "crlf": "First line.\r\n\r\n- item one\r\n- item two\r\n```\r\ncode();\r\n```\r\nEnd.\r\n",
    "french": "Le café coûte 3,50 €. C'est très bon ! « Voilà », dit-il… Ensuite, on part.",
    "german": "Die Straße ist lang, z.B. 2 km. Das ist gut. Über 1.000 Menschen kamen, usw. Danach gingen sie.",
    "chinese": "你好，世界。这是一个测试！请访问 https://example.cn 获取更多信息？好的。",
    "russian": "Привет, мир! Это тест. Т.е. всё работает, т.д. Конец.",
    "abbreviations": "Dr. Smith met Mr. Jones at 3.14 p.m., e.g. at noon, i.e. early. They left etc. Then U.S. Army came.",
    "punctuation_only": "---\n***\n* * *\n...\n123\n$1,000.00\n:)",
    "only_protected": "https://example.com\n`code`\n{name} %s\ninfo@example.com",
    "token_lookalikes": "Literal ⟦0⟧ and ⟦ 1 ⟧ and ⟦x⟧ and a lone ⟦ bracket ⟧ plus `code`.",
    "heading_hashtag": "#hashtag is not a heading. #\n#",
    "indented_code": "Example:\n\n    indented code line\n\tTab line\nDone.",
    "tabs_and_nbsp": "Tab\there.\u00a0Non-breaking space. Word\u2028separator.",
    "emoji": "Great job! 🎉 Keep going 🚀. Done ✅",
    "lone_cr": "Old mac\rline endings.",
}


def identity(p: Plan) -> list[str]:
    return [s.text for s in p.segments]


def shout(p: Plan) -> list[str]:
    """A fake translation: upper-case prose, leave tokens as they are."""
    return [
        TOKEN_RE.sub(
            lambda m: m[0],
            "".join(part if TOKEN_RE.fullmatch(part) else part.upper() for part in re.split(r"(⟦\d+⟧)", s.text)),
        )
        for s in p.segments
    ]


@pytest.mark.parametrize("max_chars", [400, 40, 10, 1])
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_identity_round_trip(name, max_chars):
    text = TEXTS[name]
    p = plan(text, max_chars=max_chars)
    assert p.rebuild(identity(p)) == text


def test_round_trip_random_mixtures():
    """Concatenations of tricky fragments, in random order and joins, survive an identity round trip."""
    fragments = [v for v in TEXTS.values()] + [
        "`",
        "```",
        "|",
        "[",
        "](",
        ")",
        "⟦",
        "⟧",
        "⟦3",
        "{",
        "}",
        "%",
        "<",
        ">",
        "@",
        ". ",
        "\r",
        "\t",
        "#",
        "> ",
        "- ",
        "1. ",
        "  ",
        "www.x",
        "http://a.b",
        "a@b.c",
        "ab",
        "Word.",
        "Dr.",
        "3.14",
        "\u00a0",
        "你好。",
    ]
    rng = random.Random(1234)
    for _ in range(400):
        text = "".join(
            rng.choice(fragments) + rng.choice(["", " ", "\n", "\r\n", "\n\n"]) for _ in range(rng.randint(1, 8))
        )
        for max_chars in (400, 15):
            p = plan(text, max_chars=max_chars)
            assert p.rebuild(identity(p)) == text, text
            assert p.rebuild(shout(p)).upper() == text.upper() or "\u00df" in text  # spacing unchanged


def test_fake_translation_keeps_structure_and_protected_spans():
    text = (
        "## Getting started\n\n"
        "Install the package with `pip install polyglot`. Read [the manual](https://docs.example.com/start) "
        "or write to help@example.com.\n\n"
        "1. Set {name} and %s in the config.\n"
        "   - Use <code>%(user)s</code> for the user name.\n\n"
        "| Option | Meaning |\n|---|---|\n| verbose | prints more |\n\n" + CODE_BLOCK + "\n\nThat's all, folks!\n"
    )
    p = plan(text)
    out = p.rebuild(shout(p))
    for kept in [
        CODE_BLOCK,
        "`pip install polyglot`",
        "](https://docs.example.com/start)",
        "help@example.com",
        "{name}",
        "%s",
        "<code>%(user)s</code>",
        "## ",
        "\n\n1. ",
        "\n   - ",
        "|---|---|\n| ",
        " | ",
    ]:
        assert kept in out, kept
    for prose in [
        "GETTING STARTED",
        "INSTALL THE PACKAGE WITH",
        "[THE MANUAL](",
        "OR WRITE TO",
        "SET",
        "IN THE CONFIG.",
        "FOR THE USER NAME.",
        "| OPTION | MEANING |",
        "| VERBOSE | PRINTS MORE |",
        "THAT'S ALL, FOLKS!",
    ]:
        assert prose in out, prose
    assert out.count("\n") == text.count("\n")
    # Nothing protected was ever shown to the engine.
    sent = "\n".join(s.text for s in p.segments)
    for hidden in ["pip install", "https://", "help@example.com", "{name}", "%s", "<code>", "def greet", "|", "##"]:
        assert hidden not in sent, hidden


def test_dropped_token_raises_naming_it():
    p = plan("Run `make` and then `make install`.")
    assert [s.text for s in p.segments] == ["Run ⟦0⟧ and then ⟦1⟧."]
    with pytest.raises(ProtectionError, match="missing ⟦1⟧") as err:
        p.rebuild(["Lancez ⟦0⟧ puis installez."])
    assert err.value.missing == ["⟦1⟧"] and err.value.segment == 0
    with pytest.raises(ProtectionError, match="duplicated ⟦0⟧"):
        p.rebuild(["Lancez ⟦0⟧ puis ⟦0⟧ ⟦1⟧."])
    with pytest.raises(ProtectionError, match="unknown ⟦7⟧"):
        p.rebuild(["Lancez ⟦0⟧ puis ⟦1⟧ ⟦7⟧."])
    assert isinstance(ProtectionError(0, [], [], []), ValueError)
    with pytest.raises(ValueError, match="expected 1 translations"):
        p.rebuild([])


def test_tokens_tolerate_engine_spacing():
    p = plan("See [the guide](https://x.org/g) and call `f()`, then {name}.")
    (seg,) = p.segments
    assert seg.text == "See ⟦0⟧the guide⟦1⟧ and call ⟦2⟧, then ⟦3⟧."
    # Spaces an engine added inside glued markup are dropped; moved tokens and spaced brackets are fine.
    out = p.rebuild(["Voir ⟦ 0 ⟧ le guide ⟦1⟧ et appelez ⟦2⟧ , puis⟦3⟧."])
    assert out == "Voir [le guide](https://x.org/g) et appelez `f()`, puis{name}."
    assert plan("Hello {name}!").rebuild(["你好⟦0⟧！"]) == "你好{name}！"


def test_segments_cover_only_natural_language():
    assert plan("").segments == [] and plan("").rebuild([]) == ""
    for name in ["only_code", "only_protected", "punctuation_only", "only_whitespace"]:
        assert plan(TEXTS[name]).segments == [], name
    p = plan(TEXTS["table"])
    assert [s.text for s in p.segments] == [
        "Country",
        "Capital",
        "France",
        "Paris",
        "Germany",
        "Berlin",
        "Pipe \\| escaped",
    ]
    assert [s.text for s in plan(TEXTS["table_no_outer_pipes"]).segments] == ["Name", "Age", "Alice", "Bob"]
    assert [s.text for s in plan(TEXTS["nested_lists"]).segments] == [
        "Fruits",
        "Apples are red.",
        "Bananas",
        "Yellow ones",
        "Vegetables",
        "todo item",
        "done item",
    ]
    assert [s.text for s in plan(TEXTS["headings"]).segments] == [
        "Title",
        "Section one",
        "Some text.",
        "Third level",
        "####### not a heading",
    ]
    assert [s.text for s in plan(TEXTS["crlf"]).segments] == ["First line.", "item one", "item two", "End."]
    assert [s.text for s in plan(TEXTS["unclosed_fence"]).segments] == ["Example:"]
    assert [s.text for s in plan(TEXTS["long_fence"]).segments] == ["Nested:", "After the block."]
    p = plan(TEXTS["token_lookalikes"])
    assert p.segments[0].spans[:2] == ("⟦0⟧", "⟦ 1 ⟧")
    assert p.rebuild(shout(p)) == TEXTS["token_lookalikes"].upper().replace("`CODE`", "`code`")


def test_inline_spans_become_tokens():
    cases = {
        "Open https://example.com/a?b=1.": ("Open ⟦0⟧.", ("https://example.com/a?b=1",)),
        "Mail a.b+c@mail.example.org today.": ("Mail ⟦0⟧ today.", ("a.b+c@mail.example.org",)),
        "Say {greeting} to {0} and {{user}}.": ("Say ⟦0⟧ to ⟦1⟧ and ⟦2⟧.", ("{greeting}", "{0}", "{{user}}")),
        "Got %d of %s at %.2f and %(n)s.": ("Got ⟦0⟧ of ⟦1⟧ at ⟦2⟧ and ⟦3⟧.", ("%d", "%s", "%.2f", "%(n)s")),
        "Line<br/>break and <em>stress</em>.": ("Line⟦0⟧break and ⟦1⟧stress⟦2⟧.", ("<br/>", "<em>", "</em>")),
        "A [link](http://x.y/z_(q)) here.": ("A ⟦0⟧link⟦1⟧ here.", ("[", "](http://x.y/z_(q))")),
        "It is 50% off, 100 % sure.": ("It is 50% off, 100 % sure.", ()),
        "Compare a < b and c > d.": ("Compare a < b and c > d.", ()),
    }
    for text, (expected, spans) in cases.items():
        (seg,) = plan(text).segments
        assert (seg.text, seg.spans) == (expected, spans), text


def test_long_paragraphs_are_split_into_sentence_groups():
    sentences = [
        "The first sentence is here.",
        "Pi is about 3.14 and e is about 2.72!",
        "Is it true?",
        "Yes, e.g. in maths, i.e. always.",
        "Dr. Who agrees, etc. and so on.",
        "Short one…",
        "最后一句。",
    ]
    text = "  ".join(sentences[:5]) + " " + "\t".join(sentences[5:])
    assert [s.text for s in plan(text, max_chars=1).segments] == sentences  # one sentence per segment
    p = plan(text, max_chars=60)
    assert p.rebuild(identity(p)) == text
    texts = [s.text for s in p.segments]
    assert texts == [
        "The first sentence is here.",
        "Pi is about 3.14 and e is about 2.72!  Is it true?",
        "Yes, e.g. in maths, i.e. always.",
        "Dr. Who agrees, etc. and so on. Short one…\t最后一句。",
    ]
    assert all(len(t) <= 60 for t in texts)
    assert p.parts == [0, "  ", 1, "  ", 2, "  ", 3]  # whitespace between groups stays outside the segments
    assert [s.text for s in plan(text).segments] == [text]  # short enough: one segment
    long_sentence = "word " * 100 + "end."
    assert [s.text for s in plan(long_sentence + " Next one.", max_chars=50).segments] == [long_sentence, "Next one."]
    assert [s.text for s in plan(TEXTS["abbreviations"], max_chars=1).segments] == [
        "Dr. Smith met Mr. Jones at 3.14 p.m., e.g. at noon, i.e. early.",
        "They left etc. Then U.S. Army came.",
    ]
    # Chinese full stops need no following space.
    assert [s.text for s in plan("你好。世界！再见？", max_chars=3).segments] == ["你好。", "世界！", "再见？"]


def test_segment_is_frozen_and_plan_shape():
    seg = Segment("Hi ⟦0⟧", ("`x`",))
    with pytest.raises(AttributeError):
        seg.text = "other"  # type: ignore[misc]
    assert seg.restore("Salut ⟦0⟧") == "Salut `x`"
    p = plan("- one\n- two")
    assert all(isinstance(part, (str, int)) for part in p.parts)
    assert p.rebuild(["un", "deux"]) == "- un\n- deux"


def test_numbers_normalised():
    assert numbers("It costs $1,000 and 0.75 kg") == numbers("Il coûte 1 000 $ et 0,75 kg") == {"1000": 1, "0.75": 1}
    assert numbers("1.000 und 1\u202f000 und 1'000") == {"1000": 3}
    assert numbers("1,234,567.89 vs 1.234.567,89") == {"1234567.89": 2}
    assert numbers("3.14, 0,5, 2.50, version 1.2.3") == {"3.14": 1, "0.5": 1, "2.5": 1, "1": 1, "2": 1, "3": 1}
    assert numbers("in 2023 100 people; list 1,2,3") == {"2023": 1, "100": 1, "1": 1, "2": 1, "3": 1}
    assert numbers("٣ apples") == {"3": 1}
    assert numbers("no digits here") == {}


def test_numbers_preserved():
    assert numbers_preserved("It costs $1,000 and 0.75 kg", "Il coûte 1 000 $ et 0,75 kg")
    assert numbers_preserved("Buy 2 apples and 2 pears.", "Kaufe 2 Äpfel und 2 Birnen.")
    assert not numbers_preserved("It costs $1,000 and 0.75 kg", "Il coûte 1 000 $")
    assert not numbers_preserved("It costs $1,000 and 0.75 kg", "Il coûte 100 $ et 0,75 kg")
    assert not numbers_preserved("It costs $1,000 and 0.75 kg", "Il coûte 1 000 $ et 0,7 kg")
    assert not numbers_preserved("Buy 2 apples and 2 pears.", "Kaufe 2 Äpfel und Birnen.")
    assert numbers_preserved("Text without numbers.", "Texte sans nombres.")
