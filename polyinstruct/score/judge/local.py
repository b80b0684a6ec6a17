"""A local judge: the judge prompt as a chat turn, greedy, batched, on transformers (default) or vLLM.

A prompt given as chat messages (FastChat's system prompt, then the user prompt) is rendered with the
judge's chat template, system message included. Prompts cut to fit the judge's context are counted
(`stats["truncated_prompts"]`).
A judge model without a chat template (a base model) gets the prompt in its `template` instead
(`models.<name>.prompt_template`, e.g. `alpaca`: the judge prompt is the instruction).

It is a judge backend like `OpenAIJudge` (see `judge/backend.py`): wrap it in `CachedJudge` to cache
its answers and ledger its token counts, or call it directly (it ignores the template version).
"""

from __future__ import annotations

from polyinstruct.generate.answers import batched_generate
from polyinstruct.models import chat
from polyinstruct.score.judge.backend import as_messages

MAX_PROMPT_LENGTH = 2048  # judge prompt tokens kept (left-truncated, counted) by the transformers engine


class LocalJudge:
    def __init__(
        self,
        model,
        tokenizer,
        *,
        batch_size: int,
        max_new_tokens: int,
        response_prefix: str = "",
        name: str = "local",
        engine=None,
        template: str = "chat",
    ):
        self.model_obj = model
        self.engine = engine  # anything with complete(prompts, temperature, seed, max_new_tokens), e.g. VLLMEngine
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.response_prefix = response_prefix
        self.template = template
        self.model = name  # the judge's name in rows, cache keys and the ledger

    def complete(self, prompts: list, template: str | None = None) -> tuple[list[str], dict]:
        """The judge's answers (including any forced prefix), in order, with per-prompt token counts."""
        rendered = [chat.render(as_messages(p), self.template, self.tokenizer) + self.response_prefix for p in prompts]
        if self.engine is not None:
            texts, stats = self.engine.complete(rendered, temperature=0.0, seed=0, max_new_tokens=self.max_new_tokens)
        else:
            texts, stats = batched_generate(
                self.model_obj,
                self.tokenizer,
                rendered,
                batch_size=self.batch_size,
                max_new_tokens=self.max_new_tokens,
                max_prompt_length=MAX_PROMPT_LENGTH,
            )
        stats["usage"] = [
            {
                "prompt_tokens": len(self.tokenizer(r, add_special_tokens=False)["input_ids"]),
                "completion_tokens": len(self.tokenizer(t, add_special_tokens=False)["input_ids"]),
            }
            for r, t in zip(rendered, texts)
        ]
        return [self.response_prefix + t for t in texts], stats
