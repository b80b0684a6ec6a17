"""Encoder-decoder MT through transformers: NLLB-200, M2M-100 and Marian/OPUS-MT pair models.

Each family names languages its own way (FLORES-200 codes for NLLB, ISO codes for M2M-100, one
model per pair for OPUS-MT); `language_code` maps registry codes through the registry.
"""

from __future__ import annotations

from polyinstruct import languages
from polyinstruct.translate.engines import SegmentEngine

FAMILIES = ("nllb", "m2m100", "marian")


def language_code(family: str, code: str) -> str:
    lang = languages.get(code)
    if family == "nllb":
        if lang.flores is None:
            raise ValueError(f"language '{code}' has no FLORES-200 code, which NLLB needs")
        return lang.flores
    return lang.code


def detect_family(config, tokenizer) -> str:
    """The language-code scheme of a model, from its config and tokenizer (no weights needed)."""
    if "nllb" in type(tokenizer).__name__.lower():
        return "nllb"
    model_type = config.model_type
    if model_type == "marian":
        return "marian"
    if model_type == "m2m_100":
        return "m2m100"
    raise ValueError(f"cannot tell the MT family of model type '{model_type}'; set translate.hf_seq2seq.family")


def lang_token_id(tokenizer, family: str, code: str) -> int | None:
    """The id of the language token for `code` (a `language_code`), or None for families without one.

    Raises ValueError when the tokenizer has no such token: NLLB's tokenizer would otherwise map an
    unknown code to <unk> without a word (and translate into no language in particular), M2M-100's
    fails with a bare KeyError.
    """
    if family == "nllb":
        token_id = tokenizer.convert_tokens_to_ids(code)
        if token_id is None or token_id == tokenizer.unk_token_id:
            raise ValueError(f"the NLLB tokenizer has no language token '{code}'")
        return token_id
    if family == "m2m100":
        if code not in getattr(tokenizer, "lang_code_to_token", {}):
            raise ValueError(f"M2M-100 has no language token for '{code}'")
        return tokenizer.get_lang_id(code)
    return None


def forced_bos(tokenizer, family: str, target: str) -> int | None:
    return lang_token_id(tokenizer, family, target)


class HFSeq2SeqEngine(SegmentEngine):
    name = "hf-seq2seq"

    def __init__(
        self,
        model: str,
        family: str | None = None,
        batch_size: int = 16,
        max_length: int = 256,
        num_beams: int = 1,
        segment_max_chars: int = 400,
        device: str | None = None,
    ):
        super().__init__(batch_size=batch_size, segment_max_chars=segment_max_chars)
        self.model_pattern = model  # may hold {src} and {tgt} (OPUS-MT pair models)
        self.family = family
        self.max_length = max_length
        self.num_beams = num_beams
        self.device = device
        self._loaded: dict[str, tuple] = {}

    def load(self, source_lang: str, target_lang: str):
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        from polyinstruct.models.loader import device as best_device

        path = self.model_pattern.format(src=source_lang, tgt=target_lang)
        if path not in self._loaded:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForSeq2SeqLM.from_pretrained(path).to(self.device or best_device()).eval()
            self._loaded[path] = (tokenizer, model, self.family or detect_family(model.config, tokenizer))
        return self._loaded[path]

    def translate_texts(self, texts, source_lang, target_lang):
        import torch

        if not texts:
            return []
        tokenizer, model, family = self.load(source_lang, target_lang)
        src, tgt = language_code(family, source_lang), language_code(family, target_lang)
        if family in ("nllb", "m2m100"):
            lang_token_id(tokenizer, family, src)  # fail clearly on a source language the model lacks
            tokenizer.src_lang = src
        encoded = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length).to(
            model.device
        )
        with torch.inference_mode():
            generated = model.generate(
                **encoded,
                forced_bos_token_id=forced_bos(tokenizer, family, tgt),
                num_beams=self.num_beams,
                do_sample=False,
                max_new_tokens=self.max_length,
            )
        return [t.strip() for t in tokenizer.batch_decode(generated, skip_special_tokens=True)]
