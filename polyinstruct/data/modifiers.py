"""Task modifiers (Chirkova & Nikoulina): what each one asks, and a rule check of whether it was done.

A modifier is a dict {"name": ..., params...}. Eight of them can be checked by rule (`capitalise` is
ALL CAPS; `capitalise_words` is their "Capitalize each first letter in the answer", the released
`cap_template`); the others (scientific style, simple words, two-hop) are reported as
`not_rule_checkable` and counted, never scored as fulfilled or failed. An `answer_in_language`
modifier also changes the language a response is expected in (`records.expected_language`), which
language ID, language gating, spelling and the judge prompts all follow.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser

from polyinstruct import languages
from polyinstruct.io import InputError

#: name -> required parameters (name -> type)
MODIFIERS: dict[str, dict[str, type]] = {
    "brief": {},
    "detailed": {},
    "list_items": {"n": int},
    "answer_in_language": {"lang": str},
    "markdown": {},
    "html": {},
    "arrow_bullets": {},
    "capitalise": {},
    "capitalise_words": {},
    "scientific_style": {},
    "simple_words": {},
    "two_hop": {},
}
RULE_CHECKED = (
    "brief",
    "detailed",
    "list_items",
    "answer_in_language",
    "markdown",
    "html",
    "arrow_bullets",
    "capitalise",
    "capitalise_words",
)

#: Defaults for the length and capitalisation rules (config key `surface.modifiers`).
DEFAULT_RULES = {
    "brief_max_words": 60,
    "detailed_min_words": 150,
    "capitalise_min_upper_share": 0.95,
    "capitalise_words_min_share": 0.95,
}

LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+\S", re.MULTILINE)
ARROW_ITEM = re.compile(r"^\s*->\s*\S", re.MULTILINE)
MARKDOWN = (
    re.compile(r"^#{1,6}\s+\S", re.MULTILINE),  # heading
    re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),  # bold
    re.compile(r"^\s*[-*+]\s+\S", re.MULTILINE),  # bullet list
    re.compile(r"^\s*\d{1,3}\.\s+\S", re.MULTILINE),  # numbered list
    re.compile(r"^```", re.MULTILINE),  # code fence
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),  # link
    re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|", re.MULTILINE),  # table rule
)
HTML_ELEMENTS = frozenset(
    [
        "a",
        "abbr",
        "article",
        "b",
        "blockquote",
        "body",
        "br",
        "code",
        "div",
        "em",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "i",
        "img",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "title",
        "tr",
        "u",
        "ul",
    ]
)
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def normalise(raw, where: str) -> dict:
    """A modifier as written in an eval file ("brief" or {"name": "list_items", "n": 5}), checked."""
    modifier = {"name": raw} if isinstance(raw, str) else raw
    if not isinstance(modifier, dict) or not isinstance(modifier.get("name"), str):
        raise InputError(f"{where}: modifier must be a name or an object with a 'name', got {raw!r}")
    name = modifier["name"]
    if name not in MODIFIERS:
        raise InputError(f"{where}: unknown modifier '{name}' (one of {', '.join(MODIFIERS)})")
    for param, kind in MODIFIERS[name].items():
        value = modifier.get(param)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"{where}: modifier '{name}' needs '{param}' ({kind.__name__}), got {value!r}")
    if name == "list_items" and modifier["n"] < 1:
        raise InputError(f"{where}: modifier 'list_items' needs n >= 1, got {modifier['n']}")
    if name == "answer_in_language":
        try:
            modifier = {**modifier, "lang": languages.get(modifier["lang"]).code}
        except languages.UnknownLanguageError as exc:
            raise InputError(f"{where}: modifier 'answer_in_language': {exc}") from None
    return modifier


#: Task types of Chirkova & Nikoulina's released modifier files (`modifiers.<lang>.types`) -> modifier names.
TASK_TYPE_MODIFIERS = {
    "short": "brief",
    "long": "detailed",
    "markdown_template": "markdown",
    "html_template": "html",
    "arrow_template": "arrow_bullets",
    "cap_template": "capitalise_words",  # "Capitalize each first letter in the answer."
    "scientific_style": "scientific_style",
    "simple_style": "simple_words",
    "complex_inst": "two_hop",
}


def from_task_type(task_type: str) -> dict | None:
    """The modifier a released task type names (`short`, `num_items_7`, `lang_de`, ...), None for other types."""
    if task_type in TASK_TYPE_MODIFIERS:
        return {"name": TASK_TYPE_MODIFIERS[task_type]}
    if match := re.fullmatch(r"num_items_(\d+)", task_type):
        return {"name": "list_items", "n": int(match.group(1))}
    if task_type.startswith("lang_"):
        try:
            return {"name": "answer_in_language", "lang": languages.get(task_type[len("lang_") :]).code}
        except languages.UnknownLanguageError:
            return None
    return None


def count_words(text: str) -> int:
    return len(WORD.findall(text))


def count_list_items(text: str) -> int:
    """Bulleted or numbered lines (`- x`, `* x`, `• x`, `1. x`, `1) x`); `->` bullets count too."""
    return len(LIST_ITEM.findall(text)) + len(ARROW_ITEM.findall(text))


class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def html_tags(text: str) -> list[str]:
    """Known HTML element names opened in `text` (so `a < b > c` is not HTML)."""
    parser = _TagCollector()
    parser.feed(text)
    parser.close()
    return [t for t in parser.tags if t in HTML_ELEMENTS]


def word_initial_upper_share(text: str) -> float | None:
    """Share of words whose first letter is upper case (words starting with a cased letter); None if none."""
    initials = [w[0] for w in WORD.findall(text) if w[0].isupper() or w[0].islower()]
    return sum(c.isupper() for c in initials) / len(initials) if initials else None


def upper_share(text: str) -> float | None:
    """Share of cased letters that are upper case; None when the text has no cased letter."""
    cased = [c for c in text if c.isupper() or c.islower()]
    return sum(c.isupper() for c in cased) / len(cased) if cased else None


def check(modifier: dict, response: str, *, predicted_lang: str | None = None, rules: dict | None = None) -> dict:
    """Whether `response` does what `modifier` asks: {fulfilled: bool | None, reason, measured}.

    `predicted_lang` is the language-ID code of the response (needed for answer_in_language only).
    """
    rules = {**DEFAULT_RULES, **(rules or {})}
    name = modifier["name"]
    if name == "brief":
        words = count_words(response)
        return _result(words <= rules["brief_max_words"], words)
    if name == "detailed":
        words = count_words(response)
        return _result(words >= rules["detailed_min_words"], words)
    if name == "list_items":
        items = count_list_items(response)
        return _result(items == modifier["n"], items)
    if name == "answer_in_language":
        if predicted_lang is None:
            raise ValueError("answer_in_language needs the response's language-ID prediction (predicted_lang)")
        from polyinstruct.score.langid import same_language

        return _result(
            languages.is_known(predicted_lang) and same_language(predicted_lang, modifier["lang"]), predicted_lang
        )
    if name == "html":
        tags = html_tags(response)
        return _result(bool(tags), len(tags))
    if name == "markdown":
        found = sum(bool(pattern.search(response)) for pattern in MARKDOWN)
        return _result(found > 0 and not html_tags(response), found)
    if name == "arrow_bullets":
        arrows, others = len(ARROW_ITEM.findall(response)), len(LIST_ITEM.findall(response))
        return _result(arrows > 0 and others == 0, arrows)
    if name == "capitalise":
        share = upper_share(response)
        return _result(share is not None and share >= rules["capitalise_min_upper_share"], share)
    if name == "capitalise_words":
        share = word_initial_upper_share(response)
        return _result(share is not None and share >= rules["capitalise_words_min_share"], share)
    return {"fulfilled": None, "reason": "not_rule_checkable", "measured": None}


def _result(fulfilled: bool, measured) -> dict:
    return {"fulfilled": bool(fulfilled), "reason": None, "measured": measured}


def fulfilment_rows(
    records: list[dict], langid_rows: list[dict] | None = None, rules: dict | None = None
) -> list[dict]:
    """One row per modified eval record (first turn's response), with the check's outcome.

    `langid_rows` are `langid.response_rows` output; they are required only when some record asks
    for an answer in a given language, and a record missing from them is an error.
    """
    predicted = {row["id"]: row["predicted"][0] if row["predicted"] else None for row in langid_rows or []}
    rows = []
    for record in records:
        modifier = record.get("modifier")
        if not modifier:
            continue
        lang = None
        if modifier["name"] == "answer_in_language":
            if record["id"] not in predicted:
                raise InputError(
                    f"record '{record['id']}': no language-ID row for its response (answer_in_language needs one)"
                )
            lang = predicted[record["id"]] or ""
        outcome = check(modifier, record["responses"][0], predicted_lang=lang, rules=rules)
        rows.append({"id": record["id"], "lang": record["lang"], "modifier": modifier["name"], **outcome})
    return rows


def fulfilment_by_modifier(rows: list[dict]) -> dict[str, dict]:
    """{modifier: {n, checked, fulfilled, rate, not_rule_checkable}}, modifiers sorted by name."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["modifier"]].append(row)
    out = {}
    for name in sorted(groups):
        checked = [r for r in groups[name] if r["fulfilled"] is not None]
        done = sum(r["fulfilled"] for r in checked)
        out[name] = {
            "n": len(groups[name]),
            "checked": len(checked),
            "fulfilled": done,
            "rate": done / len(checked) if checked else None,
            "not_rule_checkable": len(groups[name]) - len(checked),
        }
    return out
