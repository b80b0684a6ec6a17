"""A local transformers judge: the judge prompt as a chat turn, greedy, batched."""
from __future__ import annotations

from polyinstruct import chat
from polyinstruct.generate import batched_generate


class LocalJudge:
    def __init__(self, model, tokenizer, *, batch_size: int, max_new_tokens: int, response_prefix: str = ""):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.response_prefix = response_prefix

    def complete(self, prompts: list[str]) -> tuple[list[str], dict]:
        """The judge's answers (including any forced prefix), in order."""
        rendered = [chat.render([{"role": "user", "content": p}], "chat", self.tokenizer) + self.response_prefix
                    for p in prompts]
        texts, stats = batched_generate(self.model, self.tokenizer, rendered, batch_size=self.batch_size,
                                        max_new_tokens=self.max_new_tokens, max_prompt_length=2048)
        return [self.response_prefix + t for t in texts], stats
