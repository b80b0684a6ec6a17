"""A part file's line index (polyinstruct/mixtures/line_index.py): what the builder would compute, used only for
the bytes it was made from, and mixtures built from it byte-identical to compose's."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_mixture_stream import LANGS, expected, shipped, write_parts

from polyinstruct.io import dumps
from polyinstruct.mixtures import canonical, compose, line_index, stream
from polyinstruct.mixtures.compose import KEEP_FIELDS
from polyinstruct.workflow import paths


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7_000)
    monkeypatch.setattr(stream, "BUCKET_BYTES", 20_000)


def kept_first(parts):
    """The records with their kept fields first (as every line can be cut), the others after them."""
    return {
        key: [
            {**{k: r[k] for k in KEEP_FIELDS if k in r}, **{k: v for k, v in r.items() if k not in KEEP_FIELDS}}
            for r in rs
        ]
        for key, rs in parts.items()
    }


def indexed(root, parts, **kwargs):
    files = write_parts(root, parts, **kwargs)
    for path in files.values():
        stream.write_index(path)
    return files


def test_the_index_is_what_the_builder_computes(tmp_path):
    files = indexed(tmp_path, shipped(), blank_lines=True)
    for path in files.values():
        assert line_index.path_for(path) == paths.lines_index(path) == path + ".lines.arrow"
        saved, computed = stream.index(path), stream.index(path, saved=False)
        assert saved.cuts is not None and computed.cuts is None
        np.testing.assert_array_equal(saved.starts, computed.starts)
        np.testing.assert_array_equal(saved.ends, computed.ends)
        for name in stream.SELECT_FIELDS:
            assert saved.columns[name].equals(computed.columns[name])
        data = Path(path).read_bytes()
        np.testing.assert_array_equal(saved.cuts, canonical.cuts(data, computed.starts, computed.ends, KEEP_FIELDS))
        # the shipped shapes: translated records keep `task` after `qa` (re-encoded), English ones are cut
        assert (saved.cuts >= 0).any()
        assert path.endswith("en.jsonl") or (saved.cuts < 0).any()
        blocks = saved.blocks
        assert [b[2] for b in blocks] == np.cumsum([0] + [b[3] for b in blocks[:-1]]).tolist()
        assert sum(b[3] for b in blocks) == len(saved) and len(blocks) > 3


@pytest.mark.parametrize("shape", ["kept first", "shipped"])
@pytest.mark.parametrize("gather", ["maps", "buckets"])
@pytest.mark.parametrize(
    "mixture,languages", [("mono-fr", ["fr"]), ("multilingual", LANGS), ("downsampled", LANGS), ("sampled", LANGS)]
)
def test_mixtures_from_indexes_are_byte_identical_to_compose(tmp_path, monkeypatch, shape, gather, mixture, languages):
    parts = {lang: shipped()[lang] for lang in languages}
    parts = kept_first(parts) if shape == "kept first" else parts
    files = indexed(tmp_path, parts, blank_lines=True)
    if gather == "buckets":
        monkeypatch.setattr(stream, "MAPPED_BYTES", 0)
    calls = []
    monkeypatch.setattr(stream, "_write_from_maps", lambda *a, _f=stream._write_from_maps: calls.append(1) or _f(*a))
    counts = stream.build(mixture, files, languages, "en", 5, 0.2, tmp_path / "train.jsonl", tmp_path / "valid.jsonl")
    train, valid, want = compose.build(mixture, parts, languages, "en", 5, 0.2)
    got = ((tmp_path / "train.jsonl").read_bytes(), (tmp_path / "valid.jsonl").read_bytes())
    assert got == expected(tmp_path, train, valid) and counts == want
    # every chosen line cut: gathered from the maps; a line to re-encode (shipped shapes): the buckets
    assert calls == ([1] if gather == "maps" and shape == "kept first" else [])


def test_share_mixture_from_indexes(tmp_path):
    parts = kept_first(shipped())
    files = indexed(tmp_path, parts)
    shares = {"de": 0.43, "en": 0.26, "fr": 0.31}
    stream.build_shares("mix", files, shares, 150, 7, 0.1, tmp_path / "train.jsonl", tmp_path / "valid.jsonl")
    train, valid, _ = compose.build_shares("mix", parts, shares, 150, 7, 0.1)
    assert ((tmp_path / "train.jsonl").read_bytes(), (tmp_path / "valid.jsonl").read_bytes()) == expected(
        tmp_path, train, valid
    )


def test_an_index_is_used_only_for_the_bytes_it_was_made_from(tmp_path, caplog):
    parts = kept_first({"fr": shipped()["fr"]})
    files = indexed(tmp_path, parts)
    path = files["fr"]
    text = Path(path).read_text(encoding="utf-8")
    # the same size, one letter of one output changed: the spans still fit, the content does not
    changed = text.replace('"output": "L', '"output": "K', 1)
    assert changed != text and len(changed.encode()) == len(text.encode())
    Path(path).write_text(changed, encoding="utf-8")
    with caplog.at_level("INFO", logger="polyinstruct.mixtures.line_index"):
        assert line_index.load(path) is None
    assert "xxh3_64" in caplog.text and path in caplog.text
    parts["fr"] = [json.loads(line) for line in changed.splitlines()]
    stream.build("mono-fr", files, ["fr"], "en", 1, 0.1, tmp_path / "train.jsonl", tmp_path / "valid.jsonl")
    train, valid, _ = compose.build("mono-fr", parts, ["fr"], "en", 1, 0.1)
    assert (tmp_path / "train.jsonl").read_bytes() == expected(tmp_path, train, valid)[0]
    # another size (a record added) and an unreadable index are not used either
    Path(path).write_text(changed + dumps({**parts["fr"][0], "id": "new"}) + "\n", encoding="utf-8")
    assert line_index.load(path) is None
    Path(line_index.path_for(path)).write_bytes(b"not arrow")
    assert line_index.load(path) is None
    assert line_index.load(tmp_path / "no-index.jsonl") is None


def test_a_file_streaming_cannot_reproduce_is_recorded_and_built_by_compose(tmp_path):
    parts = {lang: shipped()[lang][:30] for lang in ("en", "fr")}
    files = write_parts(tmp_path, parts)
    fr = Path(files["fr"])
    fr.write_bytes(fr.read_bytes().replace(b"\n", b"\r\n"))  # Python splits lines at \r
    for path in files.values():
        stream.write_index(path)
    with pytest.raises(line_index.Unstreamable, match="carriage returns"):
        line_index.load(files["fr"])
    with pytest.raises(stream.Unavailable, match="carriage returns"):
        stream.index(files["fr"])
    kwargs = dict(seed=1, validation_fraction=0.1, languages=["en", "fr"], source_lang="en")
    counts = stream.build_files("multilingual", files, tmp_path / "train.jsonl", tmp_path / "valid.jsonl", **kwargs)
    train, valid, want = compose.build("multilingual", parts, ["en", "fr"], "en", 1, 0.1)
    assert (tmp_path / "train.jsonl").read_bytes() == expected(tmp_path, train, valid)[0] and counts == want
