"""BayLing 2: cross-lingual instructions from parallel text, share-drawn mixtures, MT scores that equal the
sacrebleu and comet-score command lines, and lm-eval on a local task (API against its CLI)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from polyinstruct.lm_eval import lm_tasks
from polyinstruct.mixtures import compose, crosslingual
from polyinstruct.mt import mt_eval

FLORES = REPO / "tests/fixtures/flores"
BIN = Path(sys.executable).parent
SETTINGS = {
    "tasks": list(crosslingual.TASKS),
    "directions": "both",
    "document_sentences": 3,
    "constraint_words": 2,
    "max_per_task": None,
}


def _build(pivot="en", lang="fr", **overrides):
    paths = crosslingual.parallel_paths({"path": str(FLORES / "{lang}.devtest"), "format": "lines"}, pivot, lang)
    pairs = crosslingual.read_parallel("lines", paths, pivot, lang)
    prompts = crosslingual.load_prompts(REPO / "resources/prompts/crosslingual", pivot)
    return pairs, crosslingual.build(pairs, pivot, lang, prompts, {**SETTINGS, **overrides}, seed=3)


def test_every_task_in_both_directions_with_pivot_prompts():
    pairs, (records, dropped) = _build()
    by = {}
    for r in records:
        by.setdefault((r["task"], r["direction"]), []).append(r)
    for direction in ("en-fr", "fr-en"):
        assert len(by[("sentence", direction)]) == 24
        assert len(by[("document", direction)]) == 8  # 24 sentences in windows of 3
        assert len(by[("interactive", direction)]) == 24
    doc = by[("document", "en-fr")][0]
    assert doc["input"] == " ".join(p[0] for p in pairs[:3]) and doc["output"] == " ".join(p[1] for p in pairs[:3])
    assert doc["instruction"].startswith("Translate the following English text into French")
    for r in by[("constrained", "fr-en")]:
        words = r["instruction"].split("contain these words: ")[1].rstrip(".").split(", ")
        assert len(words) == 2 and all(w in r["output"] for w in words)
    chat = by[("interactive", "en-fr")][5]["messages"]
    assert [m["role"] for m in chat] == ["user", "assistant", "user", "assistant"]
    word = chat[2]["content"].split('"')[1]
    assert word in chat[3]["content"] and word not in chat[1]["content"] and chat[3]["content"] == pairs[5][1]
    assert all(r["lang"] == "en" and r["source"] == "crosslingual" for r in records)
    assert _build()[1] == (records, dropped)  # deterministic


def test_chinese_pivot_writes_chinese_prompts_and_bigram_constraints():
    _, (records, _) = _build(pivot="zh", lang="de", tasks=["constrained", "document"])
    constrained = next(r for r in records if r["task"] == "constrained" and r["direction"] == "de-zh")
    assert constrained["instruction"].startswith("请将下面的德语句子翻译成中文")
    words = constrained["instruction"].split("：")[1].rstrip("。").split("、")
    assert all(len(w) == 2 and w in constrained["output"] for w in words)
    document = next(r for r in records if r["task"] == "document" and r["direction"] == "de-zh")
    assert " " not in document["output"]  # Chinese sentences are joined without spaces


def test_misaligned_files_and_missing_prompt_file_name_the_file(tmp_path):
    (tmp_path / "en.txt").write_text("a\nb\n")
    (tmp_path / "fr.txt").write_text("a\n")
    with pytest.raises(Exception, match=r"fr\.txt: 1 lines, but .*en\.txt has 2"):
        crosslingual.read_parallel("lines", {"en": tmp_path / "en.txt", "fr": tmp_path / "fr.txt"}, "en", "fr")
    with pytest.raises(Exception, match=r"crosslingual.prompts_dir.*de\.yaml"):
        crosslingual.load_prompts(tmp_path, "de")
    (tmp_path / "p.tsv").write_text("one\tun\nbroken\n")
    with pytest.raises(Exception, match=r"p\.tsv:2: expected 2 tab-separated columns"):
        crosslingual.read_parallel("tsv", {"pair": tmp_path / "p.tsv"}, "en", "fr")


def test_share_mixture_and_its_ablation_keep_the_same_instruction_records():
    _, (xl, _) = _build()
    en = [{"id": f"en-{i}", "lang": "en", "instruction": "q", "output": "a"} for i in range(200)]
    parts = {"en": en, "crosslingual": xl}
    shares = {"en": 0.6, "crosslingual": 0.4}
    train, valid, counts = compose.build_shares("crosslingual", parts, shares, 100, 1, 0.1)
    assert counts["train"] == {"crosslingual": 40, "en": 60} and counts["train_total"] == 100
    assert set(counts["crosslingual_tasks"]) <= set(crosslingual.TASKS)
    ablated, _, ablated_counts = compose.build_shares(
        "crosslingual", parts, shares, 100, 1, 0.1, drop=("crosslingual",)
    )
    assert ablated_counts["train"] == {"en": 60}
    assert sorted(r["id"] for r in ablated) == sorted(r["id"] for r in train if not r.get("task"))
    _, _, short = compose.build_shares("crosslingual", parts, {"en": 0.1, "crosslingual": 0.9}, 1000, 1, 0.1)
    assert short["shortfall"]["crosslingual"]["train"] > 0  # more asked than built: counted


def test_shots_are_drawn_from_dev_with_the_seed():
    paths = mt_eval.files(
        {"test": str(FLORES / "{lang}.devtest"), "dev": str(FLORES / "{lang}.dev"), "shots": 1}, "fr", "en"
    )
    items = mt_eval.items(paths, 1, 5, "fr", "en", limit=4)
    dev = list(zip(*(crosslingual.read_lines(FLORES / f"{x}.dev") for x in ("fr", "en"))))
    assert len(items) == 4 and all((s["source"], s["reference"]) in dev for i in items for s in i["shots"])
    assert items == mt_eval.items(paths, 1, 5, "fr", "en", limit=4)
    assert mt_eval.directions({"pivots": ["en", "zh"], "languages": ["fr", "en"], "directions": "both"}) == [
        ("fr", "en"),
        ("en", "fr"),
        ("fr", "zh"),
        ("zh", "fr"),
        ("en", "zh"),
        ("zh", "en"),
    ]
    assert mt_eval.directions({"pairs": ["zh-Hant-en"]}) == [("zh-Hant", "en")]


def flores200_spm(sacrebleu_dir: Path) -> Path:
    """A tiny sentencepiece model where sacrebleu looks for the flores200 one (offline spBLEU)."""
    from tiny_models import train_sentencepiece

    corpus = [
        line
        for lang in ("en", "fr", "de", "zh")
        for split in ("dev", "devtest")
        for line in crosslingual.read_lines(FLORES / f"{lang}.{split}")
    ]
    model = train_sentencepiece(sacrebleu_dir / "spm" / "flores200", corpus, vocab_size=600)
    (sacrebleu_dir / "models").mkdir(parents=True, exist_ok=True)
    target = sacrebleu_dir / "models" / "flores200sacrebleuspm"
    target.write_bytes(model.read_bytes())
    return target


def sacrebleu_cli(hyp: Path, ref: Path, flags: list[str], sacrebleu_dir: Path) -> dict:
    proc = subprocess.run(
        [str(BIN / "sacrebleu"), str(ref), "-i", str(hyp), *flags, "-f", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "SACREBLEU": str(sacrebleu_dir)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("tgt", ["zh", "fr"])
def test_scores_equal_the_sacrebleu_command_line(tmp_path, tgt):
    flores200_spm(tmp_path / "sacrebleu")
    references = crosslingual.read_lines(FLORES / f"{tgt}.devtest")
    hypotheses = references[3:] + references[:3]  # a poor system, so scores are not trivially 100
    hypotheses[:5] = references[:5]
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("\n".join(hypotheses) + "\n", encoding="utf-8")
    ref.write_text("\n".join(references) + "\n", encoding="utf-8")
    settings = {
        "metrics": ["bleu", "chrf", "spbleu"],
        "tokenizers": {"zh": "zh", "default": "13a"},
        "spbleu_tokenizer": "flores200",
        "sacrebleu_dir": str(tmp_path / "sacrebleu"),
    }
    scores = mt_eval.score(hypotheses, references, tgt, settings)
    assert scores["bleu"]["signature"].endswith(f"tok:{'zh' if tgt == 'zh' else '13a'}|smooth:exp|version:2.6.0")
    assert "tok:flores200" in scores["spbleu"]["signature"]
    for name, result in scores.items():
        cli = sacrebleu_cli(hyp, ref, result["cli"], tmp_path / "sacrebleu")
        assert cli["score"] == round(result["score"], 1), name  # the CLI prints one decimal
        assert cli["signature"] == result["signature"], name
        width = json.loads(
            subprocess.run(
                [str(BIN / "sacrebleu"), str(ref), "-i", str(hyp), *result["cli"], "-f", "json", "-w", "6"],
                capture_output=True,
                text=True,
                env={**os.environ, "SACREBLEU": str(tmp_path / "sacrebleu")},
            ).stdout
        )
        assert width["score"] == round(result["score"], 6), name


def test_comet_scores_equal_the_comet_score_command_line(tmp_path, tiny_comet):
    from polyinstruct.mt import comet_score

    src = crosslingual.read_lines(FLORES / "en.devtest")[:6]
    ref = crosslingual.read_lines(FLORES / "fr.devtest")[:6]
    hyp = ref[:3] + crosslingual.read_lines(FLORES / "de.devtest")[3:6]
    files = {}
    for name, lines in (("src", src), ("hyp", hyp), ("ref", ref)):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    ours = comet_score.score(str(tiny_comet), src, hyp, ref, batch_size=4, gpus=0)
    out = tmp_path / "cli.json"
    proc = subprocess.run(
        [
            str(BIN / "comet-score"),
            "-s",
            str(files["src"]),
            "-t",
            str(files["hyp"]),
            "-r",
            str(files["ref"]),
            "--model",
            str(tiny_comet),
            "--gpus",
            "0",
            "--batch_size",
            "4",
            "--quiet",
            "--to_json",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    system = float(proc.stdout.strip().splitlines()[-2].split("score:")[1]) if "score:" in proc.stdout else None
    segments = [row["COMET"] for row in json.loads(out.read_text())[str(files["hyp"])]]
    assert segments == pytest.approx(ours["scores"], abs=1e-6)
    assert system == pytest.approx(ours["system_score"], abs=1e-4)


def test_lm_eval_local_task_equals_the_lm_eval_command_line(tmp_path, tiny_llama):
    task_dir = tmp_path / "tasks"
    names = lm_tasks.write_stubs(
        REPO / "resources/lm_eval/polybelebele/_default_template_yaml",
        task_dir,
        "polybelebele",
        str(REPO / "tests/fixtures/lm_eval/{flores}.jsonl"),
        ["fr", "de"],
    )
    assert names == ["polybelebele_fra_Latn", "polybelebele_deu_Latn"]
    assert lm_tasks.expand(["polybelebele_{flores}", "xnli_{lang}", "arc_easy"], ["fr", "de"]) == [
        "polybelebele_fra_Latn",
        "polybelebele_deu_Latn",
        "xnli_fr",
        "xnli_de",
        "arc_easy",
    ]
    settings = {"include_path": str(task_dir), "num_fewshot": 0, "batch_size": 4, "limit": None}
    ours = lm_tasks.evaluate(names[0], {"pretrained": str(tiny_llama)}, settings, seed=7)["results"][names[0]]
    out = tmp_path / "cli"
    proc = subprocess.run(
        [
            str(BIN / "lm_eval"),
            "--model",
            "hf",
            "--model_args",
            f"pretrained={tiny_llama}",
            "--tasks",
            names[0],
            "--include_path",
            str(task_dir),
            "--batch_size",
            "4",
            "--num_fewshot",
            "0",
            "--device",
            "cpu",
            "--output_path",
            str(out),
            "--seed",
            "7",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cli = json.loads(next(out.rglob("results_*.json")).read_text())["results"][names[0]]
    for key in ("acc,none", "acc_norm,none"):
        assert cli[key] == ours[key]
    assert ours["sample_len"] == 5
