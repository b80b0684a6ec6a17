"""Prompt formats shared by training and generation, so a run is prompted the way it was trained.

`chat` uses the tokenizer's chat template; `alpaca` is the Stanford Alpaca text template that
several of the studies fine-tuned with (Alpaca-LoRA's `templates/alpaca.json`, the one Chen et al.'s
LoRA code used). Base models (Pythia, BLOOM, LLaMA, Llama-2 base, TowerBase) ship no chat template:
they are prompted with `alpaca` (`models.<name>.prompt_template`, by default `train.template`), and
asking for `chat` on such a tokenizer stops with a message naming the settings to change.
"""

from __future__ import annotations

from polyinstruct.data import records as rec
from polyinstruct.io import InputError

ALPACA = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)
ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
TEMPLATES = ("chat", "alpaca")


def _alpaca_prompt(instruction: str, extra: str = "") -> str:
    if extra:
        return ALPACA_WITH_INPUT.format(instruction=instruction, input=extra)
    return ALPACA.format(instruction=instruction)


def training_example(record: dict, template: str) -> dict:
    """A prompt/completion pair in the form TRL's SFTTrainer takes (completion-only loss ready)."""
    if template == "chat":
        if "messages" in record:
            *context, last = record["messages"]
            return {"prompt": context, "completion": [last]}
        return {
            "prompt": [{"role": "user", "content": rec.user_prompt(record)}],
            "completion": [{"role": "assistant", "content": rec.response(record)}],
        }
    if template == "alpaca":
        if "messages" in record:  # a multi-turn record stays whole: earlier turns fold in as Alpaca blocks
            *context, last = record["messages"]
            return {"prompt": render(context, "alpaca", None), "completion": last["content"]}
        return {
            "prompt": _alpaca_prompt(record["instruction"], record.get("input", "")),
            "completion": record["output"],
        }
    raise ValueError(f"unknown prompt template '{template}' (one of {TEMPLATES})")


def has_chat_template(tokenizer) -> bool:
    return getattr(tokenizer, "chat_template", None) is not None


def require_chat_template(tokenizer, what: str = "this model") -> None:
    """Stop, naming the settings to change, when `chat` is asked of a tokenizer without a chat template."""
    if not has_chat_template(tokenizer):
        raise InputError(
            f"{what} is prompted with its chat template, but its tokenizer has none (a base model such as "
            "Pythia, BLOOM or LLaMA): prompt it with `alpaca` (config key 'train.template' for tuned runs, "
            "'models.<name>.prompt_template' for the untuned model: base runs, judge, llm translator) or give "
            "it a template ('models.<name>.chat_template')"
        )


def render(messages: list[dict], template: str, tokenizer) -> str:
    """The text a model continues: the conversation so far, ending where the assistant speaks."""
    if template == "chat":
        require_chat_template(tokenizer, f"model '{getattr(tokenizer, 'name_or_path', '?')}'")
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if template == "alpaca":
        # earlier turns are folded in as Alpaca blocks; the last user turn is the instruction
        text, system = "", ""
        for message in messages:
            if message["role"] == "system":  # a judge's system prompt (FastChat) leads the next instruction
                system += message["content"] + "\n\n"
            elif message["role"] == "user":
                text += _alpaca_prompt(system + message["content"])
                system = ""
            elif message["role"] == "assistant":
                text += message["content"] + "\n\n"
        return text
    raise ValueError(f"unknown prompt template '{template}' (one of {TEMPLATES})")
