"""The model engines (hf-seq2seq, ctranslate2, llm) run for real, offline, on tiny random models.

The models are random, so their output is garbage; what is checked is the engines' plumbing:
language codes and tokens, batching, conversion to CTranslate2 and agreement with transformers,
prompts, and the contract of `SegmentEngine.translate_records` that every protected span is
restored or reported, never silently lost.
"""

from __future__ import annotations

import json

import pytest

from polyinstruct.data import records as rec
from polyinstruct.models import chat, loader
from polyinstruct.translate import structure
from polyinstruct.translate.hf_seq2seq import HFSeq2SeqEngine, forced_bos, language_code

pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")  # MarianTokenizer

MAX = 12  # tokens per segment, in and out: keeps generation by random models short

SEGMENTS = [
    "What causes the seasons on Earth?",
    "Name the three primary colors.",
    "Use ⟦0⟧ to print the list.",
    "Hello",
    "Explain photosynthesis in simple terms for a child.",
]

CODE = "```python\nnames = {'a': 1}\nfor name in names:\n    print(f\"hello {name}\")\n```"
URL = "https://example.org/docs/setup?lang=en&v=2"
RECORDS = [
    {
        "id": "t-1",
        "source": "tiny",
        "lang": "en",
        "instruction": f"Explain what this code does. The manual is at {URL} if you need it.",
        "input": CODE,
        "output": "It greets every name.\n\n- First it builds a dictionary.\n- Then it prints `hello` for each "
        "key.\n\n1. Save it as {filename}.\n2. Run it with Python.",
    },
    {
        "id": "t-2",
        "source": "tiny",
        "lang": "en",
        "instruction": "Write a short greeting for {name}.",
        "input": "Keep it short and friendly.",
        "output": "Hello {name}! Our guide at https://example.com/welcome explains the rest.",
    },
]
# what must come through byte for byte, per field
PROTECTED = {
    "t-1": {
        "instruction": [URL],
        "input": [CODE],
        "output": ["\n\n- ", "\n- ", "`hello`", "\n\n1. ", "{filename}", "\n2. "],
    },
    "t-2": {"instruction": ["{name}"], "output": ["{name}", "https://example.com/welcome"]},
}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models run several times faster on one thread when the CPU is shared."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_nllb_language_token_must_exist():
    """NLLB's tokenizer maps an unknown code to <unk>; forcing <unk> as BOS would be a silent failure."""
    from types import SimpleNamespace

    vocab = {"<unk>": 3, "fra_Latn": 7}
    tokenizer = SimpleNamespace(unk_token_id=3, convert_tokens_to_ids=lambda token: vocab.get(token, 3))
    assert forced_bos(tokenizer, "nllb", language_code("nllb", "fr")) == 7
    with pytest.raises(ValueError, match="no language token 'deu_Latn'"):
        forced_bos(tokenizer, "nllb", language_code("nllb", "de"))


def marian_pattern(tiny_marian) -> str:
    return str(tiny_marian.parent / "opus-mt-{src}-{tgt}")  # the fixture is saved as .../opus-mt-en-fr


def test_language_codes_per_family():
    assert language_code("nllb", "fr") == "fra_Latn"
    assert language_code("nllb", "fra") == "fra_Latn"
    assert language_code("m2m100", "de") == "de"
    assert language_code("marian", "fra") == "fr"


def test_hf_marian_pair_model_from_pattern(tiny_marian):
    engine = HFSeq2SeqEngine(marian_pattern(tiny_marian), max_length=MAX, device="cpu")
    tokenizer, model, family = engine.load("en", "fr")
    assert family == "marian" and type(tokenizer).__name__ == "MarianTokenizer"
    assert forced_bos(tokenizer, family, "fr") is None
    out = engine.translate_texts(SEGMENTS, "en", "fr")
    assert len(out) == len(SEGMENTS) and all(isinstance(t, str) for t in out)
    assert engine.translate_texts([], "en", "fr") == []
    with pytest.raises((OSError, ValueError)):  # there is no en->de pair model (a path, not a hub id)
        engine.load("en", "de")


def test_hf_m2m100_language_tokens(tiny_m2m100):
    engine = HFSeq2SeqEngine(str(tiny_m2m100), max_length=MAX, device="cpu")
    tokenizer, model, family = engine.load("en", "fr")
    assert family == "m2m100"
    fr = forced_bos(tokenizer, family, language_code(family, "fr"))
    assert fr == tokenizer.convert_tokens_to_ids("__fr__") != tokenizer.unk_token_id
    assert fr < model.config.vocab_size
    assert forced_bos(tokenizer, family, "de") == tokenizer.convert_tokens_to_ids("__de__") != fr
    out = engine.translate_texts(SEGMENTS, "en", "fr")
    assert len(out) == len(SEGMENTS) and all(isinstance(t, str) for t in out)
    assert not any("__fr__" in t for t in out)  # the forced language token is special: not in the text
    ids = tokenizer(SEGMENTS[0])["input_ids"]  # the source language is the first token
    assert ids[0] == tokenizer.convert_tokens_to_ids("__en__") and ids[-1] == tokenizer.eos_token_id
    with pytest.raises(ValueError, match="M2M-100 has no language token"):  # not a bare KeyError
        engine.translate_texts(SEGMENTS[:1], "en", "zh-Hant")


def _spy(engine) -> dict[str, str]:
    """Record what the engine's model made of each segment."""
    seen: dict[str, str] = {}
    original = engine.translate_texts

    def translate_texts(texts, source_lang, target_lang):
        out = original(texts, source_lang, target_lang)
        seen.update(zip(texts, out))
        return out

    engine.translate_texts = translate_texts
    return seen


@pytest.mark.parametrize("which", ["marian", "m2m100"])
def test_translate_records_restores_or_reports_protected_spans(which, tiny_marian, tiny_m2m100):
    model = marian_pattern(tiny_marian) if which == "marian" else str(tiny_m2m100)
    engine = HFSeq2SeqEngine(model, max_length=MAX, batch_size=8, device="cpu")
    seen = _spy(engine)
    out, problems = engine.translate_records(RECORDS, "en", "fr")
    assert not problems
    assert [r["id"] for r in out] == [r["id"] for r in RECORDS]
    changed = 0
    for source, new in zip(RECORDS, out):
        assert new["lang"] == "fr" and new["source"] == "tiny"
        assert new["translation"]["engine"] == "hf-seq2seq"
        lost = new["translation"]["protected_span_lost"]
        for field, text in rec.texts(source).items():
            plan = structure.plan(text, max_chars=engine.segment_max_chars)
            broken = []
            for i, segment in enumerate(plan.segments):
                try:
                    segment.restore(seen[segment.text], i)
                except structure.ProtectionError:
                    broken.append(i)
            reported = [m for m in lost if m.startswith(f"{field}: ")]
            # a segment whose ⟦n⟧ tokens the model dropped is reported (and kept untranslated) ...
            assert bool(broken) == bool(reported), (field, broken, lost)
            if not broken:  # ... otherwise the field is the model's translation with the spans put back
                assert new[field] == plan.rebuild([seen[s.text] for s in plan.segments])
            # either way code, URLs, placeholders and list markup come through byte for byte
            for span in PROTECTED[source["id"]].get(field, []):
                assert span in new[field], (field, span, new[field])
            changed += new[field] != text
    assert changed  # the model did translate something (garbage, but not the source)
    assert out[0]["input"] == CODE  # a code-only field has nothing to translate


@pytest.mark.parametrize("which", ["marian", "m2m100"])
def test_batch_size_does_not_change_greedy_output(which, tiny_marian, tiny_m2m100):
    # inputs of different token lengths, so batches are padded: with an attention mask padding
    # must not change greedy output (it does not for these models; were it to, through float noise
    # in near-ties, equal-length inputs would be the fair test)
    model = marian_pattern(tiny_marian) if which == "marian" else str(tiny_m2m100)
    texts = SEGMENTS + ["Give three tips for staying healthy.", SEGMENTS[1], "A"]
    one = HFSeq2SeqEngine(model, max_length=MAX, batch_size=1, device="cpu").translate_batched(texts, "en", "fr")
    eight = HFSeq2SeqEngine(model, max_length=MAX, batch_size=8, device="cpu").translate_batched(texts, "en", "fr")
    assert one == eight
    assert one[1] == one[len(SEGMENTS) + 1]  # a repeated segment is translated once, used twice


# --- CTranslate2 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ct2(tmp_path_factory):
    pytest.importorskip("ctranslate2")
    from polyinstruct.translate.ct2 import convert

    root = tmp_path_factory.mktemp("ct2")
    cache: dict[tuple, object] = {}

    def converted(source, quantization=None):
        key = (str(source), quantization)
        if key not in cache:
            out = root / f"{len(cache)}-{quantization}"
            cache[key] = convert(str(source), out, quantization=quantization)
            assert cache[key] == out and (out / "model.bin").is_file()
            assert not out.with_name(out.name + ".tmp").exists()  # converted atomically
        return cache[key]

    return converted


@pytest.mark.parametrize("quantization", ["int8", "float32"])
@pytest.mark.parametrize("which", ["marian", "m2m100"])
def test_ct2_translator(which, quantization, ct2, tiny_marian, tiny_m2m100):
    from polyinstruct.translate.ct2 import CTranslate2Engine

    hf_dir = tiny_marian if which == "marian" else tiny_m2m100
    model_dir = ct2(hf_dir, quantization)
    engine = CTranslate2Engine(
        model_dir=str(model_dir),
        tokenizer=str(hf_dir),
        kind="translator",
        family=which,
        compute_type=quantization,
        max_length=MAX,
        threads=1,
        device="cpu",
    )
    out = engine.translate_texts(SEGMENTS, "en", "fr")
    assert len(out) == len(SEGMENTS) and all(isinstance(t, str) for t in out)
    assert not any("__fr__" in t for t in out)  # the target prefix is cut from the hypotheses
    assert engine.translate_texts([], "en", "fr") == []
    records, _ = engine.translate_records(RECORDS[1:], "en", "fr")
    assert records[0]["id"] == "t-2" and records[0]["lang"] == "fr"
    assert "https://example.com/welcome" in records[0]["output"]


def test_ct2_translator_detects_family(ct2, tiny_m2m100):
    """`translate.hf_seq2seq.family` defaults to null; the engine must then tell the family itself,
    or NLLB/M2M-100 get no source language and no target-language prefix."""
    from polyinstruct.translate.ct2 import CTranslate2Engine

    engine = CTranslate2Engine(
        model_dir=str(ct2(tiny_m2m100, "float32")), tokenizer=str(tiny_m2m100), max_length=MAX, threads=1, device="cpu"
    )
    assert engine.family == "m2m100"
    with_family = CTranslate2Engine(
        model_dir=str(ct2(tiny_m2m100, "float32")),
        tokenizer=str(tiny_m2m100),
        family="m2m100",
        max_length=MAX,
        threads=1,
        device="cpu",
    )
    assert engine.translate_texts(SEGMENTS, "en", "fr") == with_family.translate_texts(SEGMENTS, "en", "fr")


def test_ct2_m2m100_float32_greedy_matches_transformers(ct2, tiny_m2m100):
    # same limits on both sides: `max_length` truncates the source and bounds the output, the
    # forced target-language token counting in both (max_new_tokens / max_decoding_length)
    from polyinstruct.translate.ct2 import CTranslate2Engine

    converted = CTranslate2Engine(
        model_dir=str(ct2(tiny_m2m100, "float32")),
        tokenizer=str(tiny_m2m100),
        family="m2m100",
        compute_type="float32",
        max_length=MAX,
        threads=1,
        device="cpu",
    )
    reference = HFSeq2SeqEngine(str(tiny_m2m100), max_length=MAX, device="cpu")
    for target in ("fr", "de"):
        assert converted.translate_texts(SEGMENTS, "en", target) == reference.translate_texts(SEGMENTS, "en", target)


@pytest.fixture(scope="module")
def tiny_pointer(tiny_llama, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("pointer")
    loader.prepare("tiny", {"path": str(tiny_llama)}, out)
    return str(out / "model.json")


FEW_SHOT = [{"source": "Good morning.", "target": "Bonjour."}]


def test_ct2_generator_on_tiny_llama(ct2, tiny_llama, tiny_pointer):
    from polyinstruct.translate.ct2 import CTranslate2Engine
    from polyinstruct.translate.llm import LLMEngine

    engine = CTranslate2Engine(
        model_dir=str(ct2(tiny_llama)),
        tokenizer=tiny_pointer,
        kind="generator",
        few_shot=FEW_SHOT,
        max_length=MAX,
        threads=1,
        device="cpu",
    )
    out = engine.translate_texts(SEGMENTS, "en", "fr")
    assert len(out) == len(SEGMENTS) and all(isinstance(t, str) for t in out)
    # greedy decoding of the same prompts as the transformers `llm` engine (the fixture's random
    # Llama mostly emits newlines, so this mainly checks that nothing of the prompt leaks out)
    llm = LLMEngine(pointer=tiny_pointer, few_shot=FEW_SHOT, max_new_tokens=MAX)
    assert out == llm.translate_texts(SEGMENTS, "en", "fr")


def test_llm_engine_prompt_and_outputs(tiny_pointer):
    from polyinstruct.translate.llm import LLMEngine, messages

    turns = messages("Hello there.", "en", "fr", FEW_SHOT)
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert "Good morning." in turns[0]["content"] and turns[1]["content"] == "Bonjour."
    assert "Hello there." in turns[2]["content"] and "Good morning." not in turns[2]["content"]
    for turn in (turns[0], turns[2]):
        assert "from English to French" in turn["content"] and "⟦n⟧" in turn["content"]

    engine = LLMEngine(pointer=tiny_pointer, few_shot=FEW_SHOT, batch_size=2, max_new_tokens=8)
    prompt = chat.render(turns, "chat", engine.tokenizer)
    assert (
        prompt.index("Good morning.")
        < prompt.index("<|im_start|>assistant\nBonjour.<|im_end|>")
        < prompt.index("Hello there.")
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    out = engine.translate_texts(SEGMENTS, "en", "de")  # more texts than one batch
    assert len(out) == len(SEGMENTS) and all(isinstance(t, str) for t in out)
    assert engine.translate_texts([], "en", "de") == []
    records, _ = engine.translate_records(RECORDS[1:], "en", "de")
    assert records[0]["lang"] == "de" and "{name}" in records[0]["instruction"]
    json.dumps(records)  # still plain JSON
