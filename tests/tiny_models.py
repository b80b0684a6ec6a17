"""Tiny random models built inside the tests (no hub): a ChatML Llama with a locally trained tokenizer."""

from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(corpus: list[str], chat_template: bool = True):
    """A byte-level BPE tokenizer trained on `corpus`, with a ChatML chat template unless `chat_template` is
    False (the shape of a base model's tokenizer: Pythia, BLOOM, LLaMA ship none)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|im_start|>"
    )
    if chat_template:
        fast.chat_template = CHATML
    return fast


def _save_causal_lm(model, tokenizer, out_dir: Path) -> Path:
    """Save a tiny causal LM with its tokenizer, generation stopping at the tokenizer's EOS."""
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build_tiny_llama(out_dir: Path, corpus: list[str], seed: int = 0) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(corpus)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return _save_causal_lm(LlamaForCausalLM(config), tokenizer, out_dir)


def build_tiny_causal_lm(
    out_dir: Path, corpus: list[str], family: str, seed: int = 0, chat_template: bool = True
) -> Path:
    """A tiny random causal LM of another family (Mistral, Qwen2, BLOOM, GPT-NeoX/Pythia), same tokenizer
    (without a chat template when `chat_template` is False, like a base model)."""
    import torch
    from transformers import (
        BloomConfig,
        BloomForCausalLM,
        GPTNeoXConfig,
        GPTNeoXForCausalLM,
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    if family == "llama" and chat_template:
        return build_tiny_llama(out_dir, corpus, seed)
    tokenizer = build_tokenizer(corpus, chat_template=chat_template)
    ids = dict(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    decoder = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
    )
    config, cls = {
        "llama": (lambda: LlamaConfig(**ids, **decoder), LlamaForCausalLM),
        "mistral": (lambda: MistralConfig(**ids, **decoder, sliding_window=None), MistralForCausalLM),
        "qwen2": (lambda: Qwen2Config(**ids, **decoder), Qwen2ForCausalLM),
        "bloom": (lambda: BloomConfig(**ids, hidden_size=32, n_layer=2, n_head=4), BloomForCausalLM),
        "gpt_neox": (
            lambda: GPTNeoXConfig(
                **ids,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                max_position_embeddings=512,
            ),
            GPTNeoXForCausalLM,
        ),
    }[family]
    torch.manual_seed(seed)
    return _save_causal_lm(cls(config()), tokenizer, out_dir)


# --- tiny random translation models (Marian / OPUS-MT and M2M-100) with real sentencepiece tokenizers ---

# weights drawn wider than the usual 0.02, so that a random model's output depends on its input
INIT_STD = 0.3
# lines the tokenizers must cover besides the corpus: the ⟦n⟧ tokens `structure.plan` puts into segments
# and a little markdown/URL punctuation, so that they are pieces rather than <unk>
_EXTRA_LINES = ["⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧ [link](https://example.org/x?y=1) {name} `code`", "- * # | > ~ ^ _ = + ; @ %"] * 3


def train_sentencepiece(prefix: Path, corpus: list[str], vocab_size: int = 300) -> Path:
    """A unigram sentencepiece model trained on `corpus`; returns the .model path."""
    import sentencepiece as spm

    prefix.parent.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(corpus) + _EXTRA_LINES),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        bos_id=-1,
        pad_id=-1,
        eos_id=1,
        unk_id=0,
        num_threads=1,
        minloglevel=2,
    )
    return Path(f"{prefix}.model")


def _pieces(model_file: Path) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_unknown(i) or sp.is_control(i))]


def build_tiny_marian(
    out_dir: Path,
    corpus_src: list[str],
    corpus_tgt: list[str],
    seed: int = 0,
    *,
    d_model: int = 32,
    layers: int = 2,
    heads: int = 4,
    ffn: int = 64,
) -> Path:
    """A random MarianMTModel (d_model 32, 2+2 layers) with a MarianTokenizer laid out like OPUS-MT's.

    As in OPUS-MT checkpoints the vocabulary is shared: "</s>" is 0, "<unk>" 1, the source and
    target pieces follow, and "<pad>" is the last id, which is also the decoder start token.
    """
    import json
    import tempfile

    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        source_spm = train_sentencepiece(Path(tmp) / "source", corpus_src)
        target_spm = train_sentencepiece(Path(tmp) / "target", corpus_tgt)
        tokens = ["</s>", "<unk>"]
        for piece in _pieces(source_spm) + _pieces(target_spm):
            if piece not in tokens:
                tokens.append(piece)
        tokens.append("<pad>")
        vocab = Path(tmp) / "vocab.json"
        vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False), encoding="utf-8")
        tokenizer = MarianTokenizer(source_spm=str(source_spm), target_spm=str(target_spm), vocab=str(vocab))
        pad = len(tokens) - 1
        torch.manual_seed(seed)
        config = MarianConfig(
            vocab_size=len(tokens),
            decoder_vocab_size=len(tokens),
            d_model=d_model,
            encoder_layers=layers,
            decoder_layers=layers,
            encoder_attention_heads=heads,
            decoder_attention_heads=heads,
            encoder_ffn_dim=ffn,
            decoder_ffn_dim=ffn,
            activation_function="swish",
            max_position_embeddings=256,
            init_std=INIT_STD,
            pad_token_id=pad,
            eos_token_id=0,
            decoder_start_token_id=pad,
            forced_eos_token_id=0,
            scale_embedding=True,
            share_encoder_decoder_embeddings=True,
        )
        model = MarianMTModel(config)
        model.generation_config.bad_words_ids = [[pad]]  # as OPUS-MT: never generate <pad>
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    return out_dir


def build_tiny_m2m100(out_dir: Path, corpus: list[str], seed: int = 0) -> Path:
    """A random M2M100ForConditionalGeneration (d_model 32, 2+2 layers) with an M2M100Tokenizer.

    vocab.json holds "<s>" 0, "<pad>" 1, "</s>" 2, "<unk>" 3 and the pieces, as fairseq lays it out;
    the tokenizer adds the 100 language tokens (__en__, __fr__, ...) after it and 8 "madeup words"
    after those, and the model's vocab_size covers all of them, as in facebook/m2m100_418M.
    """
    import json
    import tempfile

    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        spm_file = train_sentencepiece(Path(tmp) / "sentencepiece.bpe", corpus)
        tokens = ["<s>", "<pad>", "</s>", "<unk>"] + _pieces(spm_file)
        vocab = Path(tmp) / "vocab.json"
        vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False), encoding="utf-8")
        # released checkpoints list the language tokens as special tokens in tokenizer_config.json (so
        # decoding with skip_special_tokens drops them); a tokenizer built from files alone does not
        from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

        lang_tokens = [f"__{code}__" for code in FAIRSEQ_LANGUAGE_CODES["m2m100"]]
        tokenizer = M2M100Tokenizer(
            vocab_file=str(vocab), spm_file=str(spm_file), additional_special_tokens=lang_tokens
        )
        vocab_size = len(tokens) + len(tokenizer.lang_code_to_id) + tokenizer.num_madeup_words
        assert max(tokenizer.lang_code_to_id.values()) < vocab_size
        torch.manual_seed(seed)
        config = M2M100Config(
            vocab_size=vocab_size,
            d_model=32,
            encoder_layers=2,
            decoder_layers=2,
            encoder_attention_heads=4,
            decoder_attention_heads=4,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            max_position_embeddings=256,
            init_std=INIT_STD,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            decoder_start_token_id=2,
            scale_embedding=True,
        )
        model = M2M100ForConditionalGeneration(config)
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    return out_dir


# --- a tiny COMET checkpoint (unbabel-comet's regression metric over a tiny random XLM-R) ---


def _xlmr_tokenizer(spm_file: Path):
    """An XLMRobertaTokenizerFast over a sentencepiece unigram model, laid out like XLM-R's (<s> <pad> </s> <unk>
    first, <mask> last), built with `tokenizers` directly (the slow->fast converter needs a newer protobuf)."""
    import sentencepiece as spm
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    sp = spm.SentencePieceProcessor(model_file=str(spm_file))
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [
        (sp.id_to_piece(i), sp.get_score(i))
        for i in range(sp.get_piece_size())
        if not (sp.is_unknown(i) or sp.is_control(i))
    ]
    vocab.append(("<mask>", 0.0))
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )


def build_tiny_comet(out_dir: Path, corpus: list[str], seed: int = 0, vocab_size: int = 400) -> Path:
    """`<out_dir>/checkpoints/model.ckpt` + `<out_dir>/hparams.yaml`, laid out as unbabel-comet downloads them.

    The encoder (`<out_dir>/encoder`: an XLM-R config and a sentencepiece XLMRobertaTokenizer trained on
    `corpus`) is local, so `comet.load_from_checkpoint` runs offline. Returns the checkpoint path.
    """
    import tempfile

    import pytorch_lightning
    import torch
    import yaml
    from transformers import XLMRobertaConfig

    encoder_dir = out_dir / "encoder"
    encoder_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fast = _xlmr_tokenizer(train_sentencepiece(Path(tmp) / "sentencepiece.bpe", corpus, vocab_size=vocab_size))
    fast.save_pretrained(encoder_dir)
    XLMRobertaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    ).save_pretrained(encoder_dir)

    from comet.models import RegressionMetric

    torch.manual_seed(seed)
    model = RegressionMetric(
        pretrained_model=str(encoder_dir),
        hidden_sizes=[16],
        load_pretrained_weights=False,
        local_files_only=True,
        layer_transformation="softmax",
    )
    hparams = {k: v for k, v in dict(model.hparams).items()}
    checkpoint = out_dir / "checkpoints" / "model.ckpt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": hparams,
            "epoch": 0,
            "global_step": 0,
            "pytorch-lightning_version": pytorch_lightning.__version__,
        },
        checkpoint,
    )
    (out_dir / "hparams.yaml").write_text(yaml.safe_dump(hparams, sort_keys=False), encoding="utf-8")
    return checkpoint


# --- a tiny fastText language identifier with OpenLID's label scheme (__label__fra_Latn) ---


def build_tiny_fasttext_lid(path: Path, texts: dict[str, list[str]], seed: int = 0) -> Path:
    """A fastText supervised model trained on `texts` ({label: lines}, labels like `fra_Latn` as OpenLID and
    GlotLID write them), small (16 dimensions, character 2-4-grams in 20k buckets), saved at `path`.

    Trained in a fresh interpreter: in a process that has trained a `tokenizers` BPE model (the tiny LMs'
    tokenizer) fastText's training diverges ("Encountered NaN"), seen here with fasttext-numpy2 0.10.4."""
    import random
    import subprocess
    import sys

    lines = [f"__label__{label} {' '.join(t.split())}" for label, items in texts.items() for t in items]
    random.Random(seed).shuffle(lines)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    train_file = path.with_suffix(".train.txt")
    train_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = (
        "import sys, fasttext; m = fasttext.train_supervised(input=sys.argv[1], dim=16, epoch=30, lr=0.5, minn=2, "
        "maxn=4, bucket=20000, wordNgrams=1, thread=1, seed=int(sys.argv[3]), verbose=0); m.save_model(sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(train_file), str(path), str(seed)], check=True)
    train_file.unlink()
    return path
