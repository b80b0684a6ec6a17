"""Base models without a chat template (Pythia, BLOOM, LLaMA, Llama-2 base, TowerBase) work in every stage:
their tokenizer loads, they are prompted with a text template (`models.<name>.prompt_template`, by default
`train.template`), and asking for `chat` on them stops naming the settings to change.

The model is a tiny random GPT-NeoX (Pythia's architecture) whose tokenizer has no chat template."""

from __future__ import annotations

import types

import pytest
import yaml
from conftest import REPO, _shipped, default_config, train_settings
from tiny_models import build_tiny_causal_lm

from polyinstruct.generate import answers
from polyinstruct.io import InputError, write_jsonl
from polyinstruct.models import chat, loader
from polyinstruct.workflow import grid, inputs

ITEMS = [{"id": f"q{i}", "category": "general", "turns": [t]} for i, t in enumerate(["Hi", "Name three fruits."])]


@pytest.fixture(scope="module")
def base_pointer(tmp_path_factory) -> dict:
    corpus = [r["instruction"] + " " + r["output"] for lang in ("en", "fr") for r in _shipped(lang, 60)]
    root = tmp_path_factory.mktemp("base")
    model_dir = build_tiny_causal_lm(root / "tiny-pythia", corpus, "gpt_neox", chat_template=False)
    return loader.prepare("tiny-pythia", {"path": str(model_dir)}, root / "prepared")


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def read_jsonl_plain(path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines()]


config = default_config


def test_a_tokenizer_without_chat_template_loads_and_chat_stops_naming_the_settings(base_pointer):
    tokenizer = loader.load_tokenizer(base_pointer)
    assert tokenizer.chat_template is None and tokenizer.pad_token is not None
    with pytest.raises(InputError, match=r"models\.<name>\.prompt_template.*models\.<name>\.chat_template"):
        chat.render([{"role": "user", "content": "Hi"}], "chat", tokenizer)
    text = chat.render([{"role": "user", "content": "Hi"}], "alpaca", tokenizer)
    assert text == chat.ALPACA.format(instruction="Hi")


def test_base_runs_are_prompted_with_the_model_setting_else_the_training_template():
    base = types.SimpleNamespace(model="smollm2-135m", method="base")
    tuned = types.SimpleNamespace(model="smollm2-135m", method="lora")
    assert inputs.prompt_template(config(**{"train.template": "chat"}), base) == "chat"
    alpaca = config()  # config.yaml: train.template alpaca
    assert alpaca["train"]["template"] == "alpaca"
    assert inputs.prompt_template(alpaca, base) == inputs.prompt_template(alpaca, tuned) == "alpaca"
    own = config(**{"train.template": "alpaca", "models.smollm2-135m.prompt_template": "chat"})
    assert inputs.prompt_template(own, base) == "chat" and inputs.prompt_template(own, tuned) == "alpaca"
    # the judge and the llm translator are the model used untuned: they follow the same setting
    plain_judge = config(**{"score.judge.prompt_template": None})
    assert inputs.judge_settings(plain_judge, "chen_single")["local"]["template"] == "alpaca"
    assert inputs.judge_settings(alpaca, "chen_single")["local"]["template"] == "chat"  # its own setting
    w = types.SimpleNamespace(dataset="polyalpaca", lang="fr")
    llm = config(**{"train.template": "alpaca", "translate.engine": "llm"})
    assert inputs.engine_settings(llm, w)["template"] == "alpaca"
    assert grid.untuned_template(own, "smollm2-135m") == "chat"


def test_a_base_model_trains_and_answers_with_the_alpaca_template(base_pointer, tmp_path):
    from polyinstruct.train import launch

    records = [
        {"id": f"r{i}", "lang": "en", "instruction": f"Say {i}.", "input": "", "output": f"{i}."} for i in range(12)
    ]
    write_jsonl(tmp_path / "train.jsonl", records[:8])
    write_jsonl(tmp_path / "valid.jsonl", records[8:])
    settings = train_settings(
        template="alpaca",
        global_batch_size=4,
        micro_batch_size=4,
        epochs=1,
        lr_scheduler="linear",
        warmup_ratio=0.03,
        warmup_steps=2,
        max_length=256,
        checkpoint_selection="last",
    )

    def spec(run_dir, **overrides):
        return launch.job_spec(
            "lora",
            base_pointer,
            tmp_path / "train.jsonl",
            tmp_path / "valid.jsonl",
            run_dir,
            {**settings, **overrides},
            1e-3,
            1,
            {},
        )

    with pytest.raises(InputError, match="config key 'train.template': chat"):
        launch.run(spec(tmp_path / "chat", template="chat"), 1)
    metrics = launch.run(spec(tmp_path / "run"), 1)
    assert metrics["template"] == "alpaca" and metrics["steps"] == 2 and metrics["checkpoint_selection"] == "last"
    rates = [e["learning_rate"] for e in read_jsonl_plain(tmp_path / "run/train_log.jsonl") if "learning_rate" in e]
    assert rates == pytest.approx([0.0, 5e-4])  # 2 warm-up steps win over warmup_ratio (which would give 1)

    tokenizer = loader.load_tokenizer(base_pointer)
    model = loader.load_run_model(base_pointer, "lora", str(tmp_path / "run/weights"))
    records, stats = answers.answer_eval_items(
        model, tokenizer, ITEMS, "alpaca", dict(batch_size=2, max_new_tokens=4, repetition_penalty=1.0)
    )
    assert [len(r["responses"]) for r in records] == [1, 1] and stats["prompts"] == 2


def test_the_local_judge_prompts_a_base_model_with_its_template(base_pointer):
    from polyinstruct.score.judge.local import LocalJudge
    from polyinstruct.score.judge.runner import judge_identity

    tokenizer = loader.load_tokenizer(base_pointer)
    seen = []

    class Engine:
        def complete(self, prompts, temperature, seed, max_new_tokens):
            seen.extend(prompts)
            return ["2]]" for _ in prompts], {"prompts": len(prompts)}

    judge = LocalJudge(
        None,
        tokenizer,
        batch_size=2,
        max_new_tokens=3,
        response_prefix="Rating: [[",
        engine=Engine(),
        template="alpaca",
    )
    out, _ = judge.complete(["Rate this answer."])
    assert seen == [chat.ALPACA.format(instruction="Rate this answer.") + "Rating: [["] and out == ["Rating: [[2]]"]
    with pytest.raises(InputError, match="prompt_template"):
        LocalJudge(None, tokenizer, batch_size=2, max_new_tokens=3, engine=Engine()).complete(["x"])
    settings = {"backend": "local", "model": "j", "engine": "transformers"}
    local = {"max_new_tokens": 3, "response_prefix": ""}
    as_before = judge_identity({**settings, "local": local})
    assert judge_identity({**settings, "local": {**local, "template": "chat"}}) == as_before  # caches stay valid
    assert judge_identity({**settings, "local": {**local, "template": "alpaca"}}) != as_before


def test_mt_and_the_llm_translator_prompt_a_base_model_with_alpaca(base_pointer, tmp_path):
    from polyinstruct.mt import mt_eval
    from polyinstruct.translate.llm import LLMEngine

    tokenizer = loader.load_tokenizer(base_pointer)
    engine = answers.TransformersEngine(
        loader.load_causal_lm(base_pointer), tokenizer, dict(batch_size=2, max_new_tokens=4)
    )
    prompts = yaml.safe_load((REPO / "resources/prompts/crosslingual/en.yaml").read_text())
    items = [{"id": "s1", "source": "Good morning.", "reference": "Bonjour.", "shots": []}]
    records, _ = mt_eval.translate(engine, tokenizer, items, "en", "fr", prompts, "alpaca", 4)
    assert len(records) == 1 and isinstance(records[0]["hypothesis"], str)
    with pytest.raises(InputError, match="prompt_template"):
        mt_eval.translate(engine, tokenizer, items, "en", "fr", prompts, "chat", 4)
    from polyinstruct.io import write_json

    pointer_file = tmp_path / "model.json"
    write_json(pointer_file, base_pointer)
    llm = LLMEngine(pointer=str(pointer_file), batch_size=2, max_new_tokens=4, template="alpaca")
    assert len(llm.translate_texts(["Hello there.", "Good night."], "en", "fr")) == 2


def test_lm_eval_scores_a_base_model_without_chat_template(base_pointer, tmp_path):
    from polyinstruct.lm_eval import lm_tasks

    names = lm_tasks.write_stubs(
        REPO / "resources/lm_eval/polybelebele/_default_template_yaml",
        tmp_path / "tasks",
        "polybelebele",
        str(REPO / "tests/fixtures/lm_eval/{flores}.jsonl"),
        ["fr"],
    )
    settings = {"include_path": str(tmp_path / "tasks"), "num_fewshot": 0, "batch_size": 4, "limit": 2}
    args = lm_tasks.model_args(base_pointer, "base", None)
    results = lm_tasks.evaluate(names[0], args, settings, seed=7)["results"][names[0]]
    assert 0.0 <= results["acc,none"] <= 1.0
