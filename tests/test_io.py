import json

import pytest

from polyinstruct.io import InputError, atomic_path, load_jsonl, write_jsonl


def test_malformed_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"id": 1}\n\n{"id": 2,}\n', encoding="utf-8")
    with pytest.raises(InputError, match=rf"{path}:3: malformed JSON"):
        load_jsonl(path)


def test_non_object_line_is_rejected(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(InputError, match=":1: expected a JSON object"):
        load_jsonl(path)


def test_atomic_write_leaves_nothing_when_interrupted(tmp_path):
    target = tmp_path / "out.jsonl"

    def records():
        yield {"a": 1}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_jsonl(target, records())
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "out.jsonl"
    write_jsonl(target, [{"a": "é"}, {"b": 2}])
    assert [json.loads(ln) for ln in target.read_text(encoding="utf-8").splitlines()] == [{"a": "é"}, {"b": 2}]
    with atomic_path(target) as tmp:
        tmp.write_text("x\n")
    assert target.read_text() == "x\n"


def test_atomic_files_get_the_umask_permissions_not_mkstemps_0600(tmp_path):
    import os
    import stat

    from polyinstruct.io import _UMASK, write_json

    write_json(tmp_path / "x.json", {"a": 1})
    assert stat.S_IMODE(os.stat(tmp_path / "x.json").st_mode) == 0o666 & ~_UMASK
