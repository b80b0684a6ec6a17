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
CRITERIA = ("helpfulness", "correct_language", "fluency", "factuality", "logical_coherence", "harmlessness")
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


# ---- training data: empty sources and unreadable shapes ------------------------------------------------------


def test_empty_dataset_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: no training records .*'datasets\.d'.*no records"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")


def test_dataset_of_blank_lines_is_refused(tmp_path):
    path = _jsonl(tmp_path / "blank.jsonl", "", "   ", "")
    with pytest.raises(InputError, match=r"no training records .*the source holds no records"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")


def test_dataset_whose_records_are_all_dropped_is_refused_naming_the_reasons(tmp_path):
    path = _jsonl(tmp_path / "d.jsonl", _alpaca(1, "  "), _alpaca(2, "Say hi.", ""), _alpaca(3, "  "))
    with pytest.raises(
        InputError, match=r"d\.jsonl: no training records .*all 3 dropped \(empty_instruction 2, empty_output 1\)"
    ):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")


def test_dataset_whose_lines_are_all_malformed_is_refused_under_skip(tmp_path):
    path = _jsonl(tmp_path / "d.jsonl", "{", "nope")
    with pytest.raises(InputError, match=r"all 2 dropped \(malformed_line 2\)"):
        normalise.load_instructions(_dataset(path, on_malformed="skip"), str(path), "d", "en")


def test_json_array_with_a_non_object_names_its_index_or_counts_it(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps([json.loads(_alpaca(1)), "stray", json.loads(_alpaca(2, "Say hi.", "Hi."))]))
    with pytest.raises(InputError, match=rf"{re.escape(str(path))}\[1\]: expected a JSON object, got str"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")
    records, dropped = normalise.load_instructions(_dataset(path, on_malformed="skip"), str(path), "d", "en")
    assert len(records) == 2 and dropped == {"malformed_line": 1}


def test_json_file_that_is_not_an_array_or_not_json_names_the_file(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"id": 1}')
    with pytest.raises(InputError, match=r"d\.json: expected a JSON array of records, got a dict"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")
    path.write_text('[\n  {"id": 1},\n  {"id": 2,,}\n]')
    with pytest.raises(InputError, match=r"d\.json:3: malformed JSON"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")


def test_invalid_utf8_in_a_json_array_names_its_line(tmp_path):
    path = tmp_path / "d.json"
    path.write_bytes(b'[\n  {"id": 1, "instruction": "ok", "output": "ok"},\n  {"id": 2, "instruction": "\xc3\x28"}\n]')
    with pytest.raises(InputError, match=r"d\.json:3: invalid UTF-8 \(byte 0xc3 at byte 29 of the line\)"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")


def test_bad_turn_in_messages_names_file_and_line(tmp_path):
    path = _jsonl(tmp_path / "sharegpt.jsonl", json.dumps({"conversations": [{"from": "human", "value": "hi"}, 3]}))
    spec = {"path": str(path), "fields": {"messages": "conversations"}, "limit": None}
    with pytest.raises(InputError, match=r"sharegpt\.jsonl:1: bad turn 3"):
        normalise.load_instructions(spec, str(path), "s", "en")


def test_unsupported_file_type_names_the_file(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,instruction,output\n1,a,b\n")
    with pytest.raises(InputError, match=r"d\.csv: unsupported file type '\.csv'"):
        normalise.load_instructions(_dataset(path), str(path), "d", "en")


# ---- eval sets --------------------------------------------------------------------------------------------


def _mapped_evalset(path: Path, **extra) -> dict:
    return {"path": str(path), "fields": EVAL_FIELDS, "format": None, "limit": None, **extra}


def test_eval_set_filtered_to_nothing_is_refused_naming_the_languages_found(tmp_path):
    path = _jsonl(
        tmp_path / "mixed.jsonl",
        *(json.dumps({"id": i, "lang": lang, "turns": ["q"]}) for i, lang in enumerate(["en", "de", "de"])),
    )
    with pytest.raises(
        InputError, match=r"mixed\.jsonl: no items in 'fr' .*no record is in this language \(found: de 2, en 1\)"
    ):
        normalise.load_eval(_mapped_evalset(path), str(path), "e", "fr")


def test_eval_set_whose_items_are_all_dropped_is_refused_naming_the_reasons(tmp_path):
    path = _jsonl(tmp_path / "fr.jsonl", json.dumps({"id": 1, "turns": [" "]}), json.dumps({"id": 2, "turns": [""]}))
    spec = _mapped_evalset(path)
    spec["path"] = str(tmp_path / "{lang}.jsonl")
    with pytest.raises(
        InputError, match=r"fr\.jsonl: no items in 'fr' for 'evalsets\.e'.*all 2 dropped \(empty_instruction 2\)"
    ):
        normalise.load_eval(spec, str(path), "e", "fr")


def test_empty_formatted_eval_file_is_refused(tmp_path):
    path = tmp_path / "prompts_fr.jsonl"
    path.write_bytes(b"\n")
    with pytest.raises(InputError, match=r"prompts_fr\.jsonl: no items in 'fr'.*the source holds no records"):
        normalise.load_eval(_prompts_evalset(path), str(path), "p", "fr")


def test_single_language_file_without_lang_field_says_how_to_name_its_language():
    path = FIXTURES / "alpaca_eval/model_outputs.json"
    spec = _mapped_evalset(path, fields={"turns": "instruction", "category": "dataset", "lang": "lang"})
    with pytest.raises(
        InputError, match=r"model_outputs\.json\[0\]: missing field 'lang'.*config key 'evalsets\.alpaca_eval\.lang'"
    ):
        normalise.load_eval(spec, str(path), "alpaca_eval", "en")


def test_alpaca_eval_outputs_load_when_the_config_entry_names_the_language():
    path = FIXTURES / "alpaca_eval/model_outputs.json"
    released = json.loads(path.read_text(encoding="utf-8"))
    spec = _mapped_evalset(path, fields={"turns": "instruction", "category": "dataset"}, lang="en")
    records, dropped = normalise.load_eval(spec, str(path), "alpaca_eval", "en")
    assert not dropped and [r["turns"] for r in records] == [[r["instruction"]] for r in released]
    assert [r["id"] for r in records] == [f"alpaca_eval-{i}" for i in range(5)]  # no ids in the file: positions
    assert {r["lang"] for r in records} == {"en"} and {r["category"] for r in records} == {"helpful_base"}
    with pytest.raises(InputError, match=r"config key 'evalsets\.alpaca_eval\.lang': the eval set is in 'en' only"):
        normalise.load_eval(spec, str(path), "alpaca_eval", "fr")


def test_messages_eval_set_skips_a_malformed_line_with_its_task_type(tmp_path):
    jsonl = _jsonl(
        tmp_path / "set.fr.jsonl",
        json.dumps([{"role": "user", "content": "Un"}]),
        '[{"role": "user", "content": "Deux"',
        json.dumps([{"role": "user", "content": "Trois"}]),
    )
    (tmp_path / "set.fr.types").write_text("one\ntwo\nthree\n", encoding="utf-8")
    spec = {"path": str(tmp_path / "set.{lang}.jsonl"), "format": "messages", "limit": None}
    with pytest.raises(InputError, match=rf"{re.escape(str(jsonl))}:2: malformed JSON"):
        normalise.load_eval(spec, str(jsonl), "set", "fr")
    records, dropped = normalise.load_eval({**spec, "on_malformed": "skip"}, str(jsonl), "set", "fr")
    assert [(r["turns"][0], r["category"]) for r in records] == [("Un", "one"), ("Trois", "three")]
    assert dropped == {"malformed_line": 1}


def test_messages_eval_set_blank_line_would_shift_the_task_types_and_is_refused(tmp_path):
    jsonl = _jsonl(tmp_path / "set.fr.jsonl", json.dumps([{"role": "user", "content": "Un"}]), "")
    (tmp_path / "set.fr.types").write_text("one\ntwo\n", encoding="utf-8")
    spec = {"path": str(tmp_path / "set.{lang}.jsonl"), "format": "messages", "limit": None}
    with pytest.raises(InputError, match=r"set\.fr\.jsonl:2: empty line"):
        normalise.load_eval(spec, str(jsonl), "set", "fr")


def test_task_type_file_with_bad_bytes_names_file_and_line(tmp_path):
    from polyinstruct.data import evalsets

    path = tmp_path / "x.types"
    path.write_bytes(b"brainstorming\ncr\xe9ative\n")
    with pytest.raises(InputError, match=r"x\.types:2: invalid UTF-8"):
        evalsets.read_types(path)


def test_mt_bench_questions_with_a_bom_load(tmp_path):
    source = FIXTURES / "evalsets/mt_bench_question.jsonl"
    path = tmp_path / "question.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    spec = {"path": str(path), "format": "mt-bench", "limit": None}
    assert normalise.load_eval(spec, str(path), "mt", "en") == normalise.load_eval(
        {**spec, "path": str(source)}, str(source), "mt", "en"
    )


# ---- parallel text (cross-lingual instructions) ---------------------------------------------------------------


def _lines(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_parallel_line_with_bad_bytes_stops_or_drops_the_pair(tmp_path):
    from polyinstruct.mixtures import crosslingual

    paths = {
        "en": _lines(tmp_path / "en.txt", b"One.\nTwo.\nThree.\n"),
        "fr": _lines(tmp_path / "fr.txt", b"Un.\nD\xe9ux.\nTrois.\n"),
    }
    with pytest.raises(InputError, match=r"fr\.txt:2: invalid UTF-8 .*crosslingual\.parallel\.on_malformed: skip"):
        crosslingual.read_parallel("lines", paths, "en", "fr", Malformed("stop", "crosslingual.parallel"))
    malformed = Malformed("skip", "crosslingual.parallel")
    assert crosslingual.read_parallel("lines", paths, "en", "fr", malformed) == [("One.", "Un."), ("Three.", "Trois.")]
    assert malformed.count == 1


def test_parallel_files_with_a_bom_keep_the_first_sentence_clean(tmp_path):
    from polyinstruct.mixtures import crosslingual

    paths = {
        "en": _lines(tmp_path / "en.txt", b"\xef\xbb\xbfOne.\r\nTwo.\r\n"),
        "fr": _lines(tmp_path / "fr.txt", b"Un.\nDeux.\n"),
    }
    assert crosslingual.read_parallel("lines", paths, "en", "fr") == [("One.", "Un."), ("Two.", "Deux.")]


def test_parallel_tsv_and_jsonl_bad_lines_are_counted_under_skip(tmp_path):
    from polyinstruct.mixtures import crosslingual

    tsv = _lines(tmp_path / "p.tsv", b"One.\tUn.\nbroken\nTwo.\tDeux.\n")
    malformed = Malformed("skip")
    assert crosslingual.read_parallel("tsv", {"pair": tsv}, "en", "fr", malformed) == [
        ("One.", "Un."),
        ("Two.", "Deux."),
    ]
    assert malformed.locations == [f"{tsv}:2"]
    jsonl = _jsonl(tmp_path / "p.jsonl", '{"en": "One.", "fr": "Un."}', '{"en": "Two."}', '{"en": 3, "fr": "Trois"}')
    with pytest.raises(InputError, match=r"p\.jsonl:2: needs string values for keys 'en' and 'fr'"):
        crosslingual.read_parallel("jsonl", {"pair": jsonl}, "en", "fr")
    malformed = Malformed("skip")
    assert crosslingual.read_parallel("jsonl", {"pair": jsonl}, "en", "fr", malformed) == [("One.", "Un.")]
    assert malformed.count == 2


def test_empty_parallel_text_is_refused(tmp_path):
    from polyinstruct.mixtures import crosslingual

    paths = {"en": _lines(tmp_path / "en.txt", b""), "fr": _lines(tmp_path / "fr.txt", b"")}
    with pytest.raises(InputError, match=r"en\.txt and .*fr\.txt: no en-fr sentence pairs"):
        crosslingual.read_parallel("lines", paths, "en", "fr")


def test_empty_sides_of_parallel_text_are_counted():
    from polyinstruct.mixtures import crosslingual

    prompts = crosslingual.load_prompts(Path(__file__).resolve().parents[1] / "resources/prompts/crosslingual", "en")
    settings = {"tasks": ["sentence"], "directions": "from_pivot", "max_per_task": None, "document_sentences": 2}
    records, dropped = crosslingual.build(
        [("One.", "Un."), ("", "Deux."), ("Three.", " ")], "en", "fr", prompts, settings, 1
    )
    assert len(records) == 1 and dropped == {"empty_side": 2}


# ---- MT test sets --------------------------------------------------------------------------------------------


def _mt_paths(tmp_path: Path, source: bytes, reference: bytes) -> dict:
    return {
        "source": str(_lines(tmp_path / "src.devtest", source)),
        "reference": str(_lines(tmp_path / "ref.devtest", reference)),
    }


def test_mt_segment_with_an_empty_side_is_counted_and_ids_do_not_shift(tmp_path):
    from collections import Counter

    from polyinstruct.mt import mt_eval

    paths = _mt_paths(tmp_path, b"One.\n\nThree.\n", b"Un.\nDeux.\nTrois.\n")
    dropped = Counter()
    items = mt_eval.items(paths, 0, 1, "en", "fr", dropped=dropped)
    assert [i["id"] for i in items] == ["en-fr-0", "en-fr-2"] and dropped == {"empty_segment": 1}


def test_mt_test_line_with_bad_bytes_names_file_and_line_or_drops_the_pair(tmp_path):
    from polyinstruct.mt import mt_eval

    paths = _mt_paths(tmp_path, b"One.\nTwo.\n", b"Un.\nD\xe9ux.\n")
    with pytest.raises(InputError, match=r"ref\.devtest:2: invalid UTF-8 .*mt_eval\.testsets\.flores\.on_malformed"):
        mt_eval.items(paths, 0, 1, "en", "fr", malformed=Malformed("stop", "mt_eval.testsets.flores"))
    malformed = Malformed("skip", "mt_eval.testsets.flores")
    items = mt_eval.items(paths, 0, 1, "en", "fr", malformed=malformed)
    assert [i["id"] for i in items] == ["en-fr-0"] and malformed.count == 1


def test_empty_mt_test_set_is_refused(tmp_path):
    from polyinstruct.mt import mt_eval

    with pytest.raises(InputError, match=r"src\.devtest: no test segments left for en-fr \(the files are empty\)"):
        mt_eval.items(_mt_paths(tmp_path, b"", b""), 0, 1, "en", "fr")


def test_misaligned_mt_test_files_name_both(tmp_path):
    from polyinstruct.mt import mt_eval

    with pytest.raises(InputError, match=r"ref\.devtest: 1 lines, but .*src\.devtest has 2"):
        mt_eval.items(_mt_paths(tmp_path, b"a\nb\n", b"a\n"), 0, 1, "en", "fr")


# ---- config ------------------------------------------------------------------------------------------------


def _config(**changes) -> dict:
    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node, *keys = config, *dotted.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return config


def _validate(config: dict) -> dict:
    from polyinstruct.workflow import config as configuration

    schema = configuration.load_schema(Path(__file__).resolve().parents[1] / "schemas/config.schema.yaml")
    return configuration.validate(config, schema)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"languages": ["en", "fr", "fr"]},
            r"config key 'languages': 'fr' listed twice \(languages\[1\] and languages\[2\]\)",
        ),
        (
            {"eval_languages": ["en", "eng"]},
            r"config key 'eval_languages': 'en' and 'eng' \(the same language\) listed twice",
        ),
        ({"crosslingual__pivots": ["en", "en"]}, r"config key 'crosslingual\.pivots': 'en' listed twice"),
        ({"crosslingual__languages": ["de", "fr", "de"]}, r"config key 'crosslingual\.languages': 'de' listed twice"),
        ({"lm_eval__languages": ["fr", "fra"]}, r"config key 'lm_eval\.languages': 'fr' and 'fra'"),
        (
            {"mt_eval__testsets": {"flores": {"test": "f/{lang}.devtest", "shots": 0, "languages": ["fr", "fr"]}}},
            r"config key 'mt_eval\.testsets\.flores\.languages': 'fr' listed twice",
        ),
        (
            {
                "mt_eval__testsets": {
                    "wmt": {
                        "source": "{src}-{tgt}.src",
                        "reference": "{src}-{tgt}.ref",
                        "shots": 0,
                        "pairs": ["en-de", "en-de"],
                    }
                }
            },
            r"config key 'mt_eval\.testsets\.wmt\.pairs': 'en-de' listed twice",
        ),
        (
            {"datasets__polyalpaca__on_malformed": "ignore"},
            r"config key 'datasets\.polyalpaca\.on_malformed': 'ignore' is not one of",
        ),
    ],
)
def test_config_language_lists_and_policies_are_checked_naming_the_key(changes, message):
    from polyinstruct.workflow.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        _validate(_config(**changes))


def test_eval_set_language_must_match_the_eval_languages_and_not_fight_its_path():
    from polyinstruct.workflow.config import ConfigError

    config = _config()
    name = next(iter(config["evalsets"]))
    config["evalsets"][name]["lang"] = "en"
    with pytest.raises(
        ConfigError, match=rf"config key 'evalsets\.{name}\.lang': the path .* already names one file per language"
    ):
        _validate(config)
    config["evalsets"] = {
        "alpaca_eval": {"path": "model_outputs.json", "fields": {"turns": "instruction"}, "lang": "en"}
    }
    with pytest.raises(
        ConfigError,
        match=r"config key 'evalsets\.alpaca_eval\.lang': the eval set is in 'en' only, but the eval languages",
    ):
        _validate(config)
    config["eval_languages"] = ["en"]
    assert _validate(config)["evalsets"]["alpaca_eval"]["on_malformed"] == "stop"


# ---- judge answers: every unparseable answer is kept, named by reason and counted --------------------------


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (None, "judge_call_failed"),
        ("The answer is fine.", "no_rating"),
        ("Rating: [[2]] ... on reflection [[3]]", "multiple_ratings"),
        ("Rating: [[7]]", "out_of_range"),
        ("Rating: [[2.5]]", "not_an_integer"),
    ],
)
def test_unparseable_single_ratings_are_named(answer, error):
    from polyinstruct.score.judge import single

    assert single.parse_rating(answer, 1, 3) == single.Verdict(None, error)


@pytest.mark.parametrize(
    ("answer", "allow_both_bad", "error"),
    [
        ("Both are good.", False, "no_verdict"),
        ("[[A]] no wait [[B]]", False, "multiple_verdicts"),
        ("[[D]]", False, "both_bad_not_allowed"),
        (None, True, "judge_call_failed"),
    ],
)
def test_unparseable_pairwise_verdicts_are_named(answer, allow_both_bad, error):
    from polyinstruct.score.judge import pairwise

    assert pairwise.parse_verdict(answer, allow_both_bad) == (None, error)


@pytest.mark.parametrize(
    ("answer", "error", "detail"),
    [
        ("I would rate it highly.", "no_json", None),
        (
            '```json\n{"helpfulness": 2,}\n```',
            "invalid_json",
            "Expecting property name enclosed in double quotes at column 19",
        ),
        (
            json.dumps({name: 3 if name == "helpfulness" else 2 for name in CRITERIA}),
            "schema_violation",
            "helpfulness: 3 is greater than the maximum of 2",
        ),
    ],
)
def test_unparseable_criteria_answers_are_named_with_detail(answer, error, detail):
    from polyinstruct.score.judge import criteria

    assert criteria.parse_criteria(answer) == (None, error, detail)


def test_unparsed_ratings_are_counted_in_the_summary_not_scored_as_zero():
    from polyinstruct.score.judge import single

    rows = [{"category": "c", "rating": r} for r in (3, None, 1, None)]
    assert single.mean_by(rows, "category") == {"c": {"n": 4, "scored": 2, "unscored": 2, "mean": 2.0}}


# ---- human votes and precomputed translations ------------------------------------------------------------------


def test_human_votes_with_a_bom_load_and_bad_bytes_or_no_votes_are_named(tmp_path):
    from polyinstruct.score import agreement

    source = FIXTURES / "evalsets/human_votes.csv"
    bom = _lines(tmp_path / "bom.csv", b"\xef\xbb\xbf" + source.read_bytes())
    assert agreement.read_human_votes(bom) == [
        agreement.Vote(v.key, v.label, v.annotator, v.where.replace(str(source), str(bom)))
        for v in agreement.read_human_votes(source)
    ]
    bad = _lines(tmp_path / "bad.csv", source.read_bytes().replace(b"h2", b"h\xe92", 1))
    with pytest.raises(InputError, match=r"bad\.csv:3: invalid UTF-8"):
        agreement.read_human_votes(bad)
    header = _lines(tmp_path / "header.csv", source.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(InputError, match=r"header\.csv: no votes"):
        agreement.read_human_votes(header)


def test_precomputed_translation_file_malformed_line_stops_or_counts_its_record_as_missing(tmp_path):
    from polyinstruct.translate.engines import PrecomputedEngine

    path = _jsonl(
        tmp_path / "fr.jsonl",
        json.dumps({"id": "1", "instruction": "Nomme une couleur.", "input": "", "output": "Bleu."}),
        '{"id": "2", "instruction": "Dis bonjour.",',
    )
    with pytest.raises(InputError, match=r"fr\.jsonl:2: malformed JSON .*translate\.precomputed\.on_malformed: skip"):
        PrecomputedEngine(str(path))
    engine = PrecomputedEngine(str(path), on_malformed="skip")
    source = [json.loads(_alpaca(1)) | {"id": "1"}, json.loads(_alpaca(2, "Say hi.", "Hi.")) | {"id": "2"}]
    out, missing = engine.translate_records(source, "en", "fr")
    assert [r["output"] for r in out] == ["Bleu."] and missing == {"missing_translation": 1}
