import pytest

from polyinstruct.generate import answers
from polyinstruct.io import read_json
from polyinstruct.models import chat, loader

RECORDS = [
    {
        "id": f"r{i}",
        "lang": "en",
        "instruction": f"Repeat the word number {i}.",
        "input": "",
        "output": f"Word number {i}, repeated.",
    }
    for i in range(24)
]


@pytest.fixture(scope="module")
def pointer(tiny_llama, tmp_path_factory):
    return loader.prepare("tiny", {"path": str(tiny_llama)}, tmp_path_factory.mktemp("prepared"))


def test_prepare_local_directory_points_at_it(tiny_llama, pointer, tmp_path):
    assert pointer["load"] == {"pretrained_model_name_or_path": str(tiny_llama.resolve())}
    fixed = loader.prepare("tiny", {"path": str(tiny_llama), "tokenizer": {"pad_token": "<|im_start|>"}}, tmp_path)
    assert fixed["load"]["pretrained_model_name_or_path"] == str(tmp_path / "hf")
    assert loader.load_tokenizer(fixed).pad_token == "<|im_start|>"
    assert read_json(tmp_path / "model.json") == fixed


def test_prepare_rejects_a_directory_without_config(tmp_path):
    from polyinstruct.io import InputError

    with pytest.raises(InputError, match="models.broken.path"):
        loader.prepare("broken", {"path": str(tmp_path)}, tmp_path / "out")


def test_training_examples_mask_prompt_form():
    example = chat.training_example(RECORDS[0], "chat")
    assert example["prompt"] == [{"role": "user", "content": "Repeat the word number 0."}]
    assert example["completion"] == [{"role": "assistant", "content": "Word number 0, repeated."}]
    alpaca = chat.training_example({**RECORDS[0], "input": "ctx"}, "alpaca")
    assert (
        alpaca["prompt"].endswith("### Input:\nctx\n\n### Response:\n")
        and alpaca["completion"] == "Word number 0, repeated."
    )


def test_batched_generation_equals_one_at_a_time(pointer):
    import torch

    torch.manual_seed(0)
    model, tokenizer = loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)
    items = [
        {"id": str(i), "turns": [t]}
        for i, t in enumerate(["Hi", "Name three fruits please.", "Repeat the word number 3 again and again.", "Why?"])
    ]
    settings = dict(batch_size=4, max_new_tokens=6, repetition_penalty=1.0, max_prompt_length=128)
    batched, stats = answers.answer_eval_items(model, tokenizer, items, "chat", settings)
    single, _ = answers.answer_eval_items(model, tokenizer, items, "chat", {**settings, "batch_size": 1})
    assert [r["responses"] for r in batched] == [r["responses"] for r in single]
    assert stats["prompts"] == 4 and stats["new_tokens"] > 0


def test_second_turn_sees_first_answer(pointer):
    model, tokenizer = loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)
    seen = []
    original = chat.render

    def spy(messages, template, tok):
        seen.append([m["role"] for m in messages])
        return original(messages, template, tok)

    chat.render = spy
    try:
        records, _ = answers.answer_eval_items(
            model,
            tokenizer,
            [{"id": "a", "turns": ["One?", "Two?"]}],
            "chat",
            dict(batch_size=2, max_new_tokens=3, repetition_penalty=1.0, max_prompt_length=64),
        )
    finally:
        chat.render = original
    assert seen == [["user"], ["user", "assistant", "user"]]
    assert len(records[0]["responses"]) == 2


def test_sampling_per_category_is_seeded_and_deterministic(pointer):
    model, tokenizer = loader.load_causal_lm(pointer), loader.load_tokenizer(pointer)
    items = [
        {"id": str(i), "category": cat, "turns": [f"Tell me about {cat} {i}.", "And more?"]}
        for i, cat in enumerate(["writing", "math", "writing", "stem"])
    ]
    settings = dict(
        batch_size=4,
        max_new_tokens=8,
        repetition_penalty=1.0,
        max_prompt_length=128,
        temperature={"default": 0.0, "by_category": {"writing": 1.5, "stem": 0.1}},
    )
    first, stats = answers.answer_eval_items(model, tokenizer, items, "chat", settings, seed=1)
    again, _ = answers.answer_eval_items(model, tokenizer, items, "chat", settings, seed=1)
    other, _ = answers.answer_eval_items(model, tokenizer, items, "chat", settings, seed=2)
    greedy, _ = answers.answer_eval_items(model, tokenizer, items, "chat", {**settings, "temperature": None}, seed=1)
    assert [r["responses"] for r in first] == [r["responses"] for r in again]
    assert [r["temperature"] for r in first] == [1.5, 0.0, 1.5, 0.1]
    assert stats["prompts_by_temperature"] == {"0.0": 2, "0.1": 2, "1.5": 4}
    writing = lambda records: [r["responses"] for r in records if r["category"] == "writing"]  # noqa: E731
    assert writing(first) != writing(other)  # the seed matters where sampling happens
    assert first[1]["responses"] == greedy[1]["responses"] == other[1]["responses"]  # greedy math is unaffected
    assert all(len(r["responses"]) == 2 for r in first)
