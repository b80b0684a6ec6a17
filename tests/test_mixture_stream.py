"""The streamed mixture builder writes exactly the bytes compose + write_jsonl write, or leaves the input to them."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from polyinstruct.io import InputError, dumps, write_jsonl
from polyinstruct.mixtures import compose, stream

LANGS = ["en", "fr", "de"]


def shipped() -> dict[str, list[dict]]:
    """The shipped polyalpaca records, shaped as the pipeline hands them to build_mixture: the translated
    languages carry `qa` and `translation`, a few records a cross-lingual `task`, text with quotes,
    backslashes, control characters, non-Latin script and emoji, and fr lacks some translations."""
    parts = {}
    for lang in LANGS:
        records = []
        for i, line in enumerate((REPO / f"resources/data/polyalpaca/{lang}.jsonl").read_text().splitlines()):
            r = json.loads(line)
            record = {
                "id": r["id"],
                "source": "polyalpaca",
                "lang": lang,
                **{k: r[k] for k in ("instruction", "input")},
            }
            record["output"] = r["output"] + ("" if i % 9 else ' — "ok" \\ \x01\t😀 中文')
            if lang != "en":
                record["translation"] = {"engine": "precomputed", "model": None}
                record["qa"] = {"lid": lang, "lid_prob": 0.97, "flags": ["length"] if i % 11 == 0 else []}
            if i % 6 == 0:
                record["task"] = "sentence" if i % 12 else ""
            if lang == "fr" and i % 10 == 3:
                continue
            records.append(record)
        parts[lang] = records
    return parts


def write_parts(root, parts, *, blank_lines=False) -> dict[str, str]:
    paths = {}
    for key, records in parts.items():
        path = root / f"{key}.jsonl"
        lines = [dumps(r) + "\n" for r in records]
        if blank_lines:
            lines[3:3] = ["\n", "  \t \n"]
        path.write_text("".join(lines), encoding="utf-8")
        paths[key] = str(path)
    return paths


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Many blocks and buckets on small files, as on large ones."""
    monkeypatch.setattr(stream, "BLOCK_BYTES", 7_000)
    monkeypatch.setattr(stream, "BUCKET_BYTES", 20_000)


def expected(tmp_path, train, valid) -> tuple[bytes, bytes]:
    write_jsonl(tmp_path / "expected-train.jsonl", train)
    write_jsonl(tmp_path / "expected-valid.jsonl", valid)
    return (tmp_path / "expected-train.jsonl").read_bytes(), (tmp_path / "expected-valid.jsonl").read_bytes()


@pytest.mark.parametrize(
    "mixture,languages",
    [
        ("mono-fr", ["fr"]),
        ("multilingual", LANGS),
        ("downsampled", LANGS),
        ("sampled", LANGS),  # fr lacks translations: compose's own loop
        ("sampled", ["en", "de"]),  # every id in every language: the round-robin shortcut
    ],
)
@pytest.mark.parametrize("seed", [1, 42])
def test_streamed_mixture_is_byte_identical_to_compose(tmp_path, mixture, languages, seed):
    parts = {lang: shipped()[lang] for lang in languages}
    paths = write_parts(tmp_path, parts, blank_lines=True)
    counts = stream.build(
        mixture, paths, languages, "en", seed, 0.2, tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    )
    train, valid, want = compose.build(mixture, parts, languages, "en", seed, 0.2)
    assert ((tmp_path / "train.jsonl").read_bytes(), (tmp_path / "valid.jsonl").read_bytes()) == expected(
        tmp_path, train, valid
    )
    assert counts == want and len(train) > 0 and len(valid) > 0


MISSING_PART = {"de": 0.43, "en": 0.26, "fr": 0.31, "crosslingual": 0.1}  # no crosslingual file: a shortfall


@pytest.mark.parametrize(
    ("shares", "budget", "policy", "drop"),
    [
        (MISSING_PART, 150, "keep_budget", ()),
        (MISSING_PART, 150, "keep_budget", ("fr",)),
        ({"de": 0.6, "en": 0.2, "fr": 0.2}, 200, "scale", ()),  # de holds fewer than 120: the budget shrinks
    ],
)
def test_streamed_share_mixture_is_byte_identical_to_compose(tmp_path, shares, budget, policy, drop):
    parts = shipped()
    paths = write_parts(tmp_path, parts)
    train_path, valid_path = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    counts = stream.build_shares("mix", paths, shares, budget, 7, 0.1, train_path, valid_path, drop=drop, policy=policy)
    train, valid, want = compose.build_shares("mix", parts, shares, budget, 7, 0.1, drop=drop, policy=policy)
    assert (train_path.read_bytes(), valid_path.read_bytes()) == expected(tmp_path, train, valid)
    assert counts == want and want["shortfall"] and want["train_total"] > 0
    assert want["train"].get("crosslingual")  # records with a cross-lingual task are counted as such


def test_duplicate_ids_keep_composes_last_record(tmp_path):
    parts = {lang: shipped()[lang][:40] for lang in ("en", "de")}
    parts["de"].append({**parts["de"][5], "output": "a later record with the same id"})
    paths = write_parts(tmp_path, parts)
    stream.build("sampled", paths, ["en", "de"], "en", 3, 0.0, tmp_path / "train.jsonl", tmp_path / "valid.jsonl")
    train, valid, _ = compose.build("sampled", parts, ["en", "de"], "en", 3, 0.0)
    assert (tmp_path / "train.jsonl").read_bytes() == expected(tmp_path, train, valid)[0]


LEFT_TO_COMPOSE = {
    "messages": lambda r: {**r, "messages": [{"role": "user", "content": r["instruction"]}]},
    "explicit null": lambda r: {**r, "input": None},
    "numeric id": lambda r: {**r, "id": 7},
}


@pytest.mark.parametrize("change", sorted(LEFT_TO_COMPOSE))
def test_records_streaming_cannot_reproduce_go_to_compose(tmp_path, change):
    parts = {lang: shipped()[lang][:30] for lang in ("en", "fr")}
    parts["fr"][4] = LEFT_TO_COMPOSE[change](parts["fr"][4])
    paths = write_parts(tmp_path, parts)
    with pytest.raises(stream.Unavailable):
        stream.build("multilingual", paths, ["en", "fr"], "en", 1, 0.1, tmp_path / "t.jsonl", tmp_path / "v.jsonl")
    assert not (tmp_path / "t.jsonl").exists()
    kwargs = dict(seed=1, validation_fraction=0.1, languages=["en", "fr"], source_lang="en")
    counts = stream.build_files("multilingual", paths, tmp_path / "train.jsonl", tmp_path / "valid.jsonl", **kwargs)
    train, valid, want = compose.build("multilingual", parts, ["en", "fr"], "en", 1, 0.1)
    assert counts == want
    assert ((tmp_path / "train.jsonl").read_bytes(), (tmp_path / "valid.jsonl").read_bytes()) == expected(
        tmp_path, train, valid
    )


@pytest.mark.parametrize(
    "text,why",
    [
        (b'{"id": "a", "lang": "fr"}\r\n{"id": "b", "lang": "fr"}\r\n', "carriage returns"),
        (b'\xef\xbb\xbf{"id": "a", "lang": "fr"}\n', "byte-order mark"),
        (b'{"id": "a", "lang": "fr"} {"id": "b", "lang": "fr"}\n', "2 JSON objects on 1 lines"),
        (b'{"id": "\xff", "lang": "fr"}\n', "not UTF-8"),
        (b'{"id": "a", "lang": "fr", "n": 1e999}\n', "JSON parse error"),
    ],
)
def test_lines_json_reads_differently_go_to_compose(tmp_path, text, why):
    (tmp_path / "fr.jsonl").write_bytes(text)
    with pytest.raises(stream.Unavailable, match=why):
        stream.index(tmp_path / "fr.jsonl")


def build_french(tmp_path: Path, paths: dict, mixture: str, validation_fraction: float = 0.1) -> dict:
    """`stream.build_files` of `mixture` over French parts, into tmp_path/t.jsonl and v.jsonl (seed 1)."""
    return stream.build_files(
        mixture,
        paths,
        tmp_path / "t.jsonl",
        tmp_path / "v.jsonl",
        seed=1,
        validation_fraction=validation_fraction,
        languages=["fr"],
        source_lang="en",
    )


def test_a_malformed_line_still_gets_composes_error(tmp_path):
    parts = {"fr": shipped()["fr"][:5]}
    paths = write_parts(tmp_path, parts)
    with open(paths["fr"], "a", encoding="utf-8") as fh:
        fh.write('{"id": "x", "lang": "fr",\n')
    with pytest.raises(InputError, match=r"fr\.jsonl:6: malformed JSON"):
        build_french(tmp_path, paths, "mono-fr")


def test_unknown_mixture_gets_composes_error(tmp_path):
    paths = write_parts(tmp_path, {"fr": shipped()["fr"][:5]})
    with pytest.raises(ValueError, match="unknown mixture 'bilingual'"):
        build_french(tmp_path, paths, "bilingual")


# ---- canonical lines: the kept fields cut from the line's bytes, or the exact path ------------------

CANONICAL = [  # (line, cut from its bytes)
    ({"id": "a", "source": "s", "lang": "fr", "output": "x", "qa": {"lid": "fr", "flags": []}}, True),
    ({"id": "a", "lang": "fr", "instruction": "i", "input": "", "output": "o"}, True),  # no tail
    ({"id": "a", "lang": "fr", "output": 'q"uote \\ back\nline\ttab\x01\x1f\x7f é 中文 😀', "n": 1}, True),
    ({"id": "a", "lang": "fr", "output": 'looks like ", "lang": "de'}, True),
    ({"id": "a", "lang": "fr", "x": {"nested": ["id", 1]}}, False),  # a kept name after the cut
    ({"id": "a", "qa": 1, "lang": "fr"}, False),  # a kept field after one that is not
    ({"lang": "fr", "id": "a"}, False),  # not in KEEP_FIELDS order
    ({"id": 7, "lang": "fr"}, False),
    ({"id": "a", "lang": "fr", "input": None}, False),
    ({"id": "a", "lang": "fr", "messages": [{"role": "user", "content": "c"}]}, False),
    ({"qa": 1, "id": "a", "lang": "fr"}, False),
]
RAW = [  # lines json would read the same, not as dumps writes them
    b'{"id": "\\u00e9", "lang": "fr"}',
    b'{"id": "a\\/b", "lang": "fr"}',
    b'{"id": "a\\u001F", "lang": "fr"}',
    b'{"id": "a\\u000a", "lang": "fr"}',
    b'{"id":"a", "lang": "fr"}',
    b'{"id": "a",  "lang": "fr"}',
    b' {"id": "a", "lang": "fr"}',
    b'{"id": "a", "lang": "fr"} ',
    b'{"id": "a", "lang": "fr", "qa": "\\u00e9"}',
]


def test_canonical_cuts_are_what_dumps_writes():
    from polyinstruct.mixtures import canonical

    lines = [dumps(r).encode() for r, _ in CANONICAL] + RAW
    data = b"\n".join(lines) + b"\n"
    ends = np.cumsum([len(line) + 1 for line in lines]) - 1
    starts = ends - [len(line) for line in lines]
    cuts = canonical.cuts(data, starts, ends, compose.KEEP_FIELDS)
    assert (cuts >= 0).tolist() == [cut for _, cut in CANONICAL] + [False] * len(RAW)
    for line, start, cut in zip(lines, starts, cuts):
        if cut >= 0:
            assert data[start:cut] + b"}" == dumps(compose._slim(json.loads(line))).encode()


def test_shipped_shapes_take_the_cut_and_the_exact_path(tmp_path):
    """The shipped records as the pipeline writes them are cut; those with a `task` after `qa` are not (the
    exact path), and the mixture is the same bytes either way, also with no line cut at all."""
    from polyinstruct.mixtures import canonical

    parts = shipped()
    paths = write_parts(tmp_path, parts)
    want_cut = ~np.array(["task" in r for r in parts["fr"]])
    data = Path(paths["fr"]).read_bytes()
    cuts = canonical.cuts(data, *stream._lines(data), compose.KEEP_FIELDS)
    assert (cuts >= 0).tolist() == want_cut.tolist() and not want_cut.all()
    for name in ("polyalpaca/fr.jsonl", "polyalpaca/de.jsonl", "polyeval/de.jsonl"):  # as shipped
        data = (REPO / "resources/data" / name).read_bytes()
        assert (canonical.cuts(data, *stream._lines(data), compose.KEEP_FIELDS) >= 0).all()
    train, valid, _ = compose.build("multilingual", parts, LANGS, "en", 5, 0.1)
    want = expected(tmp_path, train, valid)
    outputs = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
    stream.build("multilingual", paths, LANGS, "en", 5, 0.1, *outputs)
    assert (outputs[0].read_bytes(), outputs[1].read_bytes()) == want


def test_no_line_cut_is_the_same_mixture(tmp_path, monkeypatch):
    from polyinstruct.mixtures import canonical

    monkeypatch.setattr(canonical, "cuts", lambda data, starts, ends, keep: np.full(len(starts), -1))
    parts = shipped()
    paths = write_parts(tmp_path, parts, blank_lines=True)
    for mixture in ("multilingual", "downsampled"):
        train, valid, _ = compose.build(mixture, parts, LANGS, "en", 5, 0.1)
        outputs = tmp_path / "train.jsonl", tmp_path / "valid.jsonl"
        stream.build(mixture, paths, LANGS, "en", 5, 0.1, *outputs)
        assert (outputs[0].read_bytes(), outputs[1].read_bytes()) == expected(tmp_path, train, valid)


def test_a_kept_field_twice_goes_to_compose(tmp_path):
    lines = [dumps({"id": f"x{i}", "lang": "fr", "output": "o"}) for i in range(5)]
    lines[2] = '{"id": "x2", "lang": "fr", "output": "o", "qa": {}, "output": "later"}'
    (tmp_path / "fr.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths = {"fr": str(tmp_path / "fr.jsonl")}
    counts = build_french(tmp_path, paths, "mono-fr", validation_fraction=0.0)
    parts = {"fr": [json.loads(line) for line in lines]}
    train, valid, want = compose.build("mono-fr", parts, ["fr"], "en", 1, 0.0)
    assert counts == want
    assert (tmp_path / "t.jsonl").read_bytes() == expected(tmp_path, train, valid)[0]
    assert b'"output": "later"' in (tmp_path / "t.jsonl").read_bytes()
