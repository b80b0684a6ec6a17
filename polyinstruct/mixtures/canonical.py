"""Lines already in `polyinstruct.io.dumps`'s form: their kept fields are a prefix of the line, cut as bytes.

A mixture writes `dumps({k: record[k] for k in KEEP_FIELDS if k in record})` for every chosen record. When
the line in the part file was itself written by `dumps` (as the pipeline writes every part file) and its
kept fields are strings that come first, in KEEP_FIELDS order, that output is the line's first bytes up to
the end of the last kept field, and `}`. `cuts` finds those lines with NumPy on the raw bytes of a block,
without decoding a record: for every line the offset where its kept prefix ends, or -1 when the line is not
of that form and must be encoded from its parsed fields (the caller's exact path). A line is cut only when

- it begins `{"` and its kept fields are the leading keys, each once, in KEEP_FIELDS order, each followed by
  exactly `": "`, a string, and `, "` (the next key) or the line's final `}`;
- every escape in its kept prefix is one `json.dumps(..., ensure_ascii=False)` writes (`\\"`, `\\\\`,
  `\\n`, `\\r`, `\\t`, `\\b`, `\\f`, and `\\u00XX` in lowercase for the other control characters), so the
  decoded string encodes back to the same bytes;
- no string after the cut (a later field, nested keys and values) is the name of a kept field, so no kept
  field appears again after the others (a duplicate key `json.loads` would take the last of).

The caller has already checked the block is valid JSON, one object per line, valid UTF-8 (the parser),
so a line's quotes pair up into its strings once the escaped ones are set aside.
"""

from __future__ import annotations

import numpy as np

QUOTE, BACKSLASH = 34, 92
_SIMPLE = np.zeros(256, dtype=bool)  # the byte after a backslash of an escape dumps writes as is
_SIMPLE[np.frombuffer(b'"\\nrtbf', dtype=np.uint8)] = True
_HEX_VALUE = np.full(256, -1, dtype=np.int64)  # lowercase hex digits only, as dumps writes them
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16)
_UNICODE_CONTROL = np.ones(32, dtype=bool)  # the control characters dumps writes as \u00XX
_UNICODE_CONTROL[[8, 9, 10, 12, 13]] = False  # written \b \t \n \f \r
PAD = 16  # bytes after the data, so that reading a word past a line's end stays inside the buffer


def _line_of(starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return np.searchsorted(starts, positions, side="right") - 1


def _escapes(a: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of escaped quotes, lines holding an escape dumps would not write)."""
    slashes = np.flatnonzero(a == BACKSLASH)
    if not len(slashes):
        return slashes, slashes
    # in a run of backslashes, the 1st, 3rd, ... begin an escape (the others are escaped)
    run_start = np.ones(len(slashes), dtype=bool)
    run_start[1:] = slashes[1:] != slashes[:-1] + 1
    first = np.flatnonzero(run_start)
    rank = np.arange(len(slashes)) - first[np.cumsum(run_start) - 1]
    esc = slashes[rank % 2 == 0]
    after = a[esc + 1]
    unicode = np.flatnonzero(after == ord("u"))
    u = esc[unicode]
    high, low = _HEX_VALUE[a[u + 4]], _HEX_VALUE[a[u + 5]]
    control = (a[u + 2] == ord("0")) & (a[u + 3] == ord("0")) & (high >= 0) & (high <= 1) & (low >= 0)
    control[control] = _UNICODE_CONTROL[high[control] * 16 + low[control]]
    fine = _SIMPLE[after]
    fine[unicode] = control
    odd = esc[~fine]
    lines = _line_of(starts, odd)
    return esc[after == QUOTE] + 1, np.unique(lines[(lines >= 0) & (odd < ends[np.maximum(lines, 0)])])


def _names(keep: tuple[str, ...]):
    """Each name as (length, its first 8 bytes as a little-endian word masked to its length, its last 8 bytes
    when it is longer than 8), and which (string length, first byte) pairs are a name's."""
    names, lengths = [], np.zeros((256, 256), dtype=bool)
    for name in (k.encode() for k in keep):
        head = int.from_bytes(name[:8].ljust(8, b"\0"), "little")
        tail = int.from_bytes(name[-8:], "little") if len(name) > 8 else 0
        names.append((len(name), np.uint64((1 << 8 * min(len(name), 8)) - 1), np.uint64(head), np.uint64(tail)))
        lengths[len(name), name[0]] = True
    return names, lengths


def _words(w: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian 8-byte words at byte offsets `at` of the buffer whose aligned words are `w`."""
    i, shift = at >> 3, ((at & 7) * 8).astype(np.uint64)
    low = w[i] >> shift
    high = np.where(shift == 0, np.uint64(0), w[i + 1] << (np.uint64(64) - shift))
    return low | high


def cuts(data: bytes, starts: np.ndarray, ends: np.ndarray, keep: tuple[str, ...]) -> np.ndarray:
    """For every line [starts[i], ends[i]) of `data`: the offset where its `keep` prefix ends (the byte
    after the last kept value's closing quote), or -1 when the line is not of the form the module describes."""
    n = len(starts)
    out = np.full(n, -1, dtype=np.int64)
    if not n:
        return out
    padded = np.frombuffer(data + bytes(PAD + (-len(data)) % 8), dtype=np.uint8)
    a, w = padded[: len(data)], padded.view("<u8")
    escaped, odd_lines = _escapes(padded, starts, ends)
    is_quote = a == QUOTE
    is_quote[escaped] = False
    quotes = np.flatnonzero(is_quote)
    q_first = np.searchsorted(quotes, starts)
    q_end = np.searchsorted(quotes, ends)
    ok = (a[starts] == ord("{")) & (q_end > q_first + 3)
    ok[odd_lines] = False
    ok[ok] = quotes[q_first[ok]] == starts[ok] + 1
    names, name_lengths = _names(keep)
    name_pairs = name_lengths.ravel()  # length * 256 + first byte

    def rank_of(opens: np.ndarray, closes: np.ndarray) -> np.ndarray:
        """The index in `keep` of the string between each open and close quote, or -1."""
        rank = np.full(len(opens), -1, dtype=np.int64)
        length = closes - opens - 1
        maybe = np.flatnonzero(name_pairs[np.minimum(length, 255) * 256 + padded[opens + 1]])
        head, size = _words(w, opens[maybe] + 1), length[maybe]
        for r, (name_size, mask, first8, last8) in enumerate(names):
            hit = (size == name_size) & ((head & mask) == first8)
            if name_size > 8:
                hit[hit] = _words(w, closes[maybe[hit]] - 8) == last8
            rank[maybe[hit]] = r
        return rank

    lines = np.flatnonzero(ok)
    ptr = q_first[lines]  # the index in `quotes` of the current key's opening quote
    last = np.full(len(lines), -1, dtype=np.int64)
    prefix_end = np.full(n, -1, dtype=np.int64)
    for step in range(len(keep) + 1):
        if not len(lines):
            break
        has_key = ptr + 1 < q_end[lines]
        lines, ptr, last = lines[has_key], ptr[has_key], last[has_key]
        k_open, k_close = quotes[ptr], quotes[ptr + 1]
        rank = rank_of(k_open, k_close)
        other = rank < 0  # a field not kept: the prefix ends before its `, "`
        stop = lines[other & (step > 0)]
        prefix_end[stop] = k_open[other & (step > 0)] - 2
        go = ~other & (rank > last) & (ptr + 3 < q_end[lines])
        lines, ptr, rank, k_close = lines[go], ptr[go], rank[go], k_close[go]
        v_open = quotes[ptr + 2]
        v_close = quotes[ptr + 3]
        shaped = (a[k_close + 1] == ord(":")) & (a[k_close + 2] == ord(" ")) & (v_open == k_close + 3)
        after = a[np.minimum(v_close + 1, len(a) - 1)]
        final = shaped & (after == ord("}")) & (v_close + 2 == ends[lines])
        prefix_end[lines[final]] = v_close[final] + 1
        more = shaped & (after == ord(",")) & (a[np.minimum(v_close + 2, len(a) - 1)] == ord(" "))
        more &= ptr + 4 < q_end[lines]
        more[more] = quotes[ptr[more] + 4] == v_close[more] + 3
        lines, ptr, last = lines[more], ptr[more] + 4, rank[more]
    # no kept name among the strings after the prefix: pair each line's quotes into strings
    cut = np.flatnonzero(prefix_end >= 0)
    tail_lines = cut[prefix_end[cut] < ends[cut] - 1]
    if len(tail_lines):
        first = np.searchsorted(quotes, prefix_end[tail_lines])
        count = (q_end[tail_lines] - first) // 2
        total = int(count.sum())
        if total:
            base = np.repeat(first - 2 * (np.cumsum(count) - count), count)
            opens_at = base + 2 * np.arange(total)
            clash = rank_of(quotes[opens_at], quotes[opens_at + 1]) >= 0
            prefix_end[np.repeat(tail_lines, count)[clash]] = -1
    out[:] = prefix_end
    return out
