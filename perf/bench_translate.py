"""CTranslate2 against transformers on the same MT model and sentences, greedy and beam search: the ratio.

The model is a random Marian with OPUS-MT's shape (d_model 512, 6+6 layers, 8 heads, ffn 2048, shared
embeddings tied to the output projection) and a realistic vocabulary: one 32,000-piece SentencePiece
(unigram, as OPUS-MT's) trained here, shared by source and target, so the model has ~74M parameters
like OPUS-MT's en-de (58k pieces, 74M). The tokenizer's training text is generated from the shipped
records (resources/data/*/*.jsonl: a character 3-gram chain over their en/fr/de text, 4M characters,
~145k distinct word forms) because the shipped text alone has too few distinct strings for 32k pieces;
the benchmark sentences are the shipped English instructions and first output lines themselves.

Both backends decode exactly `--tokens` tokens per sentence (min = max length), so random weights cannot
make one stop early, with greedy search and with beam search (`--beams`, default 1 and 4), in
length-sorted batches of `--batch`, on `--threads` CPU threads. Each timing is the best of `--repeat`
runs after a warm-up. Anchor: CTranslate2's own table has int8 at about 4.7x transformers on CPU
(OPUS-MT en-de, beam 4).

    .venv/bin/python perf/bench_translate.py [--sentences 128] [--tokens 48] [--beams 1 4] [--threads 2]
        [--vocab 32000] [--repeat 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def sentences(n: int) -> list[str]:
    lines = [json.loads(ln) for ln in (REPO / "resources/data/polyalpaca/en.jsonl").read_text().splitlines()]
    pool = [r["instruction"] for r in lines] + [r["output"].split("\n")[0] for r in lines]
    return [pool[i % len(pool)] for i in range(n)]


def shipped_text() -> list[str]:
    texts = []
    for path in sorted((REPO / "resources/data").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            texts += [v for v in json.loads(line).values() if isinstance(v, str) and len(v) > 20]
    return texts


def generated_text(characters: int, order: int = 3, seed: int = 0) -> list[str]:
    """Lines from a character `order`-gram chain over the shipped text: new word forms, the same letters."""
    follow = defaultdict(list)
    for text in shipped_text():
        padded = "\x02" * order + text + "\x03"
        for i in range(order, len(padded)):
            follow[padded[i - order : i]].append(padded[i])
    rng = random.Random(seed)
    lines, total = [], 0
    while total < characters:
        context, out = "\x02" * order, []
        while len(out) < 400:
            c = rng.choice(follow[context])
            if c == "\x03":
                break
            out.append(c)
            context = context[1:] + c
        line = " ".join("".join(out).split())
        if line:
            lines.append(line)
            total += len(line)
    return lines


def build_marian(out_dir: Path, vocab_size: int, d_model: int, layers: int) -> Path:
    """A random OPUS-MT-shaped Marian whose one SentencePiece (source = target) has `vocab_size` pieces."""
    import sentencepiece as spm
    import torch
    from tiny_models import INIT_STD
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / "spm"
    work.mkdir(exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(generated_text(4_000_000)),
        model_prefix=str(work / "sp"),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        bos_id=-1,
        pad_id=-1,
        eos_id=1,
        unk_id=0,
        num_threads=2,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=str(work / "sp.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_unknown(i) or sp.is_control(i))]
    tokens = ["</s>", "<unk>", *pieces, "<pad>"]
    (work / "vocab.json").write_text(
        json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False), encoding="utf-8"
    )
    tokenizer = MarianTokenizer(
        source_spm=str(work / "sp.model"), target_spm=str(work / "sp.model"), vocab=str(work / "vocab.json")
    )
    pad = len(tokens) - 1
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=len(tokens),
        decoder_vocab_size=len(tokens),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=4 * d_model,
        decoder_ffn_dim=4 * d_model,
        activation_function="swish",
        max_position_embeddings=512,
        init_std=INIT_STD,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
    )
    model = MarianMTModel(config)
    model.save_pretrained(out_dir / "model")
    tokenizer.save_pretrained(out_dir / "model")
    return out_dir / "model"


def best_of(repeat: int, run) -> float:
    run()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import ctranslate2
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from polyinstruct.translate.ct2 import convert

    torch.set_num_threads(args.threads)
    texts = sorted(sentences(args.sentences), key=len, reverse=True)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        hf_dir = build_marian(Path(tmp) / "marian", args.vocab, args.d_model, args.layers)
        tokenizer = AutoTokenizer.from_pretrained(hf_dir)
        model = AutoModelForSeq2SeqLM.from_pretrained(hf_dir).to(args.device).eval()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        source_tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(texts)["input_ids"]]
        mean_pieces = sum(map(len, source_tokens)) / len(source_tokens)
        print(
            f"model: random Marian, vocabulary {len(tokenizer):,} ({args.vocab:,}-piece SentencePiece), d_model "
            f"{args.d_model}, {args.layers}+{args.layers} layers, {params:.1f}M parameters (built in "
            f"{time.perf_counter() - start:.0f} s); {len(texts)} sentences ({mean_pieces:.1f} pieces each), "
            f"{args.tokens} tokens out each, batch {args.batch}, {args.threads} threads, {args.device}, "
            f"best of {args.repeat}"
        )
        ct2_dir = convert(str(hf_dir), Path(tmp) / "ct2")
        translators = {
            compute_type: ctranslate2.Translator(
                str(ct2_dir), device=args.device, compute_type=compute_type, intra_threads=args.threads
            )
            for compute_type in ("float32", "int8")
        }
        for beams in args.beams:

            def run_hf(beams=beams) -> None:
                for i in range(0, len(texts), args.batch):
                    batch = tokenizer(texts[i : i + args.batch], return_tensors="pt", padding=True).to(args.device)
                    with torch.inference_mode():
                        model.generate(
                            **batch,
                            num_beams=beams,
                            do_sample=False,
                            max_new_tokens=args.tokens,
                            min_new_tokens=args.tokens,
                        )

            results = {"transformers fp32": best_of(args.repeat, run_hf)}
            for compute_type, translator in translators.items():

                def run_ct2(translator=translator, beams=beams) -> None:
                    translator.translate_batch(
                        source_tokens,
                        max_batch_size=args.batch,
                        beam_size=beams,
                        max_decoding_length=args.tokens,
                        min_decoding_length=args.tokens,
                    )

                results[f"ctranslate2 {compute_type}"] = best_of(args.repeat, run_ct2)
            base = results["transformers fp32"]
            print(f"{'greedy' if beams == 1 else f'beam {beams}'}:")
            for name, seconds in results.items():
                print(
                    f"  {name:<20} {len(texts) / seconds:8.1f} sentences/s  "
                    f"{len(texts) * args.tokens / seconds:8.0f} tokens/s  ratio {base / seconds:.2f}x",
                    flush=True,
                )


if __name__ == "__main__":
    main()
