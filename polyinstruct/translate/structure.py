"""Cut instruction text into translatable segments and protected structure.

MT engines mangle code, URLs, placeholders and markdown markup. `plan` keeps all of that out of
what an engine sees: fenced code blocks and line/table markup stay outside the segments, inline
spans inside a segment become tokens (``⟦0⟧``) that engines tend to copy, and `Plan.rebuild` puts
the translated segments back with every protected span restored byte for byte.
`numbers_preserved` is the companion check that a translation kept the source's numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

TOKEN_RE = re.compile(r"⟦\s*(\d+)\s*⟧")  # tolerant: engines sometimes write "⟦ 0 ⟧"
_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_PREFIX = re.compile(
    r"[ \t]*(?:>[ \t]?)*(?:#{1,6}(?=[ \t]|$)[ \t]*"
    r"|(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?)?"
)
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$")
_TABLE_SEP = re.compile(r"[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?\|?[ \t]*")
_CELL_PIPE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)|\\\||(\|)")  # a bare pipe, not in code, not escaped
_URL_CHAR = r"(?:\([^\s()<>]*\)|[^\s()<>\"'`])"
_PROTECT = re.compile(
    "|".join(
        [
            r"(`+)(?!`).*?(?<!`)\1(?!`)",  # inline code
            r"⟦\s*\d+\s*⟧",  # token look-alikes in the source
            r"!?\[(?=[^\]\n]{0,500}\]\()",  # link opener (text is translated)
            r"\]\((?:\([^()\s]*\)|[^()\s])*(?:\s+\"[^\"]*\")?\)",  # link target
            rf"(?:(?:https?|ftp)://|www\.){_URL_CHAR}*(?:\([^\s()<>]*\)|[^\s()<>\"'`.,;:!?\]])",  # URL
            r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+",  # e-mail
            r"\{\{[^{}\n]*\}\}|\{\w*(?:[.\[][\w\]]*)*(?:![rsa])?(?::[^{}\s]*)?\}",  # {name} {0} {{name}}
            r"%(?:\(\w+\))?[-+#0]*(?:\d+|\*)?(?:\.\d+)?[sdifFeEgGxXoc](?![A-Za-z])",  # printf
            r"<!--.*?-->|</?[A-Za-z][\w:-]*(?:\s+[\w:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*\s*/?>",
        ]
    )
)
_BREAK = re.compile(r"[.!?…]+[\"'”’»)\]]*(\s+)|[。！？]+[\"'”’」』）)]*(\s*)")
_ABBREVIATIONS = {
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "dr.",
    "mr.",
    "mrs.",
    "ms.",
    "prof.",
    "st.",
    "jr.",
    "sr.",
    "no.",
    "nr.",
    "fig.",
    "approx.",
    "cf.",
    "al.",
    "inc.",
    "ltd.",
    "co.",
    "ca.",
    "mt.",
    "z.b.",
    "d.h.",
    "usw.",
    "bzw.",
    "vgl.",
    "p.ex.",
    "env.",
    "etw.",
    "т.е.",
    "т.д.",
    "др.",
}
_LETTER = re.compile(r"[^\W\d_]")


class ProtectionError(ValueError):
    """A translation lost, duplicated or invented a placeholder token, so a protected span can't be restored."""

    def __init__(self, segment: int, missing: list[str], duplicated: list[str], unknown: list[str]):
        self.segment, self.missing, self.duplicated, self.unknown = segment, missing, duplicated, unknown
        problems = [
            f"{what} {', '.join(tokens)}"
            for what, tokens in (("missing", missing), ("duplicated", duplicated), ("unknown", unknown))
            if tokens
        ]
        super().__init__(f"segment {segment}: placeholder token(s) {'; '.join(problems)}")


@dataclass(frozen=True)
class Segment:
    """Text for the engine; `spans[i]` is the source text behind token ``⟦i⟧``."""

    text: str
    spans: tuple[str, ...] = ()

    def restore(self, translation: str, index: int = 0) -> str:
        """Swap tokens in `translation` back for their spans.

        Where a token touched its neighbour in the source (a link's "[" and "](url)", "`x`,") spaces
        an engine put between them are dropped, so markup stays well-formed; other spacing is the
        engine's choice (it differs between languages). `index` only labels errors.
        """
        found = list(TOKEN_RE.finditer(translation))
        ids = [int(m[1]) for m in found]
        n = len(self.spans)
        missing = [f"⟦{i}⟧" for i in range(n) if i not in ids]
        duplicated = [f"⟦{i}⟧" for i in sorted(set(ids)) if i < n and ids.count(i) > 1]
        unknown = [m[0] for m in found if int(m[1]) >= n]
        if missing or duplicated or unknown:
            raise ProtectionError(index, missing, duplicated, unknown)
        glue = self._glue()
        chunks = [
            translation[a:b]
            for a, b in zip([0] + [m.end() for m in found], [m.start() for m in found] + [len(translation)])
        ]
        out = []
        for j, chunk in enumerate(chunks):
            if j > 0 and glue[ids[j - 1]][1]:
                chunk = chunk.lstrip(" \t")
            if j < len(found) and glue[ids[j]][0]:
                chunk = chunk.rstrip(" \t")
            out.append(chunk)
            if j < len(found):
                out.append(self.spans[ids[j]])
        return "".join(out)

    def _glue(self) -> dict[int, tuple[bool, bool]]:
        """Per token: (no whitespace before it, no whitespace after it) in the source segment."""
        text = self.text
        return {
            int(m[1]): (
                m.start() > 0 and not text[m.start() - 1].isspace(),
                m.end() < len(text) and not text[m.end()].isspace(),
            )
            for m in TOKEN_RE.finditer(text)
        }


@dataclass
class Plan:
    """A text cut into translatable segments and the structure around them."""

    segments: list[Segment]
    parts: list[str | int] = field(default_factory=list)  # literal text, or index into `segments`

    def rebuild(self, translations: list[str]) -> str:
        """The full text with `translations[i]` in place of segment i and all protected spans restored."""
        if len(translations) != len(self.segments):
            raise ValueError(f"expected {len(self.segments)} translations, got {len(translations)}")
        return "".join(p if isinstance(p, str) else self.segments[p].restore(translations[p], p) for p in self.parts)

    def _literal(self, text: str) -> None:
        if text and self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        elif text:
            self.parts.append(text)

    def _text(self, body: str, max_chars: int) -> None:
        """Split one line's (or cell's) text into sentence groups; protect inline spans in each."""
        spans = [m.span() for m in _PROTECT.finditer(body)]
        masked = list(body)
        for a, b in spans:
            masked[a:b] = "_" * (b - a)
        bounds, start = [], 0  # (start, end) of each sentence
        for a, b in _sentence_breaks("".join(masked)):
            bounds.append((start, a))
            start = b
        bounds.append((start, len(body)))
        group_start, group_end = bounds[0][0], bounds[0][1]
        for s, e in bounds[1:]:
            if e - group_start > max_chars:  # greedy: close the group before it grows past max_chars
                self._segment(body, group_start, group_end, spans)
                self._literal(body[group_end:s])
                group_start = s
            group_end = e
        self._segment(body, group_start, group_end, spans)
        self._literal(body[group_end:])

    def _segment(self, body: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
        pieces, protected, plain, pos = [], [], [], start
        for a, b in spans:
            if start <= a and b <= end:
                pieces.append(body[pos:a])
                plain.append(body[pos:a])
                pieces.append(f"⟦{len(protected)}⟧")
                protected.append(body[a:b])
                pos = b
        pieces.append(body[pos:end])
        plain.append(body[pos:end])
        if not _LETTER.search("".join(plain)):  # only code/URLs/punctuation/numbers: nothing to translate
            self._literal(body[start:end])
            return
        self.parts.append(len(self.segments))
        self.segments.append(Segment("".join(pieces), tuple(protected)))


def _sentence_breaks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the whitespace after each sentence end; not after abbreviations or before lower case."""
    breaks = []
    for m in _BREAK.finditer(text):
        a, b = m.span(1) if m[1] is not None else m.span(2)
        if b >= len(text) or (m[1] is not None and a == b):
            continue
        if text[b].islower():
            continue
        if m[0].startswith(".") and not m[0].startswith(".."):
            word = re.search(r"[\w.]*$", text[max(0, m.start() - 16) : m.start()])[0] + "."
            if (
                word.lower() in _ABBREVIATIONS
                or re.fullmatch(r"(?:[^\W\d_]\.){2,}", word)
                or re.fullmatch(r"[^\W\d_]\.", word)
                and word[0].isupper()
            ):
                continue
        breaks.append((a, b))
    return breaks


def _table_lines(lines: list[str], in_code: list[bool]) -> list[bool]:
    """Rows starting with '|', plus pipe-containing runs that have a |---| separator row."""
    table = [not c and ln.lstrip(" \t").startswith("|") for ln, c in zip(lines, in_code)]
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and not in_code[j] and "|" in lines[j]:
            j += 1
        if any(_TABLE_SEP.fullmatch(lines[k]) for k in range(i, j)):
            table[i:j] = [True] * (j - i)
        i = max(j, i + 1)
    return table


def plan(text: str, *, max_chars: int = 400) -> Plan:
    """Cut `text` into segments to translate and structure to keep (see module docstring)."""
    raw = re.findall(r"[^\n]*\n|[^\n]+$", text)
    eols = ["\r\n" if r.endswith("\r\n") else "\n" if r.endswith("\n") else "" for r in raw]
    lines = [r[: len(r) - len(e)] for r, e in zip(raw, eols)]
    in_code, fence = [], None
    for line in lines:
        if fence:
            in_code.append(True)
            if re.fullmatch(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*", line):
                fence = None
            continue
        m = _FENCE_OPEN.fullmatch(line)
        if m and not (m[1][0] == "`" and "`" in m[2]):
            fence = m[1]
        in_code.append(bool(m) and fence is not None)
    table = _table_lines(lines, in_code)
    result = Plan([])
    for line, eol, code, row in zip(lines, eols, in_code, table):
        if code:
            result._literal(line)
        elif row:
            pipes = [m.start() for m in _CELL_PIPE.finditer(line) if m[2]]
            for k, (a, b) in enumerate(zip([-1] + pipes, pipes + [len(line)])):
                cell = line[a + 1 : b]
                if k:
                    result._literal("|")
                body = cell.strip(" \t")
                lead = cell[: len(cell) - len(cell.lstrip(" \t"))]
                result._literal(lead)
                if body:
                    result._text(body, max_chars)
                result._literal(cell[len(lead) + len(body) :])
        else:
            prefix = _PREFIX.match(line)[0]
            rest = line[len(prefix) :]
            body = rest.rstrip(" \t")
            if prefix.lstrip(" \t>").startswith("#") and (close := _HEADING_CLOSE.search(body)):
                body = body[: close.start()]
            result._literal(prefix)
            if body:
                result._text(body, max_chars)
            result._literal(rest[len(body) :])
        result._literal(eol)
    return result


def _digits(s: str) -> str:
    """ASCII digits for any Unicode decimal digits."""
    return "".join(str(unicodedata.decimal(c)) for c in s)


def _normalise(token: str) -> list[str]:
    """'1,000'/'1.000'/'1 000' -> '1000'; '0,75'/'0.75' -> '0.75'; '1.2.3' -> '1','2','3'."""
    parts = re.split(r"(\D)", token)
    groups, seps = parts[0::2], parts[1::2]
    decimal = None
    if seps and seps[-1] in ".,":
        last, others = seps[-1], seps[:-1]
        if others and last not in others:
            decimal = groups[-1]  # '1,234.5', '1 234,5'
        elif not others and (len(groups[1]) != 3 or len(groups[0]) > 3 or _digits(groups[0]) == "0"):
            decimal = groups[-1]  # '0.75', '3.14'; a single 3-digit group after it reads as thousands
    whole = groups[:-1] if decimal is not None else groups
    if (len(whole[0]) <= 3 or len(whole) == 1) and all(len(g) == 3 for g in whole[1:]):
        number = str(int(_digits("".join(whole))))
        fraction = _digits(decimal or "").rstrip("0")
        return [f"{number}.{fraction}" if fraction else number]
    return [str(int(_digits(g))) for g in groups]


def numbers(text: str) -> Counter:
    """The numbers in `text`, normalised so that locale formatting doesn't count as a change."""
    found: Counter = Counter()
    for m in re.finditer(r"\d+(?:(?:[.,'’]|[ \u00a0\u202f\u2009](?=\d{3}(?!\d)))\d+)*", text):
        found.update(_normalise(m[0]))
    return found


def numbers_preserved(source: str, translation: str) -> bool:
    """Every number of the source (with its count) is in the translation; extra numbers are allowed."""
    return not numbers(source) - numbers(translation)
