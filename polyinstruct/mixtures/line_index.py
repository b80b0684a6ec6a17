"""A part file's line index: what `stream` reads from every line, computed once when the file is written.

Every mixture of an experiment is drawn from the same few part files (the source-language instructions,
each translation, the cross-lingual instructions), and `stream.build` reads, checks and parses each of them
for every mixture: at BayLing's 3.2M records that is most of a build's time. The rule that writes a part
file therefore also writes its index (`<file>.lines.arrow`, `paths.lines_index`): an output of that rule and
an input of every `build_mixture` job that reads the file. It holds

- per line: its byte span (`start`, `end`), the end of its kept prefix (`cut`, `canonical.cuts`; -1 when the
  line must be re-encoded) and the fields the choice reads (`id`, `lang`, `task`), in an Arrow IPC file;
- in the file's metadata: the format version, `compose.KEEP_FIELDS` when it was made, the part file's size and
  its XXH3-64 digest.

An index is what `stream.index` reads from those exact bytes, cuts included (`stream.write_index` makes it;
this module is its format), so it is only used for
them: `load` hashes the part file again (about 0.1 s per 400 MB, against about 3 s to index it) and returns
None, with the reason logged, when anything differs; the builder then indexes the file itself. A file that
streaming cannot reproduce (`stream.Unavailable`) gets an index that records why, and the builder goes
straight to `compose`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from polyinstruct.io import atomic_path
from polyinstruct.mixtures.compose import KEEP_FIELDS
from polyinstruct.workflow import paths

log = logging.getLogger(__name__)
VERSION = "1"
_HASH_BLOCK = 16 << 20


def path_for(records: str | os.PathLike) -> str:
    """Where the index of the part file `records` is (`paths.lines_index`)."""
    return paths.lines_index(os.fspath(records))


def digest(path: str | os.PathLike) -> str:
    """XXH3-64 of the file's bytes (hex)."""
    import xxhash

    h = xxhash.xxh3_64()
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(_HASH_BLOCK)
        view = memoryview(buffer)
        while n := fh.readinto(buffer):
            h.update(view[:n])
    return h.hexdigest()


def _metadata(records: Path, **extra: str) -> dict[bytes, bytes]:
    meta = {
        "version": VERSION,
        "keep_fields": json.dumps(list(KEEP_FIELDS)),
        "size": str(records.stat().st_size),
        "xxh3_64": digest(records),
        **extra,
    }
    return {k.encode(): v.encode() for k, v in meta.items()}


class Unstreamable(Exception):
    """The index records that the builder cannot stream its file (the reason is the message)."""


def save(records: str | os.PathLike, out: str | os.PathLike, columns: dict | None, unavailable: str | None = None):
    """Write (atomically) the index of `records` to `out`: `columns` (start, end, cut and SELECT_FIELDS, in
    line order), or none and the reason the file cannot be streamed."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    records = Path(records)
    if columns is None:
        schema = pa.schema([], metadata=_metadata(records, unavailable=str(unavailable)))
        with atomic_path(out) as tmp, ipc.new_file(tmp, schema) as writer:
            writer.write_table(pa.table({}, schema=schema))
        return
    table = pa.table(columns).replace_schema_metadata(_metadata(records))
    with atomic_path(out) as tmp, ipc.new_file(tmp, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))  # one batch: `load` maps it without copies


def load(records: str | os.PathLike, index: str | os.PathLike | None = None):
    """The columns of the index of `records` (default `path_for(records)`): start, end and cut as NumPy arrays, the
    others as Arrow arrays; None when there is no index or it is not the index of these bytes (why is logged).
    Raises `Unstreamable` when the index records that the file cannot be streamed."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    records = Path(records)
    index = Path(index or path_for(records))
    if not index.exists():
        return None
    try:  # mapped, not read: the columns are views of the map (their buffers keep it open)
        table = ipc.open_file(pa.memory_map(str(index))).read_all()
    except (OSError, pa.ArrowInvalid) as error:
        log.info("%s: unreadable (%s); indexing %s", index, error, records)
        return None
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    expected = {"version": VERSION, "keep_fields": json.dumps(list(KEEP_FIELDS)), "size": str(records.stat().st_size)}
    stale = [key for key, value in expected.items() if meta.get(key) != value]
    if not stale and meta.get("xxh3_64") != digest(records):
        stale = ["xxh3_64"]
    if stale:
        log.info("%s: not the index of %s as it is now (%s differ); indexing the file", index, records, stale)
        return None
    if "unavailable" in meta:
        raise Unstreamable(meta["unavailable"])
    return {
        name: table.column(name).to_numpy() if name in ("start", "end", "cut") else table.column(name).combine_chunks()
        for name in table.column_names
    }
