"""CTranslate2: the fast path on CPU and GPU for the same models, converted once.

A seq2seq model (NLLB, M2M-100, Marian) becomes a `ctranslate2.Translator`; a causal LM used as
the `llm` engine becomes a `ctranslate2.Generator` prompted the same way. Conversion is its own
rule, so the converted model is an artifact that every shard job reuses.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from polyinstruct.models import chat, loader
from polyinstruct.translate import llm
from polyinstruct.translate.engines import SegmentEngine
from polyinstruct.translate.hf_seq2seq import FAMILIES, detect_family, forced_bos, lang_token_id, language_code


def convert(source: str, out_dir: str | Path, quantization: str | None = None) -> Path:
    """Convert a transformers model (directory or hub id) into `out_dir`, atomically."""
    import ctranslate2

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ctranslate2.converters.TransformersConverter(source, copy_files=None).convert(
        str(tmp), quantization=quantization, force=True
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return out_dir


class CTranslate2Engine(SegmentEngine):
    name = "ctranslate2"

    def __init__(
        self,
        model_dir: str,
        tokenizer: str,
        kind: str = "translator",
        family: str | None = None,
        compute_type: str = "default",
        batch_size: int = 16,
        max_length: int = 256,
        beam_size: int = 1,
        few_shot: list[dict] | None = None,
        segment_max_chars: int = 400,
        threads: int = 0,
        device: str | None = None,
        template: str = "chat",
    ):
        import ctranslate2
        from transformers import AutoTokenizer

        super().__init__(batch_size=batch_size, segment_max_chars=segment_max_chars)
        device = device or loader.device()
        self.kind, self.family = kind, family
        self.max_length, self.beam_size = max_length, beam_size
        self.few_shot = few_shot or []
        self.template = template  # how the generator (a causal LM) is prompted: chat, or alpaca for a base model
        if kind == "generator":  # `tokenizer` is the model.json pointer of the converted causal LM
            self.tokenizer = loader.load_tokenizer(loader.read_pointer(tokenizer))
            self.model = ctranslate2.Generator(
                model_dir, device=device, compute_type=compute_type, intra_threads=threads
            )
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(tokenizer)
            if self.family is None:
                # like hf-seq2seq: without the family, NLLB/M2M-100 would get no source language and
                # no target-language prefix, and translate into whatever language they drift to
                from transformers import AutoConfig

                self.family = detect_family(AutoConfig.from_pretrained(tokenizer), self.tokenizer)
            if self.family not in FAMILIES:
                raise ValueError(f"unknown MT family '{self.family}' (one of {', '.join(FAMILIES)})")
            self.model = ctranslate2.Translator(
                model_dir, device=device, compute_type=compute_type, intra_threads=threads
            )

    def _generate(self, texts, source_lang, target_lang):
        prompts = [
            chat.render(llm.messages(t, source_lang, target_lang, self.few_shot), self.template, self.tokenizer)
            for t in texts
        ]
        tokens = [
            self.tokenizer.convert_ids_to_tokens(self.tokenizer(p, add_special_tokens=False)["input_ids"])
            for p in prompts
        ]
        results = self.model.generate_batch(
            tokens,
            max_length=self.max_length,
            sampling_topk=1,
            beam_size=self.beam_size,
            include_prompt_in_result=False,
            end_token=self.tokenizer.eos_token,
        )
        return [self.tokenizer.decode(r.sequences_ids[0], skip_special_tokens=True).strip() for r in results]

    def translate_texts(self, texts, source_lang, target_lang):
        if not texts:
            return []
        if self.kind == "generator":
            return self._generate(texts, source_lang, target_lang)
        family = self.family
        src, tgt = language_code(family, source_lang), language_code(family, target_lang)
        if family in ("nllb", "m2m100"):
            lang_token_id(self.tokenizer, family, src)  # fail clearly on a source language the model lacks
            self.tokenizer.src_lang = src
        tokens = [
            self.tokenizer.convert_ids_to_tokens(ids)
            for ids in self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]
        ]
        prefix = None
        if family in ("nllb", "m2m100"):
            prefix = [[self.tokenizer.convert_ids_to_tokens(forced_bos(self.tokenizer, family, tgt))]] * len(texts)
        results = self.model.translate_batch(
            tokens,
            target_prefix=prefix,
            beam_size=self.beam_size,
            max_decoding_length=self.max_length,
            max_batch_size=self.batch_size,
        )
        out = []
        for result in results:
            hyp = result.hypotheses[0]
            if prefix:
                hyp = hyp[1:]
            out.append(
                self.tokenizer.decode(self.tokenizer.convert_tokens_to_ids(hyp), skip_special_tokens=True).strip()
            )
        return out
