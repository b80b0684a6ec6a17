"""Bad inputs, as a new user would meet them: each one either stops with an error that names the place to fix
(file:line, or the config key) or is counted in a manifest. Nothing is lost silently.

Released files with known faults are copied under tests/fixtures/ (HPLT's `test_hi.jsonl`, whose line 50 is
broken); LIMA's `conversations` shape is tests/fixtures/lima/lima.en.jsonl.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from polyinstruct.data import normalise
from polyinstruct.io import InputError, Malformed, load_jsonl, read_json_lines
from polyinstruct.models import chat

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HPLT_HI = FIXTURES / "hplt/test_hi.jsonl"
LIMA = FIXTURES / "lima/lima.en.jsonl"
ALPACA_FIELDS = {"id": "id", "instruction": "instruction", "input": "input", "output": "output"}
EVAL_FIELDS = {"id": "id", "category": "category", "turns": "turns", "reference": "reference", "lang": "lang"}


def _jsonl(path: Path, *lines: str | bytes) -> Path:
    data = b"".join((ln if isinstance(ln, bytes) else ln.encode("utf-8")) + b"\n" for ln in lines)
    path.write_bytes(data)
    return path


def _alpaca(i: int, instruction: str = "Name a colour.", output: str = "Blue.") -> str:
    return json.dumps({"id": i, "instruction": instruction, "input": "", "output": output})


def _dataset(path: Path, **extra) -> dict:
    return {"path": str(path), "fields": ALPACA_FIELDS, "limit": None, **extra}


def _prompts_evalset(path: Path, **extra) -> dict:
    return {"path": str(path), "format": "prompts", "default_category": "general", "limit": None, **extra}


# ---- on_malformed: HPLT's released Hindi test file (line 50 broken, no final newline) -------------------


def test_hplt_broken_line_stops_naming_file_and_line_by_default():
    spec = _prompts_evalset(HPLT_HI)
    with pytest.raises(InputError, match=rf"^{re.escape(str(HPLT_HI))}:50: malformed JSON .*on_malformed: skip"):
        normalise.load_eval(spec, str(HPLT_HI), "hplt", "hi")


def test_hplt_broken_line_is_skipped_and_counted_with_on_malformed_skip(capsys):
    spec = _prompts_evalset(HPLT_HI, on_malformed="skip")
    records, dropped = normalise.load_eval(spec, str(HPLT_HI), "hplt", "hi")
    assert len(records) == 49 and dropped == {"malformed_line": 1}
    assert records[0]["id"] == json.loads(HPLT_HI.read_text(encoding="utf-8").splitlines()[0])["id"]
    assert all(r["lang"] == "hi" and r["turns"][0].strip() for r in records)
    assert f"{HPLT_HI}:50" in capsys.readouterr().err  # the job's log names the line it dropped
    manifest = normalise.manifest(spec, str(HPLT_HI), len(records), dropped)
    assert manifest["dropped"] == {"malformed_line": 1} and manifest["records"] == 49


def test_on_malformed_must_be_stop_or_skip():
    with pytest.raises(InputError, match=r"config key 'datasets\.d\.on_malformed': 'ignore' is not one of stop, skip"):
        Malformed("ignore", "datasets.d")


def test_malformed_training_line_skipped_and_counted(tmp_path):
    path = _jsonl(tmp_path / "d.jsonl", _alpaca(1), '{"id": 2, "instruction": "x",', _alpaca(3, "Say hi.", "Hi."))
    with pytest.raises(InputError, match=rf"{path}:2: malformed JSON"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")
    records, dropped = normalise.load_instructions(_dataset(path, on_malformed="skip"), str(path), "d", "en")
    assert [r["id"] for r in records] == ["1", "3"] and dropped == {"malformed_line": 1}


# ---- LIMA's `conversations`: a list of plain strings, user and assistant alternating ----------------------


def test_lima_conversations_load_as_training_data_multi_turn_kept_whole():
    spec = {"path": str(LIMA), "fields": {"messages": "conversations"}, "limit": None}
    records, dropped = normalise.load_instructions(spec, str(LIMA), "lima", "en")
    raw = [json.loads(line)["conversations"] for line in LIMA.read_text(encoding="utf-8").splitlines()]
    assert not dropped and len(records) == len(raw) == 6
    for record, turns in zip(records, raw):
        assert [m["content"] for m in record["messages"]] == turns  # every turn kept, none cut
        assert [m["role"] for m in record["messages"]] == ["user", "assistant"] * (len(turns) // 2)
        assert record["lang"] == "en" and record["id"].startswith("lima-")
    assert sorted(len(r["messages"]) for r in records) == [2, 2, 2, 2, 4, 6]


def test_lima_multi_turn_record_trains_on_its_last_answer_with_the_whole_conversation_as_context():
    spec = {"path": str(LIMA), "fields": {"messages": "conversations"}, "limit": None}
    records, _ = normalise.load_instructions(spec, str(LIMA), "lima", "en")
    six = next(r for r in records if len(r["messages"]) == 6)
    example = chat.training_example(six, "chat")
    assert example["prompt"] == six["messages"][:5] and example["completion"] == [six["messages"][5]]
    alpaca = chat.training_example(six, "alpaca")
    assert alpaca["completion"] == six["messages"][5]["content"]
    for message in six["messages"][:5]:  # earlier turns fold into the Alpaca prompt, in order
        assert message["content"] in alpaca["prompt"]
    assert alpaca["prompt"].endswith("### Response:\n")


def test_conversation_ending_with_a_question_is_counted_not_trained(tmp_path):
    path = _jsonl(
        tmp_path / "lima.jsonl",
        json.dumps({"conversations": ["Q1", "A1"]}),
        json.dumps({"conversations": ["Q1", "A1", "Q2"]}),
    )
    spec = {"path": str(path), "fields": {"messages": "conversations"}, "limit": None}
    records, dropped = normalise.load_instructions(spec, str(path), "lima", "en")
    assert len(records) == 1 and dropped == {"no_final_answer": 1}


# ---- bytes: invalid UTF-8 names file:line, a byte-order mark is read ---------------------------------------


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = _jsonl(tmp_path / "d.jsonl", _alpaca(1), b'{"id": 2, "instruction": "caf\xe9", "output": "x"}')
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:2: invalid UTF-8 \(byte 0xe9"):
        load_jsonl(path)


def test_invalid_utf8_line_is_skipped_and_counted_under_skip(tmp_path):
    path = _jsonl(tmp_path / "d.jsonl", _alpaca(1), b'{"id": 2, "instruction": "caf\xe9", "output": "x"}')
    records, dropped = normalise.load_instructions(_dataset(path, on_malformed="skip"), str(path), "d", "en")
    assert len(records) == 1 and dropped == {"malformed_line": 1}


def test_utf8_bom_is_accepted_in_jsonl(tmp_path):
    path = _jsonl(tmp_path / "d.jsonl", b"\xef\xbb\xbf" + _alpaca(1).encode(), _alpaca(2, "Say hi.", "Hi."))
    records, dropped = normalise.load_instructions(_dataset(path), str(path), "d", "en")
    assert [r["id"] for r in records] == ["1", "2"] and not dropped


def test_utf8_bom_is_accepted_in_a_json_array(tmp_path):
    path = tmp_path / "d.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([json.loads(_alpaca(1))]).encode())
    records, _ = normalise.load_instructions(_dataset(path), str(path), "d", "en")
    assert [r["id"] for r in records] == ["1"]


def test_read_json_lines_reports_every_problem_kind_under_skip(tmp_path):
    path = _jsonl(tmp_path / "x.jsonl", "[1]", "{bad", b"\xff", "", '{"ok": 1}')
    malformed = Malformed("skip")
    values = list(read_json_lines(path, malformed, objects=True))
    assert values == [(5, {"ok": 1})]
    assert malformed.locations == [f"{path}:1", f"{path}:2", f"{path}:3"]  # the blank line 4 is no record
