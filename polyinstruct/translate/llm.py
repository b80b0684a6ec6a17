"""Translation by a prompted causal LM (BayLing's approach): optional few-shot pairs, in its chat template
(or `alpaca` for a base model without one, `models.<name>.prompt_template`)."""

from __future__ import annotations

from polyinstruct import languages
from polyinstruct.generate.answers import batched_generate
from polyinstruct.models import chat, loader
from polyinstruct.translate.engines import SegmentEngine

PROMPT = (
    "Translate the following text from {source} to {target}. Reply with the translation only and "
    "copy every ⟦n⟧ marker unchanged.\n\n{text}"
)


def messages(text: str, source_lang: str, target_lang: str, few_shot: list[dict]) -> list[dict]:
    names = {"source": languages.get(source_lang).name, "target": languages.get(target_lang).name}
    turns = []
    for shot in few_shot:
        turns.append({"role": "user", "content": PROMPT.format(text=shot["source"], **names)})
        turns.append({"role": "assistant", "content": shot["target"]})
    turns.append({"role": "user", "content": PROMPT.format(text=text, **names)})
    return turns


class LLMEngine(SegmentEngine):
    name = "llm"

    def __init__(
        self,
        pointer: str,
        few_shot: list[dict] | None = None,
        batch_size: int = 8,
        max_new_tokens: int = 256,
        segment_max_chars: int = 400,
        template: str = "chat",
    ):
        super().__init__(batch_size=batch_size, segment_max_chars=segment_max_chars)
        self.template = template
        self.pointer = loader.read_pointer(pointer)
        self.few_shot = few_shot or []
        self.max_new_tokens = max_new_tokens
        self.tokenizer = loader.load_tokenizer(self.pointer)
        self.model = loader.load_causal_lm(self.pointer)

    def translate_texts(self, texts, source_lang, target_lang):
        if not texts:
            return []
        prompts = [
            chat.render(messages(t, source_lang, target_lang, self.few_shot), self.template, self.tokenizer)
            for t in texts
        ]
        # batch_size=len(prompts) failed on an empty list (range step 0) and ignored the configured
        # batch size when called with more texts than one batch
        outputs, _ = batched_generate(
            self.model,
            self.tokenizer,
            prompts,
            batch_size=self.batch_size,
            max_new_tokens=self.max_new_tokens,
            max_prompt_length=2048,
        )
        return outputs
