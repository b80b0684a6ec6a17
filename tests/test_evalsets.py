from pathlib import Path

import pytest

from polyinstruct.data import evalsets
from polyinstruct.io import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures/evalsets"


def test_fastchat_mt_bench_questions():
    items = evalsets.load_mt_bench(FIXTURES / "mt_bench_question.jsonl", "en")
    assert [i["id"] for i in items] == ["81", "111", "131"]
    writing, math, extraction = items
    assert writing == {
        "id": "81",
        "lang": "en",
        "category": "writing",
        "turns": writing["turns"],
        "reference": None,
        "modifier": None,
    }
    assert len(writing["turns"]) == 2 and writing["turns"][1].startswith("Rewrite your previous response")
    assert math["reference"] == ["Area is 3", "5pi"] and extraction["category"] == "extraction"


def test_mt_bench_x_language_comes_from_the_id():
    items = evalsets.load_mt_bench_x(FIXTURES / "mt_bench_x_de.jsonl")
    assert [(i["id"], i["lang"], i["category"]) for i in items] == [
        ("81_DE", "de", "writing"),
        ("111_DE", "de", "math"),
        ("121_DE", "de", "coding"),
    ]
    assert items[2]["reference"] == ["Nutze collections.Counter.", None]
    assert evalsets.load_mt_bench_x(FIXTURES / "mt_bench_x_de.jsonl", "de") == items


def test_mt_bench_x_file_declared_as_another_language(tmp_path):
    with pytest.raises(InputError, match=r"mt_bench_x_de.jsonl:1: id '81_DE' is de, but the file is declared as fr"):
        evalsets.load_mt_bench_x(FIXTURES / "mt_bench_x_de.jsonl", "fr")


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"question_id": "81", "category": "writing", "turns": ["Hi"]}', "lacks a language suffix like '81_DE'"),
        ('{"question_id": "81_XX", "category": "writing", "turns": ["Hi"]}', "unknown language code 'xx'"),
        ('{"question_id": 81, "category": "writing", "turns": ["Hi"]}', "must be a string like '81_DE'"),
        ('{"question_id": "81_FR", "turns": ["Hi"]}', "missing or empty 'category'"),
        (
            '{"question_id": "81_FR", "category": "math", "turns": ["Hi"], "reference": ["a", "b"]}',
            "2 reference answers for 1 turns",
        ),
        ('{"question_id": "81_FR", "category": "math", "turns": []}', "'turns' must be a non-empty list"),
    ],
)
def test_mt_bench_x_bad_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question_id": "1_FR", "category": "writing", "turns": ["Salut"]}\n' + line + "\n")
    with pytest.raises(InputError, match=rf"q.jsonl:2: .*{message}"):
        evalsets.load_mt_bench_x(path)


def test_mt_bench_duplicate_and_non_integer_ids(tmp_path):
    path = tmp_path / "question.jsonl"
    path.write_text(
        '{"question_id": 1, "category": "writing", "turns": ["a"]}\n\n'
        '{"question_id": 1, "category": "writing", "turns": ["b"]}\n'
    )
    with pytest.raises(InputError, match=r"question.jsonl:3: duplicate id '1' \(first at .*question.jsonl:1\)"):
        evalsets.load_mt_bench(path, "en")
    path.write_text('{"question_id": "1", "category": "writing", "turns": ["a"]}\n')
    with pytest.raises(InputError, match="question.jsonl:1: 'question_id' must be an integer"):
        evalsets.load_mt_bench(path, "en")


def test_message_lists_with_parallel_types():
    items = evalsets.load_messages(FIXTURES / "alpacafarm_fr.jsonl", FIXTURES / "alpacafarm_fr.types", "fr")
    assert [(i["id"], i["category"]) for i in items] == [
        ("alpacafarm_fr-1", "brainstorming"),
        ("alpacafarm_fr-2", "creative_writing"),
        ("alpacafarm_fr-3", "advice"),
    ]
    assert items[0]["turns"] == ["Quels sont les noms de quelques célébrités des années 1970 ?"]
    assert items[0]["reference"] is None
    assert items[1]["reference"] == ["Feuilles rousses au vent"]
    assert items[2]["turns"] == ["Donne trois conseils pour bien dormir.", "Et pour un enfant ?"]
    assert items[2]["reference"] == ["Se coucher tôt, éviter les écrans, dormir au frais.", None]


def test_types_file_of_another_length_names_both_files(tmp_path):
    types = tmp_path / "short.types"
    types.write_text("brainstorming\nadvice\n")
    with pytest.raises(InputError, match=r"alpacafarm_fr.jsonl has 3 items but .*short.types has 2 task types"):
        evalsets.load_messages(FIXTURES / "alpacafarm_fr.jsonl", types, "fr")
    types.write_text("brainstorming\n\nadvice\n")
    with pytest.raises(InputError, match=r"short.types:2: empty task type"):
        evalsets.load_messages(FIXTURES / "alpacafarm_fr.jsonl", types, "fr")


@pytest.mark.parametrize(
    "line, message",
    [
        (
            '[{"role": "system", "content": "Be nice."}, {"role": "user", "content": "Hi"}]',
            "message 0 has role 'system'",
        ),
        ('[{"role": "assistant", "content": "Hi"}]', "an assistant message must follow a user message"),
        ('[{"role": "user", "content": 3}]', "must be an object with a string 'content'"),
        ('"just text"', "expected a list of messages"),
    ],
)
def test_bad_message_lines(tmp_path, line, message):
    path = tmp_path / "m.jsonl"
    path.write_text(line + "\n")
    (tmp_path / "m.types").write_text("x\n")
    with pytest.raises(InputError, match=rf"m.jsonl:1: .*{message}"):
        evalsets.load(spec={"format": "messages"}, path=path, lang="en", name="m")


def test_one_prompt_per_line():
    items = evalsets.load_prompts(FIXTURES / "prompts_fr.jsonl", "fr")
    assert [(i["id"], i["category"]) for i in items] == [
        ("prompts_fr-1", "general"),
        ("fr-2", "translation"),
        ("prompts_fr-3", "open_qa"),
    ]
    assert items[1]["turns"] == ["Traduis la phrase suivante en anglais.\n\nLe chat dort sur le canapé."]
    assert all(i["lang"] == "fr" and i["modifier"] is None and i["reference"] is None for i in items)


def test_prompt_lines_need_a_prompt(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "ok"}\n{"text": "no prompt field"}\n')
    with pytest.raises(InputError, match=r"p.jsonl:2: need a 'prompt' or an 'instruction' field"):
        evalsets.load_prompts(path, "en")
    path.write_text('{"prompt": "  "}\n')
    with pytest.raises(InputError, match=r"p.jsonl:1: the prompt must be a non-empty string"):
        evalsets.load_prompts(path, "en")


def test_task_modifier_items_name_their_modifier():
    items = evalsets.load(spec={"format": "modifiers"}, path=FIXTURES / "modifiers_en.jsonl", lang="en", name="mods")
    assert [i["modifier"]["name"] for i in items] == [
        "list_items",
        "answer_in_language",
        "brief",
        "html",
        "arrow_bullets",
        "capitalise",
        "markdown",
        "scientific_style",
    ]
    assert items[0]["modifier"] == {"name": "list_items", "n": 3}
    assert items[1]["modifier"] == {"name": "answer_in_language", "lang": "fr"}


@pytest.mark.parametrize(
    "modifier, message",
    [
        ('"shouting"', "unknown modifier 'shouting'"),
        ('{"name": "list_items"}', "modifier 'list_items' needs 'n' \\(int\\)"),
        ('{"name": "list_items", "n": 0}', "needs n >= 1"),
        ('{"name": "answer_in_language", "lang": "klingon"}', "unknown language code 'klingon'"),
        ("42", "modifier must be a name or an object"),
    ],
)
def test_bad_modifiers(tmp_path, modifier, message):
    path = tmp_path / "mods.jsonl"
    path.write_text('{"prompt": "Hello", "modifier": ' + modifier + "}\n")
    with pytest.raises(InputError, match=rf"mods.jsonl:1: .*{message}"):
        evalsets.load_prompts(path, "en", with_modifiers=True)


def test_modifier_missing_or_unexpected(tmp_path):
    path = tmp_path / "mods.jsonl"
    path.write_text('{"prompt": "Hello"}\n')
    with pytest.raises(InputError, match="mods.jsonl:1: a task-modifier item must name its 'modifier'"):
        evalsets.load_prompts(path, "en", with_modifiers=True)
    path.write_text('{"prompt": "Hello", "modifier": "brief"}\n')
    with pytest.raises(InputError, match="mods.jsonl:1: item names a modifier, but the eval set's format"):
        evalsets.load_prompts(path, "en")


def test_unknown_format_names_the_config_key():
    with pytest.raises(InputError, match=r"config key 'evalsets.mtb.format': 'alpaca' is not one of"):
        evalsets.load({"format": "alpaca"}, FIXTURES / "prompts_fr.jsonl", "fr", "mtb")


def test_messages_format_finds_types_beside_the_file_or_from_the_spec(tmp_path):
    items = evalsets.load({"format": "messages"}, FIXTURES / "alpacafarm_fr.jsonl", "fr", "af")
    assert [i["category"] for i in items] == ["brainstorming", "creative_writing", "advice"]
    (tmp_path / "fr.types").write_text("a\nb\nc\n")
    items = evalsets.load(
        {"format": "messages", "types_path": str(tmp_path / "{lang}.types")},
        FIXTURES / "alpacafarm_fr.jsonl",
        "fr",
        "af",
    )
    assert [i["category"] for i in items] == ["a", "b", "c"]


def test_category_temperatures_follow_mt_bench_x():
    settings = evalsets.MT_BENCH_TEMPERATURES
    expected = {
        "writing": 0.7,
        "roleplay": 0.7,
        "stem": 0.1,
        "humanities": 0.1,
        "math": 0.0,
        "coding": 0.0,
        "reasoning": 0.0,
        "extraction": 0.0,
        "open_qa": 0.0,
    }
    assert {c: evalsets.category_temperature(c, settings) for c in expected} == expected
    items = evalsets.load_mt_bench_x(FIXTURES / "mt_bench_x_de.jsonl")
    assert evalsets.temperatures(items, settings) == {"81_DE": 0.7, "111_DE": 0.0, "121_DE": 0.0}


def test_category_temperature_errors_name_the_config_key():
    with pytest.raises(InputError, match=r"config key 'generate.temperature.default': required"):
        evalsets.category_temperature("writing", {"by_category": {"writing": 0.7}})
    with pytest.raises(InputError, match=r"'generate.temperature.by_category.writing': temperature must be"):
        evalsets.category_temperature("writing", {"default": 0, "by_category": {"writing": "hot"}})
    with pytest.raises(InputError, match=r"'gen.t.default': temperature must be a number >= 0, got -1"):
        evalsets.category_temperature("math", {"default": -1}, key="gen.t")
