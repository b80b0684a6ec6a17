"""Mixtures built from the files, streamed: the same bytes as `compose` in a fraction of its time and memory.

`compose.build`/`build_shares` hold every record as a Python dict (3.2M records: about 10 GB) and
parse and re-encode each with `json`. Here the records stay in their files:

1. index: each part file is read in blocks and parsed by Arrow's JSON reader, keeping only the ids,
   languages and tasks (the fields the choice depends on) and the byte span of every record's line; or,
   when the file has its line index (`line_index`, written by the rule that wrote the file) and the index is
   that of the file's bytes, all of this (and where each line's kept prefix ends) is read from the index;
2. choice: the same draws as `compose`, on row numbers instead of dicts: the validation coin per
   distinct id, then `random.Random(f"{seed}:{mixture}:{part}")`'s `sample` and `shuffle`, whose
   result depends only on the length of the list, so the order is the one `compose` gives;
3. output: a chosen line already in `polyinstruct.io.dumps`'s form with its kept fields leading
   (`canonical.cuts` says which, on the raw bytes; a field not kept ahead of a kept one, or a key order
   other than KEEP_FIELDS', is not) is its own bytes up to the end of its last kept field, and `}`,
   taken from the block without decoding; any other chosen line is
   parsed again (only those, block by block) and encoded with `dumps`'s exact format (the
   `compose.KEEP_FIELDS` present, in that order, strings escaped as `json.dumps(..., ensure_ascii=False)`
   escapes them) by vectorised string operations. The lines go to bucket files by output position, and
   each bucket is put in order and appended to the output, so memory holds one bucket, not the mixture.
   Indexed parts of MAPPED_BYTES or less in all whose chosen lines are all cut skip the buckets: the files
   are mapped into memory and each output is gathered from the maps in its order.

Blocks are indexed, and their output lines made, THREADS at a time (Arrow and NumPy release the GIL).

The result is byte-identical to `write_jsonl` of `compose`'s records. Whatever this path cannot
reproduce exactly raises `Unavailable` before any output is written, and the caller builds that
mixture with `compose` instead: a line Arrow reads differently from `json.loads` (not valid UTF-8, a
byte-order mark, carriage returns, two objects on one line, a value `json` accepts and Arrow does not),
a kept field that is not a string (`messages`, numeric ids), an explicit `null` in a kept field, or an
unknown mixture (so that `compose` raises its own error).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import math
import os
import random
import re
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from polyinstruct.io import atomic_path
from polyinstruct.mixtures import canonical, compose, draws, line_index
from polyinstruct.mixtures.compose import KEEP_FIELDS, seeded_rng

log = logging.getLogger(__name__)
BLOCK_BYTES = 8 << 20  # read and parse the files this much at a time
BUCKET_BYTES = 32 << 20  # reorder the output this much at a time
MAPPED_BYTES = 512 << 20  # indexed parts up to this size in all are mapped into memory and gathered from there
GATHER_LINES = 1 << 14  # output lines gathered and written at a time
THREADS = min(2, os.cpu_count() or 1)  # blocks read at once
SELECT_FIELDS = ("id", "lang", "task")  # what the choice reads
_ESCAPE_FROM = ["\\", '"'] + [chr(i) for i in range(32)]
_SHORT = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}
_ESCAPE_TO = ["\\\\", '\\"'] + [_SHORT.get(i, f"\\u{i:04x}") for i in range(32)]
_EXPLICIT_NULL = re.compile(rb'"(?:' + b"|".join(k.encode() for k in KEEP_FIELDS) + rb')"\s*:\s*null')


class Unavailable(Exception):
    """The streaming path cannot reproduce `compose` byte for byte on this input; use `compose`."""


@dataclass
class Part:
    """One input file: where each record's line is, and the fields the choice reads."""

    path: Path
    blocks: list[tuple[int, int, int, int]] = field(default_factory=list)  # (offset, size, first row, rows)
    starts: np.ndarray = None  # byte offset of every record's line in the file
    ends: np.ndarray = None
    columns: dict = field(default_factory=dict)  # SELECT_FIELDS -> pyarrow array
    cuts: np.ndarray = None  # from the line index: where each line's kept prefix ends, or -1 (canonical.cuts)

    def __len__(self) -> int:
        return len(self.starts)


def _blocks(path: Path):
    """(file offset, bytes) of consecutive whole-line blocks of about BLOCK_BYTES."""
    with open(path, "rb") as fh:
        offset, rest = 0, b""
        while True:
            chunk = fh.read(BLOCK_BYTES)
            data = rest + chunk
            if not chunk:
                if data:
                    yield offset, data
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            yield offset, data[:cut]
            offset += cut
            rest = data[cut:]


def _lines(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the lines of `data` that hold something (not only spaces and tabs)."""
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [len(data)]])
    keep = ends > starts
    for i in np.flatnonzero(
        keep & np.isin(np.frombuffer(data, dtype=np.uint8)[np.minimum(starts, len(data) - 1)], (9, 32))
    ):
        keep[i] = bool(data[starts[i] : ends[i]].strip(b" \t"))
    return starts[keep], ends[keep]


def _check_bytes(data: bytes, path: Path) -> None:
    """What `open(path, encoding="utf-8")` + `json.loads` per line would read differently from Arrow."""
    if b"\r" in data:
        raise Unavailable(f"{path}: carriage returns (Python splits lines there)")
    if b"\xef\xbb\xbf" in data:
        raise Unavailable(f"{path}: a byte-order mark")
    import pyarrow as pa

    text = pa.Array.from_buffers(
        pa.large_utf8(), 1, [None, pa.py_buffer(np.array([0, len(data)], np.int64)), pa.py_buffer(data)]
    )
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        raise Unavailable(f"{path}: not UTF-8") from None


def _parse(data: bytes, names, path: Path, rows: int, threads: bool = True):
    """Arrow's reading of JSON lines as string columns `names`, checked to be one row per line."""
    import pyarrow as pa
    import pyarrow.json as pj

    schema = pa.schema([(name, pa.string()) for name in names])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(use_threads=threads, block_size=1 << 22),
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Unavailable(f"{path}: {str(exc).splitlines()[0]}") from None
    if table.num_rows != rows:
        raise Unavailable(f"{path}: {table.num_rows} JSON objects on {rows} lines")
    return table


def _index_block(offset: int, data: bytes, path: Path, with_cuts: bool = False):
    """One block's line spans, and its ids, languages and tasks (checked as Arrow reads them); `with_cuts`:
    and where each line's kept prefix ends in the file (`canonical.cuts`, or -1)."""
    _check_bytes(data, path)
    s, e = _lines(data)
    table = _parse(data, SELECT_FIELDS, path, len(s), threads=False)
    cuts = None
    if with_cuts:
        found = canonical.cuts(data, s, e, KEEP_FIELDS)
        cuts = np.where(found >= 0, found + offset, -1)
    return offset, len(data), s + offset, e + offset, table, cuts


def _ahead(calls):
    """The results of `calls` (tuples: a function and its arguments), in order, computed THREADS at a time
    (NumPy and Arrow release the GIL), with at most 2 x THREADS of them under way."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        pending = deque()
        for call in calls:
            pending.append(pool.submit(*call))
            if len(pending) >= 2 * THREADS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _indexed_blocks(path: Path, with_cuts: bool = False):
    """_index_block of every block of `path`, in order (`_ahead`)."""
    return _ahead((_index_block, offset, data, path, with_cuts) for offset, data in _blocks(path))


def block_spans(starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Part.blocks for lines at `starts`/`ends`: consecutive whole lines of about BLOCK_BYTES each."""
    if not len(starts):
        return []
    firsts = np.unique(np.searchsorted(starts, np.arange(int(starts[0]), int(ends[-1]), BLOCK_BYTES)))
    lasts = np.append(firsts[1:], len(starts)) - 1
    return [
        (int(starts[a]), int(ends[b]) + 1 - int(starts[a]), int(a), int(b - a + 1))
        for a, b in zip(firsts.tolist(), lasts.tolist())
    ]


def index(path: str | os.PathLike, saved: bool = True, with_cuts: bool = False) -> Part:
    """Read one part file's ids, languages and tasks and its line spans (step 1); from its line index when
    `saved` and the index is that of the file's bytes (`line_index.load`). `with_cuts`: a file read here gets
    its `Part.cuts` too (what its line index holds)."""
    import pyarrow as pa

    if saved:
        try:
            columns = line_index.load(path)
        except line_index.Unstreamable as reason:
            raise Unavailable(str(reason)) from None
        if columns is not None:
            part = Part(Path(path))
            part.starts, part.ends, part.cuts = columns["start"], columns["end"], columns["cut"]
            part.columns = {name: columns[name] for name in SELECT_FIELDS}
            part.blocks = block_spans(part.starts, part.ends)
            return part
    part = Part(Path(path))
    starts, ends, cuts, chunks = [], [], [], {name: [] for name in SELECT_FIELDS}
    rows = 0
    for offset, size, s, e, table, c in _indexed_blocks(part.path, with_cuts):
        for name in SELECT_FIELDS:
            chunks[name].extend(table.column(name).chunks)
        part.blocks.append((offset, size, rows, len(s)))
        starts.append(s)
        ends.append(e)
        cuts.append(c)
        rows += len(s)
    empty = np.zeros(0, np.int64)
    part.starts, part.ends = (np.concatenate(x) if x else empty for x in (starts, ends))
    if with_cuts:
        part.cuts = np.concatenate(cuts) if cuts else empty
    for name in SELECT_FIELDS:
        part.columns[name] = pa.chunked_array(chunks[name], pa.string()).combine_chunks()
    for name in ("id", "lang"):
        if part.columns[name].null_count:
            raise Unavailable(f"{path}: a record without '{name}' (or with null)")
    return part


def write_index(records: str | os.PathLike, out: str | os.PathLike | None = None) -> dict:
    """Index the part file `records` (step 1 and `canonical.cuts`) and save it as its line index (`line_index`) to
    `out` (default `line_index.path_for(records)`); returns {"lines", "cut", "unavailable"}: lines indexed, lines
    cut as bytes, and why the file cannot be streamed (None when it can)."""
    out = out or line_index.path_for(records)
    try:
        part = index(records, saved=False, with_cuts=True)  # one pass over the file
    except Unavailable as reason:
        line_index.save(records, out, None, str(reason))
        return {"lines": 0, "cut": 0, "unavailable": str(reason)}
    columns = {"start": part.starts, "end": part.ends, "cut": part.cuts}
    columns.update((name, part.columns[name]) for name in SELECT_FIELDS)
    line_index.save(records, out, columns)
    return {"lines": len(part), "cut": int((part.cuts >= 0).sum()), "unavailable": None}


# ---- the choice (step 2): compose's draws on row numbers --------------------------------------------


def _coins(table: _Rows, seed: int, fraction: float) -> list[np.ndarray]:
    """compose.is_validation of every record of every part, computed once per distinct id."""
    if not table.parts:
        return []
    # sha256(f"{seed}:{id}") as a copy of the prefix's hash fed each id's bytes straight from Arrow's buffer
    data, offsets = _spans(table.id_dictionary)
    seeded, digests = hashlib.sha256(f"{seed}:".encode()), []
    for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist()):
        h = seeded.copy()
        h.update(data[a:b])
        digests.append(h.digest())
    digests = b"".join(digests)
    # the first 8 bytes, big-endian, as a float (rounded as Python's int -> float) over 2**64
    first8 = np.frombuffer(digests, dtype=">u8").reshape(-1, 4)[:, 0].astype(np.float64)
    coin = first8 / 2.0**64 < fraction
    flags = coin[table.id_codes]
    return [flags[table.offsets[k] : table.offsets[k + 1]] for k in range(len(table.parts))]


def _split(rows: np.ndarray, coins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return rows[~coins], rows[coins]


def _shuffled(rng: random.Random, rows: np.ndarray) -> np.ndarray:
    """rows in the order rng.shuffle(list(rows)) leaves them."""
    return rows[draws.permutation(rng, len(rows))]


def _sampled(by_lang: dict[str, np.ndarray], languages: list[str], rng: random.Random, ids) -> np.ndarray:
    """compose._sampled on row numbers (`ids`: the record id of every row, an Arrow string array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    m = len(languages)
    ordered = {}  # language -> (its ids sorted as Python sorts str, its rows in that order)
    for lang in languages:
        rows = pa.array(by_lang[lang], pa.int64())
        keys = ids.take(rows)
        order = pc.sort_indices(keys)
        ordered[lang] = (keys.take(order), rows.take(order).to_numpy())
    first = ordered[languages[0]][0]
    if all(pc.count_distinct(keys).as_py() == len(keys) and keys.equals(first) for keys, _ in ordered.values()):
        # every id once in every language: the sorted ids are shuffled, and then the least-used language
        # with the rotating tie order is the i-th one round the list (compose's loop, worked out)
        perm = draws.permutation(rng, len(first))
        out = np.empty(len(perm), dtype=np.int64)
        for k, lang in enumerate(languages):
            out[k::m] = ordered[lang][1][perm[k::m]]
        return out
    # otherwise compose's own loop, on id -> row maps (the last row of an id, as compose's dict keeps)
    index = {
        lang: dict(zip(ids.take(pa.array(by_lang[lang], pa.int64())).to_pylist(), by_lang[lang].tolist()))
        for lang in languages
    }
    keys = sorted({rid for lang in languages for rid in index[lang]})
    keys = [keys[i] for i in draws.permutation(rng, len(keys)).tolist()]
    available_in = {rid: [lang for lang in languages if rid in index[lang]] for rid in keys}
    chosen = compose.balanced_languages(keys, available_in, languages)
    return np.asarray([index[lang][rid] for rid, lang in chosen], dtype=np.int64)


def _compose(mixture, part, by_lang, languages, source_lang, seed, ids) -> np.ndarray:
    rng = seeded_rng(seed, mixture, part)
    if mixture.startswith("mono-"):
        rows = by_lang[mixture[len("mono-") :]]
    elif mixture == "multilingual":
        rows = np.concatenate([by_lang[lang] for lang in languages])
    elif mixture == "downsampled":
        pool = np.concatenate([by_lang[lang] for lang in languages])
        rows = pool[draws.sample_indices(rng, len(pool), min(len(by_lang[source_lang]), len(pool)))]
    else:  # sampled (build checks the name)
        rows = _sampled(by_lang, languages, rng, ids)
    return _shuffled(rng, rows)


class _Rows:
    """All parts' records as one row numbering: part k's rows follow part k-1's."""

    def __init__(self, parts: list[Part]):
        import pyarrow as pa

        self.parts = parts
        self.offsets = np.cumsum([0] + [len(p) for p in parts])
        self.column = {
            name: pa.chunked_array([p.columns[name] for p in parts], pa.string()).combine_chunks()
            for name in SELECT_FIELDS
        }
        for part in parts:  # one copy of the columns is enough
            part.columns = {}
        # each row's distinct id as a number, and the distinct ids: the coins and the manifest's id counts
        ids = self.column["id"].dictionary_encode()
        self.id_dictionary, self.id_codes = ids.dictionary, ids.indices.to_numpy(zero_copy_only=False)

    def rows(self, k: int) -> np.ndarray:
        return np.arange(self.offsets[k], self.offsets[k + 1], dtype=np.int64)

    def values(self, name: str, rows: list[int]) -> list:
        import pyarrow as pa

        return self.column[name].take(pa.array(rows, pa.int64())).to_pylist() if len(rows) else []


def _language_counts(table: _Rows, rows: list[int]) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(rows):
        return {}
    counts = pc.value_counts(table.column["lang"].take(pa.array(rows, pa.int64()))).to_pylist()
    return dict(sorted((c["values"], c["counts"]) for c in counts))


def _distinct_ids(table: _Rows, rows: list[int]) -> int:
    return int(np.count_nonzero(np.bincount(table.id_codes[np.asarray(rows, dtype=np.int64)], minlength=1)))


def build(
    mixture: str,
    paths: dict[str, str | os.PathLike],
    languages: list[str],
    source_lang: str,
    seed: int,
    validation_fraction: float,
    out_train: str | os.PathLike,
    out_valid: str | os.PathLike,
) -> dict:
    """compose.build of the files `paths` (language -> JSONL), written to `out_train`/`out_valid`; the counts."""
    known = mixture.startswith("mono-") or mixture in ("multilingual", "downsampled", "sampled")
    if not known or len(set(languages)) != len(languages):
        raise Unavailable(f"mixture '{mixture}' over {languages}: left to compose")
    if mixture.startswith("mono-") and mixture[len("mono-") :] not in languages:
        raise Unavailable(f"mixture '{mixture}' is not over {languages}: left to compose")
    if mixture == "downsampled" and source_lang not in languages:
        raise Unavailable(f"the source language {source_lang} is not among {languages}: left to compose")
    present = [lang for lang in languages if lang in paths]
    parts = [index(paths[lang]) for lang in present]
    table = _Rows(parts)
    coins = dict(zip(present, _coins(table, seed, validation_fraction)))
    train_by_lang, valid_by_lang = {}, {}
    for lang in languages:
        if lang in coins:
            train_by_lang[lang], valid_by_lang[lang] = _split(table.rows(present.index(lang)), coins[lang])
        else:
            train_by_lang[lang] = valid_by_lang[lang] = np.zeros(0, dtype=np.int64)
    train = _compose(mixture, "train", train_by_lang, languages, source_lang, seed, table.column["id"])
    valid = _compose(mixture, "valid", valid_by_lang, languages, source_lang, seed, table.column["id"])
    del train_by_lang, valid_by_lang
    write(table, {"train": (train, out_train), "valid": (valid, out_valid)})
    return {
        "train": _language_counts(table, train),
        "valid": _language_counts(table, valid),
        "train_total": len(train),
        "valid_total": len(valid),
        "unique_source_ids_train": _distinct_ids(table, train),
    }


def build_shares(
    mixture: str,
    paths: dict[str, str | os.PathLike],
    shares: dict[str, float],
    budget: int,
    seed: int,
    validation_fraction: float,
    out_train: str | os.PathLike,
    out_valid: str | os.PathLike,
    drop: tuple[str, ...] = (),
    policy: str = "scale",
) -> dict:
    """compose.build_shares of the files `paths` (part -> JSONL), written to `out_train`/`out_valid`."""
    from polyinstruct.mixtures.compose import share_counts

    present = [key for key in shares if key in paths]
    parts = [index(paths[key]) for key in present]
    table = _Rows(parts)
    coins = dict(zip(present, _coins(table, seed, validation_fraction)))
    empty = np.zeros(0, dtype=np.int64)
    split_parts = {
        key: _split(table.rows(present.index(key)), coins[key]) if key in coins else (empty, empty) for key in shares
    }
    planned = share_counts(shares, budget, {k: len(split_parts[k][0]) for k in shares}, policy)
    valid_budget = round(planned["realised_budget"] * validation_fraction)
    train, valid, shortfall = [], [], {}
    for key in shares:
        part_train, part_valid = split_parts[key]
        want_train = planned["realised"][key]
        want_valid = round(planned["realised_shares"][key] * valid_budget)
        rng = seeded_rng(seed, "shares", key)
        drawn_train = part_train[draws.sample_indices(rng, len(part_train), min(want_train, len(part_train)))]
        drawn_valid = part_valid[draws.sample_indices(rng, len(part_valid), min(want_valid, len(part_valid)))]
        missing = (planned["requested"][key] - len(part_train), want_valid - len(drawn_valid))
        if any(m > 0 for m in missing):
            shortfall[key] = {"train": max(missing[0], 0), "valid": max(missing[1], 0)}
        if key in drop:
            continue
        train.append(drawn_train)
        valid.append(drawn_valid)
    train = _shuffled(seeded_rng(seed, mixture, "train"), np.concatenate([empty, *train]))
    valid = _shuffled(seeded_rng(seed, mixture, "valid"), np.concatenate([empty, *valid]))
    write(table, {"train": (train, out_train), "valid": (valid, out_valid)})

    def by_part(rows):
        tasks, langs = table.values("task", rows), table.values("lang", rows)
        return dict(sorted(Counter(task and "crosslingual" or lang for task, lang in zip(tasks, langs)).items()))

    return {
        "train": by_part(train),
        "valid": by_part(valid),
        "train_total": len(train),
        "valid_total": len(valid),
        "unique_source_ids_train": _distinct_ids(table, train),
        "budget": budget,
        "shares": planned["requested_shares"],
        "shortfall_policy": policy,
        "realised_budget": planned["realised_budget"],
        "requested": planned["requested"],
        "realised": planned["realised"],
        "realised_shares": planned["realised_shares"],
        "available": planned["available"],
        "dropped_parts": list(drop),
        "shortfall": shortfall,
        "crosslingual_tasks": dict(sorted(Counter(t for t in table.values("task", train) if t).items())),
    }


# ---- the output (step 3) ----------------------------------------------------------------------------


def encode(table):
    """`polyinstruct.io.dumps` of each row's kept fields plus a newline (string columns; null = absent), as
    an Arrow string array: vectorised string operations in Polars."""
    import polars as pl

    frame = pl.from_arrow(table)
    names = [name for name in KEEP_FIELDS if name in frame.columns and frame[name].null_count() < len(frame)]

    def text(name: str):
        return pl.col(name).str.replace_many(_ESCAPE_FROM, _ESCAPE_TO)

    pieces = [pl.lit('{"id": "'), text("id"), pl.lit('"')]
    for name in names:
        if name == "id":
            continue
        piece = pl.lit(f', "{name}": "') + text(name) + pl.lit('"')
        pieces.append(pl.when(pl.col(name).is_null()).then(pl.lit("")).otherwise(piece))
    pieces.append(pl.lit("}\n"))
    return frame.select(pl.concat_str(pieces).alias("line"))["line"].to_arrow()


def _spans(array) -> tuple[memoryview, np.ndarray]:
    """The data buffer and the offsets of an Arrow (large) string or binary array without nulls."""
    import pyarrow as pa

    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    wide = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    return memoryview(array.buffers()[2]), offsets


def write(table: _Rows, outputs: dict[str, tuple[np.ndarray, str | os.PathLike]]) -> None:
    """Encode the chosen rows of every part and write each output in its order.

    The encoded lines go to bucket files by output position as the parts are read in file order; each
    bucket (at most about BUCKET_BYTES) is then read back, put in order and appended to its output.
    Parts that have line indexes, MAPPED_BYTES or less in all, whose chosen lines are all cut, are mapped into
    memory and gathered from there instead (`_write_from_maps`)."""
    if sum(os.path.getsize(part.path) for part in table.parts) <= MAPPED_BYTES and _all_cut(table, outputs):
        _write_from_maps(table, outputs)
        return
    total = int(table.offsets[-1])
    target = np.full(total, -1, dtype=np.int8)
    position = np.zeros(total, dtype=np.int64)
    names = list(outputs)
    lengths = np.concatenate([p.ends - p.starts for p in table.parts]) if table.parts else np.zeros(0, np.int64)
    n_buckets, n_rows = np.ones(len(names), np.int64), np.ones(len(names), np.int64)
    for k, name in enumerate(names):
        rows = np.asarray(outputs[name][0], dtype=np.int64)
        target[rows] = k
        position[rows] = np.arange(len(rows))
        size = int(lengths[rows].sum()) + 24 * len(rows)  # the lines, and a little for separators
        n_buckets[k], n_rows[k] = max(1, math.ceil(size / BUCKET_BYTES)), max(1, len(rows))
    del lengths
    first_out = Path(outputs[names[0]][1])
    first_out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".mixture-", dir=first_out.parent) as tmp:
        buckets = {}  # (output, bucket) -> positions of its lines, in the order they were written
        with ExitStack() as stack:
            files = {}

            def block_lines(part: Part, fd: int, base: int, offset: int, size: int, first: int, count: int):
                """The chosen lines of one block in bucket order, their buckets and output positions."""
                chosen = np.flatnonzero(target[base + first : base + first + count] >= 0)
                rows = base + first + chosen
                out, pos = target[rows], position[rows]
                bucket = out.astype(np.int64) * (1 << 40) + pos * n_buckets[out] // n_rows[out]
                order = np.argsort(bucket, kind="stable")
                lines = _chosen_lines(os.pread(fd, size, offset), part, offset, first, count, chosen, order)
                return lines, bucket[order], pos[order]

            def blocks():
                for k, part in enumerate(table.parts):
                    base = int(table.offsets[k])
                    fd = os.open(part.path, os.O_RDONLY)
                    stack.callback(os.close, fd)
                    for offset, size, first, count in part.blocks:
                        if (target[base + first : base + first + count] >= 0).any():
                            yield block_lines, part, fd, base, offset, size, first, count

            # the blocks' lines are made two at a time while the main thread writes the previous ones
            for lines, bucket, pos in _ahead(blocks()):
                data, offsets = _spans(lines)
                cuts = np.flatnonzero(np.diff(bucket)) + 1
                for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(bucket)]):
                    key = (names[int(bucket[a] >> 40)], int(bucket[a] & ((1 << 40) - 1)))
                    if key not in files:
                        files[key] = stack.enter_context(open(Path(tmp) / f"{key[0]}-{key[1]}", "wb"))
                        buckets[key] = ([], [])
                    files[key].write(data[offsets[a] : offsets[b]])
                    buckets[key][0].append(pos[a:b])
                    buckets[key][1].append(np.diff(offsets[a : b + 1]))
        target = position = None  # (the closures above are done with them)
        for k, name in enumerate(names):
            with atomic_path(outputs[name][1]) as tmp_out, open(tmp_out, "wb") as out:
                for b in range(int(n_buckets[k])):
                    if (name, b) in buckets:
                        positions, lengths = (np.concatenate(x) for x in buckets[(name, b)])
                        out.write(_in_order(Path(tmp) / f"{name}-{b}", positions, lengths))


def _all_cut(table: _Rows, outputs: dict[str, tuple[np.ndarray, str | os.PathLike]]) -> bool:
    """Whether every part has its line index and every chosen line is cut (none has to be re-encoded)."""
    if not table.parts or any(part.cuts is None for part in table.parts):
        return False
    cuts = np.concatenate([part.cuts for part in table.parts])
    return all(bool((cuts[np.asarray(rows, dtype=np.int64)] >= 0).all()) for rows, _ in outputs.values())


def _mapped(part: Part, stack: ExitStack):
    """An Arrow array over the part file mapped into memory (read-only, closed by `stack`) whose even elements
    are the lines' kept prefixes (`Part.cuts`; a line that is not cut: empty) and odd ones the gaps between them."""
    import mmap

    import pyarrow as pa

    with open(part.path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
    if mapped is not None:
        stack.callback(_close_map, mapped)
    bounds = np.empty(2 * len(part) + 1, dtype=np.int64)  # a cut is at or before its line's end: they only grow
    bounds[0:-1:2] = part.starts
    bounds[1:-1:2] = np.where(part.cuts >= 0, part.cuts, part.starts)
    bounds[-1] = size
    data = pa.py_buffer(mapped if mapped is not None else b"")
    return pa.Array.from_buffers(pa.large_binary(), len(bounds) - 1, [None, pa.py_buffer(bounds), data])


def _close_map(mapped) -> None:
    with contextlib.suppress(BufferError):  # an Arrow array still exports it: the map closes when that array goes
        mapped.close()


def _closed(prefixes):
    """Each kept prefix followed by `}` and a newline (Arrow, without the GIL)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(
        prefixes, pa.scalar(b"", pa.large_binary()), pa.scalar(b"}\n", pa.large_binary())
    )


def _write_from_maps(table: _Rows, outputs: dict[str, tuple[np.ndarray, str | os.PathLike]]) -> None:
    """write() for parts whose chosen lines are all cut (`Part.cuts`, from their line indexes): every part file is
    mapped into memory as it is, and each output is taken from the maps in its order, GATHER_LINES at a time,
    as each line's kept prefix followed by `}` and a newline. The maps count towards the process's memory as
    they are read (random lines: each read maps the pages around it too), hence MAPPED_BYTES."""
    import pyarrow as pa

    with ExitStack() as stack:
        chunks = [_mapped(part, stack) for part in table.parts]

        def gather(rows: np.ndarray):
            """The output lines of `rows`: taken from each part's array (a take from a chunked array would join
            the chunks first), put back in the order of `rows`, and closed."""
            part_of = np.searchsorted(table.offsets, rows, side="right") - 1
            by_part = np.argsort(part_of, kind="stable")
            rows, part_of = rows[by_part], part_of[by_part]
            cuts = np.searchsorted(part_of, np.arange(len(chunks) + 1))
            taken = [
                chunks[k].take(pa.array(2 * (rows[cuts[k] : cuts[k + 1]] - table.offsets[k])))
                for k in range(len(chunks))
                if cuts[k + 1] > cuts[k]
            ]
            lines = taken[0] if len(taken) == 1 else pa.concat_arrays(taken)
            if len(taken) > 1:
                back = np.empty(len(rows), dtype=np.int64)
                back[by_part] = np.arange(len(rows))
                lines = lines.take(pa.array(back))
            return _closed(lines)

        for rows, out_path in outputs.values():
            rows = np.asarray(rows, dtype=np.int64)
            with atomic_path(out_path) as tmp_out, open(tmp_out, "wb") as out:
                # the next lines are gathered (Arrow, without the GIL) while these are written
                for lines in _ahead((gather, rows[a : a + GATHER_LINES]) for a in range(0, len(rows), GATHER_LINES)):
                    data, offsets = _spans(lines)
                    out.write(data[offsets[0] : offsets[-1]])
        chunks.clear()  # the arrays export the maps: let them go before the maps are closed


def _encoded(data: bytes, part: Part, offset: int, first: int, count: int, chosen: np.ndarray):
    """The encoded lines (with newlines) of the `chosen` rows of one block of `part`."""
    if 2 * len(chosen) > count:  # most of the block: parse it whole, keep the chosen rows
        text = data
        parsed = _parse(data, KEEP_FIELDS, part.path, count).take(chosen)
    else:
        starts = (part.starts[first : first + count][chosen] - offset).tolist()
        ends = (part.ends[first : first + count][chosen] - offset).tolist()
        text = b"\n".join([data[s:e] for s, e in zip(starts, ends)])
        parsed = _parse(text, KEEP_FIELDS, part.path, len(chosen))
    if b"null" in text and _EXPLICIT_NULL.search(text):
        raise Unavailable(f"{part.path}: a kept field is null (json writes it, an absent one not)")
    return encode(parsed)


def _in_order(path: Path, positions: np.ndarray, lengths: np.ndarray) -> memoryview:
    """The lines of one bucket file (their `lengths` in file order), sorted by their output positions."""
    import pyarrow as pa

    data = path.read_bytes()
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    lines = pa.Array.from_buffers(
        pa.large_binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    ).take(pa.array(np.argsort(positions, kind="stable")))
    buffer, offsets = _spans(lines)
    return buffer[offsets[0] : offsets[-1]]


def _chosen_lines(data: bytes, part: Part, offset: int, first: int, count: int, chosen: np.ndarray, order):
    """The output lines (with newlines) of the `chosen` rows of one block of `part`, in the order `order`
    (indices into `chosen`), as an Arrow large binary array. A canonical line (`canonical.cuts`) is its own
    bytes up to its cut, and `}`: taken from the block as they are; the others are parsed and encoded."""
    import pyarrow as pa

    starts = part.starts[first : first + count][chosen] - offset
    ends = part.ends[first : first + count][chosen] - offset
    if part.cuts is not None:  # from the line index
        cuts = part.cuts[first : first + count][chosen]
        cuts = np.where(cuts >= 0, cuts - offset, -1)
    elif 2 * len(chosen) > count:  # most of the block: look at it whole
        cuts = canonical.cuts(data, starts, ends, KEEP_FIELDS)
    else:  # the chosen lines only, one after the other
        lengths = ends - starts
        at = np.cumsum(lengths + 1) - lengths - 1
        text = b"\n".join([data[a:b] for a, b in zip(starts.tolist(), ends.tolist())])
        cuts = canonical.cuts(text, at, at + lengths, KEEP_FIELDS)
        cuts = np.where(cuts >= 0, cuts - at + starts, -1)
    fast = cuts >= 0
    buffer = np.frombuffer(data + b"\n", dtype=np.uint8).copy()
    ends = np.where(fast, cuts, 0)
    # a cut line ends `}` and newline: write them over the first bytes of what it drops (its own tail)
    buffer[ends[fast]] = ord("}")
    buffer[ends[fast] + 1] = ord("\n")
    ends[fast] += 2
    slow = np.flatnonzero(~fast)
    if len(slow):
        encoded = _encoded(data, part, offset, first, count, chosen[slow])
        text, spans = _spans(encoded)
        starts = starts.copy()
        starts[slow] = len(buffer) + spans[:-1]
        ends[slow] = len(buffer) + spans[1:]
        buffer = np.concatenate([buffer, np.frombuffer(text, dtype=np.uint8)[: spans[-1]]])
    # each chosen line and the gap after it as the elements of one array: the lines are the even ones
    by_start = np.argsort(starts, kind="stable")
    bounds = np.empty(2 * len(starts) + 1, dtype=np.int64)
    bounds[0:-1:2], bounds[1:-1:2] = starts[by_start], ends[by_start]
    bounds[-1] = len(buffer)
    where = np.empty(len(starts), dtype=np.int64)
    where[by_start] = np.arange(len(starts))
    pieces = pa.Array.from_buffers(
        pa.large_binary(), len(bounds) - 1, [None, pa.py_buffer(bounds), pa.py_buffer(buffer)]
    )
    return pieces.take(pa.array(2 * where[order]))


# ---- the entry point: streamed, or compose when the input is outside what streaming reproduces -------


def build_files(
    mixture: str,
    paths: dict[str, str | os.PathLike],
    out_train: str | os.PathLike,
    out_valid: str | os.PathLike,
    *,
    seed: int,
    validation_fraction: float,
    languages: list[str] | None = None,
    source_lang: str | None = None,
    shares: dict | None = None,
) -> dict:
    """Write one mixture's train and valid files from its part files; returns the manifest counts.

    `shares` ({"shares", "budget", "drop", "shortfall"}) selects `compose.build_shares`, otherwise `compose.build`
    over `languages`. Streamed when the input allows it (the log says which path ran and why)."""
    from polyinstruct.io import load_jsonl, write_jsonl
    from polyinstruct.mixtures import compose

    try:
        if shares:
            counts = build_shares(
                mixture,
                paths,
                shares["shares"],
                shares["budget"],
                seed,
                validation_fraction,
                out_train,
                out_valid,
                drop=tuple(shares["drop"]),
                policy=shares["shortfall"],
            )
        else:
            counts = build(mixture, paths, languages, source_lang, seed, validation_fraction, out_train, out_valid)
        log.info("mixture %s: streamed from %d files", mixture, len(paths))
        return counts
    except Unavailable as reason:
        log.info("mixture %s: built in memory by compose (%s)", mixture, reason)
    parts = {key: load_jsonl(path) for key, path in paths.items()}
    if shares:
        train, valid, counts = compose.build_shares(
            mixture,
            parts,
            shares["shares"],
            shares["budget"],
            seed,
            validation_fraction,
            drop=tuple(shares["drop"]),
            policy=shares["shortfall"],
        )
    else:
        train, valid, counts = compose.build(mixture, parts, languages, source_lang, seed, validation_fraction)
    write_jsonl(out_train, train)
    write_jsonl(out_valid, valid)
    return counts
