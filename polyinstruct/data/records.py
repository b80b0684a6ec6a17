"""The normalised record schemas every stage reads.

Instruction record: {id, source, lang, instruction, input, output} or {id, source, lang, messages}.
Eval record: {id, lang, category, turns: [str, ...], reference: [str, ...] | null, modifier: {...} | null}.
"""

from __future__ import annotations

TEXT_FIELDS = ("instruction", "input", "output")


def user_prompt(record: dict) -> str:
    """The first user turn of an instruction record (instruction, then input if any)."""
    if "messages" in record:
        return next(m["content"] for m in record["messages"] if m["role"] == "user")
    if record.get("input"):
        return f"{record['instruction']}\n\n{record['input']}"
    return record["instruction"]


def response(record: dict) -> str:
    if "messages" in record:
        return next(m["content"] for m in record["messages"] if m["role"] == "assistant")
    return record["output"]


def texts(record: dict) -> dict[str, str]:
    """Translatable text fields by name (messages become messages.<i>)."""
    if "messages" in record:
        return {f"messages.{i}": m["content"] for i, m in enumerate(record["messages"])}
    return {name: record.get(name, "") for name in TEXT_FIELDS}


def expected_language(record: dict) -> str:
    """The language a response to `record` should be in: the one an `answer_in_language` modifier asks for
    ("Réponds en allemand." on a French prompt expects German), else the prompt's own language."""
    modifier = record.get("modifier") or {}
    if modifier.get("name") == "answer_in_language":
        return modifier["lang"]
    return record["lang"]
