"""CTranslate2 against transformers on the same MT model and sentences: sentences/s and the ratio.

The model is a random Marian with OPUS-MT's shape (d_model 512, 6+6 layers, 8 heads, ffn 2048;
small vocabulary), built locally since no hub is reachable. Both backends decode greedily to exactly
`--tokens` tokens per sentence (min = max length), so they do the same work whatever the random
weights emit. Anchor: CTranslate2's own table has int8 at about 4.7x transformers on CPU.

    .venv/bin/python perf/bench_translate.py [--sentences 128] [--tokens 48] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def sentences(n: int) -> list[str]:
    lines = [json.loads(ln) for ln in (REPO / "resources/data/polyalpaca/en.jsonl").read_text().splitlines()]
    pool = [r["instruction"] for r in lines] + [r["output"].split("\n")[0] for r in lines]
    return [pool[i % len(pool)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--layers", type=int, default=6)
    args = parser.parse_args()

    import ctranslate2
    import torch
    from tiny_models import build_tiny_marian
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from polyinstruct.translate.ct2 import convert

    torch.set_num_threads(args.threads)
    texts = sorted(sentences(args.sentences), key=len, reverse=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus_en = sentences(400)
        corpus_fr = [
            json.loads(ln)["output"] for ln in (REPO / "resources/data/polyalpaca/fr.jsonl").read_text().splitlines()
        ]
        hf_dir = build_tiny_marian(
            Path(tmp) / "marian",
            corpus_en,
            corpus_fr,
            d_model=args.d_model,
            layers=args.layers,
            heads=8,
            ffn=4 * args.d_model,
        )
        tokenizer = AutoTokenizer.from_pretrained(hf_dir)
        model = AutoModelForSeq2SeqLM.from_pretrained(hf_dir).to(args.device).eval()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(
            f"model: random Marian, d_model {args.d_model}, {args.layers}+{args.layers} layers, {params:.1f}M "
            f"parameters; {len(texts)} sentences, {args.tokens} tokens each, batch {args.batch}, "
            f"{args.threads} threads, {args.device}"
        )

        def run_hf() -> None:
            for start in range(0, len(texts), args.batch):
                batch = tokenizer(texts[start : start + args.batch], return_tensors="pt", padding=True).to(args.device)
                with torch.inference_mode():
                    model.generate(
                        **batch, num_beams=1, do_sample=False, max_new_tokens=args.tokens, min_new_tokens=args.tokens
                    )

        results = {}
        run_hf()  # warm-up
        t = time.perf_counter()
        run_hf()
        results["transformers fp32"] = time.perf_counter() - t
        tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(texts)["input_ids"]]
        ct2_dir = convert(str(hf_dir), Path(tmp) / "ct2")
        for compute_type in ("float32", "int8"):
            translator = ctranslate2.Translator(
                str(ct2_dir), device=args.device, compute_type=compute_type, intra_threads=args.threads
            )

            def run_ct2(translator=translator) -> None:
                translator.translate_batch(
                    tokens,
                    max_batch_size=args.batch,
                    beam_size=1,
                    max_decoding_length=args.tokens,
                    min_decoding_length=args.tokens,
                )

            run_ct2()
            t = time.perf_counter()
            run_ct2()
            results[f"ctranslate2 {compute_type}"] = time.perf_counter() - t
        base = results["transformers fp32"]
        for name, seconds in results.items():
            print(
                f"{name:<20} {len(texts) / seconds:8.1f} sentences/s  {len(texts) * args.tokens / seconds:8.0f} "
                f"tokens/s  ratio {base / seconds:.2f}x"
            )


if __name__ == "__main__":
    main()
