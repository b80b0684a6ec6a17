"""BayLing 2: cross-lingual instructions from parallel text, share-drawn mixtures, MT scores that equal the
sacrebleu and comet-score command lines, and lm-eval on a local task (API against its CLI).

The parallel text and test sets are small copies of the released FLORES-101, FLORES-200 and WMT22 files
(tests/fixtures/flores101, flores200, wmt22: their layouts, names, licences and sources)."""

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

FLORES = REPO / "tests/fixtures/flores101/flores101_dataset"
FLORES200 = REPO / "tests/fixtures/flores200/flores200_dataset"
WMT22 = REPO / "tests/fixtures/wmt22/txt"
DEVTEST = str(FLORES / "devtest/{flores101}.devtest")
DEV = str(FLORES / "dev/{flores101}.dev")


def flores(lang: str, split: str = "devtest") -> list[str]:
    """Lines of one language's fixture file (FLORES-101 names: fra, zho_simpl)."""
    from polyinstruct import languages

    return crosslingual.read_lines(FLORES / split / f"{languages.flores101(lang)}.{split}")


BIN = Path(sys.executable).parent
SETTINGS = {
    "tasks": list(crosslingual.TASKS),
    "directions": "both",
    "document_sentences": 3,
    "constraint_words": 2,
    "max_per_task": None,
}


def _build(pivot="en", lang="fr", **overrides):
    paths = crosslingual.parallel_paths({"path": DEVTEST, "format": "lines"}, pivot, lang)
    pairs = crosslingual.read_parallel("lines", paths, pivot, lang)
    prompts = crosslingual.load_prompts(REPO / "resources/prompts/crosslingual", pivot)
    return pairs, crosslingual.build(pairs, pivot, lang, prompts, {**SETTINGS, **overrides}, seed=3)


def test_every_task_in_both_directions_with_pivot_prompts():
    pairs, (records, dropped) = _build()
    by = {}
    for r in records:
        by.setdefault((r["task"], r["direction"]), []).append(r)
    for direction in ("en-fr", "fr-en"):
        assert len(by[("sentence", direction)]) == 10
        assert len(by[("document", direction)]) == 3  # 10 sentences in windows of 3, one left over
        assert len(by[("interactive", direction)]) == 10
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
    assert document["output"] == "".join(flores("zh")[:3])  # Chinese sentences are joined without spaces


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
    paths = mt_eval.files({"test": DEVTEST, "dev": DEV, "shots": 1}, "fr", "en")
    assert paths["source"].endswith("flores101_dataset/devtest/fra.devtest")
    assert paths["dev_reference"].endswith("flores101_dataset/dev/eng.dev")
    items = mt_eval.items(paths, 1, 5, "fr", "en", limit=4)
    dev = list(zip(flores("fr", "dev"), flores("en", "dev")))
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

    corpus = [line for lang in ("en", "fr", "de", "zh") for split in ("dev", "devtest") for line in flores(lang, split)]
    model = train_sentencepiece(sacrebleu_dir / "spm" / "flores200", corpus, vocab_size=1500)  # every character
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
    references = flores(tgt)
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

    src = flores("en")[:6]
    ref = flores("fr")[:6]
    hyp = ref[:3] + flores("de")[3:6]
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


# ---- FLORES-101 / FLORES-200 / WMT22 files, in their released layouts ---------------------------------


def test_flores_release_names_fill_from_registry_codes():
    from polyinstruct import languages
    from polyinstruct.data import sources

    assert sources.expand(DEVTEST, lang="zh").endswith("flores101_dataset/devtest/zho_simpl.devtest")
    assert sources.expand(DEVTEST, lang="ne").endswith("/npi.devtest")  # FLORES-101's variety code
    assert sorted(languages.flores101(c) for c in ("en", "fr", "de", "zh")) == sorted(
        p.stem for p in (FLORES / "dev").glob("*.dev")
    )
    # one registry language per FLORES-101 file, none mapped twice
    codes = [languages.flores101(c) for c in languages.all_codes() if languages.flores101(c)]
    assert sorted(codes) == sorted(languages.FLORES101) and len(languages.FLORES101) == 102
    with pytest.raises(ValueError, match="needs a FLORES-101 code and language 'eu' has none"):
        sources.expand(DEVTEST, lang="eu")
    # FLORES-200's devtest holds FLORES-101's sentences, byte for byte, under FLORES-200 names
    for lang in ("en", "fr", "de", "zh"):
        flores200 = FLORES200 / "devtest" / f"{languages.get(lang).flores}.devtest"
        assert flores200.read_bytes() == (FLORES / "devtest" / f"{languages.flores101(lang)}.devtest").read_bytes()


def test_the_preset_evaluates_flores101s_other_100_languages():
    from polyinstruct import languages
    from polyinstruct.workflow import planning

    config = planning.load_config([REPO / "configs/bayling2.yaml"])
    xs = config["mt_eval"]["testsets"]["flores"]["languages"]
    assert xs == config["crosslingual"]["languages"] and len(xs) == 100
    assert {languages.flores101(x) for x in xs} | {"eng", "zho_simpl"} == set(languages.FLORES101)


WMT22_SPEC = {
    "source": str(WMT22 / "sources/generaltest2022.{src}-{tgt}.src.{src}"),
    "reference": str(WMT22 / "references/generaltest2022.{src}-{tgt}.ref.{ref}.{tgt}"),
    "refs": {"default": "A", "en-cs": "B", "cs-en": "B"},
    "pairs": ["en-zh", "cs-en"],
    "shots": 0,
    "limit": None,
    "dev_lines": None,
}


def test_wmt22_pairs_read_reference_a_and_b_for_czech():
    from polyinstruct.workflow import grid

    cs_en = mt_eval.files(WMT22_SPEC, "cs", "en", "wmt22")
    assert cs_en["reference"].endswith("txt/references/generaltest2022.cs-en.ref.B.en")  # no reference A exists
    assert mt_eval.files(WMT22_SPEC, "en", "zh", "wmt22")["reference"].endswith("generaltest2022.en-zh.ref.A.zh")
    params = grid.without_planning_keys(WMT22_SPEC)
    assert "limit" not in params and "dev_lines" not in params  # unset optional settings are left out
    items = mt_eval.prepare(cs_en, params, 7, "cs", "en")
    assert len(items) == 8 and items[0]["source"] == "Blíží se velký návrat českého smolaře."
    assert items[0]["reference"] == "The big comeback of the Czech underdog is coming." and items[0]["shots"] == []
    with pytest.raises(ValueError, match=r"mt_eval\.testsets\.wmt22\.refs.*cs-en"):
        mt_eval.files({**WMT22_SPEC, "refs": {"en-cs": "B"}}, "cs", "en", "wmt22")


def test_mt_prepare_runs_on_the_twins_params_without_limit(monkeypatch):
    """The twin's test sets set no `limit`: the rule's params leave it out, and every test line is an item."""
    from polyinstruct.workflow import grid, planning

    monkeypatch.chdir(REPO)
    config = planning.load_config([REPO / "configs/bayling2.yaml", REPO / "configs/twins/bayling2.yaml"])
    for name, spec in config["mt_eval"]["testsets"].items():
        assert spec["limit"] is None, name
    spec = config["mt_eval"]["testsets"]["flores"]
    params = grid.without_planning_keys(spec)
    assert "limit" not in params and params["dev_lines"] == [0, 8]
    items = mt_eval.prepare(mt_eval.files(spec, "fr", "zh", "flores"), params, config["seed"], "fr", "zh")
    assert [i["source"] for i in items] == flores("fr") and [i["reference"] for i in items] == flores("zh")
    pool = set(zip(flores("fr", "dev")[:8], flores("zh", "dev")[:8]))
    assert all((s["source"], s["reference"]) in pool for i in items for s in i["shots"])


def test_scripts_read_optional_settings_with_get():
    """A key grid.without_planning_keys may leave out of a rule's params is never subscripted by a script or by
    the modules the scripts hand a spec to (the KeyError: 'limit' of mt_prepare). Records are no specs: an eval
    item's `turns` is always there."""
    import ast

    from polyinstruct.workflow import grid

    droppable = set(grid.PLANNING_KEYS) | set(grid.OPTIONAL_KEYS)
    files = [*(REPO / "scripts").rglob("*.py")] + [
        REPO / "polyinstruct" / m for m in ("mt/mt_eval.py", "data/normalise.py", "data/evalsets.py")
    ]
    offenders = [
        f"{path.relative_to(REPO)}:{node.lineno}: [{node.slice.value!r}]"
        for path in files
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value in droppable
        and isinstance(node.ctx, ast.Load)
        and not (isinstance(node.value, ast.Name) and node.value.id in ("item", "record", "r"))
    ]
    assert offenders == []


# ---- cross-lingual text apart from the evaluation and shot pools -----------------------------------------


def test_crosslingual_text_is_apart_from_the_shot_pool():
    spec = {"path": DEV, "format": "lines", "lines": [8, None]}
    every = crosslingual.read_parallel("lines", crosslingual.parallel_paths(spec, "en", "fr"), "en", "fr")
    pairs, first = crosslingual.selected_lines(every, spec["lines"])
    assert (len(every), len(pairs), first) == (24, 16, 8)
    prompts = crosslingual.load_prompts(REPO / "resources/prompts/crosslingual", "en")
    records, _ = crosslingual.build(pairs, "en", "fr", prompts, SETTINGS, seed=3, first_line=first)
    assert min(int(r["id"].rsplit("-", 1)[1]) for r in records) == 8  # named by file line
    text = " ".join(
        r.get("input", "") + r.get("output", "") + "".join(m["content"] for m in r.get("messages", [])) for r in records
    )
    items = mt_eval.items(mt_eval.files({"test": DEVTEST, "dev": DEV}, "fr", "en"), 1, 5, "fr", "en", None, [0, 8])
    shots = {s[k] for i in items for s in i["shots"] for k in ("source", "reference")}
    assert shots and shots <= set(flores("fr", "dev")[:8] + flores("en", "dev")[:8])
    assert not [s for s in shots if s in text]
    assert not [line for line in flores("en") + flores("fr") if line in text]  # nor a test sentence


def _preset_and_twin() -> dict:
    import yaml
    from snakemake.utils import update_config

    raw: dict = {}
    for path in (REPO / "configs/bayling2.yaml", REPO / "configs/twins/bayling2.yaml"):
        update_config(raw, yaml.safe_load(path.read_text(encoding="utf-8")))
    return raw


def test_config_refuses_crosslingual_text_from_the_test_or_shot_pool(monkeypatch):
    from polyinstruct.workflow import config as configuration

    monkeypatch.chdir(REPO)
    schema = REPO / "schemas/config.schema.yaml"
    raw = _preset_and_twin()
    configuration.load(raw, schema, repo=REPO)  # the twin's split is disjoint
    raw["crosslingual"]["parallel"]["lines"] = [4, None]
    with pytest.raises(configuration.ConfigError, match=r"crosslingual\.parallel\.lines.*shot pool.*flores"):
        configuration.load(raw, schema, repo=REPO)
    raw["crosslingual"]["parallel"] = {"path": DEVTEST, "lines": None}
    with pytest.raises(configuration.ConfigError, match=r"crosslingual\.parallel\.path.*test file"):
        configuration.load(raw, schema, repo=REPO)
    raw = _preset_and_twin()
    raw["mt_eval"]["testsets"]["wmt22"]["refs"] = {"cs-en": "B"}  # en-zh has no reference id
    with pytest.raises(configuration.ConfigError, match=r"wmt22\.refs.*en-zh"):
        configuration.load(raw, schema, repo=REPO)


# ---- mixture shares: requested and realised --------------------------------------------------------------

PAPER_SHARES = {"zh": 0.432, "en": 0.262, "crosslingual": 0.306}


def test_share_counts_scale_the_budget_or_keep_it():
    available = {"zh": 51242, "en": 51242, "crosslingual": None}  # the preset: 51,760 Alpaca records, 1% held out
    scaled = compose.share_counts(PAPER_SHARES, 160000, available, "scale")
    assert scaled["requested"] == {"zh": 69120, "en": 41920, "crosslingual": 48960}
    # 51,242 / 0.432 = 118,615.7 records keep the shares: zh takes all it has
    assert scaled["realised"] == {"zh": 51242, "en": 31077, "crosslingual": 36296}
    assert scaled["realised_budget"] == 118615 and scaled["realised_shares"] == scaled["requested_shares"]
    kept = compose.share_counts(PAPER_SHARES, 160000, available, "keep_budget")
    # zh gives its 51,242; en and crosslingual share the other 108,758 as 26.2 : 30.6
    assert kept["realised"] == {"zh": 51242, "en": 50167, "crosslingual": 58591}  # 108,758 x 262/568 = 50,166.5
    assert kept["realised_budget"] == 160000 and kept["realised_shares"]["zh"] == round(51242 / 160000, 4)
    # en cannot take its 50,167 when it holds 40,000: it gives all, crosslingual fills the rest
    tight = compose.share_counts(PAPER_SHARES, 160000, {**available, "en": 40000}, "keep_budget")
    assert tight["realised"] == {"zh": 51242, "en": 40000, "crosslingual": 68758}
    with pytest.raises(ValueError, match=r"crosslingual\.mixture\.shortfall.*zh holds 51,242 of the 69,120"):
        compose.share_counts(PAPER_SHARES, 160000, available, "error")
    assert compose.share_counts(PAPER_SHARES, 1000, available, "error")["realised"] == {
        "zh": 432,
        "en": 262,
        "crosslingual": 306,
    }


def test_the_manifest_holds_requested_and_realised_shares_and_the_ablation_keeps_its_records():
    _, (xl, _) = _build()  # 64 cross-lingual instructions
    zh = [{"id": f"a-{i}", "lang": "zh", "instruction": "问", "output": "答"} for i in range(40)]
    en = [{"id": f"a-{i}", "lang": "en", "instruction": "q", "output": "a"} for i in range(40)]
    parts = {"zh": zh, "en": en, "crosslingual": xl}
    train, _, counts = compose.build_shares("crosslingual", parts, PAPER_SHARES, 100, 1, 0.1)
    held = sum(1 for r in zh if not compose.is_validation(r["id"], 1, 0.1))
    assert counts["available"]["zh"] == held < counts["requested"]["zh"] == 43
    assert counts["shortfall"]["zh"]["train"] == 43 - held and counts["shortfall_policy"] == "scale"
    assert counts["realised"]["zh"] == held and counts["train_total"] == counts["realised_budget"] < 100
    assert counts["realised_shares"] == pytest.approx(PAPER_SHARES, abs=0.02)
    assert counts["train"] == {k: n for k, n in sorted(counts["realised"].items())}
    ablation, _, ablated = compose.build_shares(
        "no-crosslingual", parts, PAPER_SHARES, 100, 1, 0.1, drop=("crosslingual",)
    )
    assert sorted(r["id"] + r["lang"] for r in ablation) == sorted(
        r["id"] + r["lang"] for r in train if not r.get("task")
    )
    assert ablated["realised"] == counts["realised"] and ablated["dropped_parts"] == ["crosslingual"]
    _, _, kept = compose.build_shares("crosslingual", parts, PAPER_SHARES, 100, 1, 0.1, policy="keep_budget")
    assert kept["train_total"] == 100 and kept["realised"]["zh"] == held


# ---- the paper's models: chat templates --------------------------------------------------------------------


def _tokenizer(bos: str, eos: str):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel({"<unk>": 0, bos: 1, eos: 2}, unk_token="<unk>")),
        bos_token=bos,
        eos_token=eos,
        unk_token="<unk>",
    )


DIALOG = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": "Who are you"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]


def test_llama2_chat_template_renders_metas_prompt_format():
    """resources/chat_templates/llama-2-chat.jinja (the template of meta-llama/Llama-2-{7b,13b}-chat-hf) against
    Meta's own layout (meta-llama/llama 689c7f2, llama/generation.py chat_completion: each exchange
    `<s>[INST] {user.strip()} [/INST] {answer.strip()} </s>`, the system prompt in <<SYS>> in the first user
    turn) and the rendering text-generation-inference tests for this template (router/src/infer/chat_template.rs)."""
    template = (REPO / "resources/chat_templates/llama-2-chat.jinja").read_text(encoding="utf-8")
    tokenizer = _tokenizer("<s>", "</s>")
    rendered = tokenizer.apply_chat_template(DIALOG, chat_template=template, tokenize=False)
    b_inst, e_inst, b_sys, e_sys = "[INST]", "[/INST]", "<<SYS>>\n", "\n<</SYS>>\n\n"
    turns = [{"role": "user", "content": b_sys + DIALOG[0]["content"] + e_sys + DIALOG[1]["content"]}, *DIALOG[2:]]
    meta = (
        "".join(
            f"<s>{b_inst} {u['content'].strip()} {e_inst} {a['content'].strip()} </s>"
            for u, a in zip(turns[::2], turns[1::2])
        )
        + f"<s>{b_inst} {turns[-1]['content'].strip()} {e_inst}"
    )
    assert rendered == meta
    assert rendered == (
        "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are "
        "you [/INST] I am an assistant </s><s>[INST] Another question [/INST]"
    )
    # training splits a record into prompt and completion: the prompt is a prefix of the whole
    pair = [{"role": "user", "content": "Translate: Bonjour"}, {"role": "assistant", "content": "Hello"}]
    prompt = tokenizer.apply_chat_template(pair[:1], chat_template=template, tokenize=False, add_generation_prompt=True)
    whole = tokenizer.apply_chat_template(pair, chat_template=template, tokenize=False)
    assert whole == prompt + " Hello </s>"


def test_llama3_instruct_template_renders_metas_prompt_format():
    """resources/chat_templates/llama-3-instruct.jinja (meta-llama/Meta-Llama-3-8B-Instruct) against Meta's
    ChatFormat (meta-llama/llama3 a0940f9, llama/tokenizer.py): <|begin_of_text|>, then per message a header
    (<|start_header_id|>role<|end_header_id|>\\n\\n), the stripped content and <|eot_id|>, then the assistant
    header for the model to complete."""
    template = (REPO / "resources/chat_templates/llama-3-instruct.jinja").read_text(encoding="utf-8")
    tokenizer = _tokenizer("<|begin_of_text|>", "<|end_of_text|>")
    rendered = tokenizer.apply_chat_template(DIALOG, chat_template=template, tokenize=False, add_generation_prompt=True)

    def header(role: str) -> str:
        return f"<|start_header_id|>{role}<|end_header_id|>\n\n"

    meta = "<|begin_of_text|>" + "".join(header(m["role"]) + m["content"].strip() + "<|eot_id|>" for m in DIALOG)
    assert rendered == meta + header("assistant")


def test_the_preset_tunes_the_papers_chat_models_at_the_papers_learning_rates():
    from polyinstruct.workflow import grid, planning

    config = planning.load_config([REPO / "configs/bayling2.yaml"])
    models = config["models"]
    assert {name: spec["hub"] for name, spec in models.items()} == {
        "llama-2-7b-chat": "meta-llama/Llama-2-7b-chat-hf",
        "llama-2-13b-chat": "meta-llama/Llama-2-13b-chat-hf",
        "llama-3-8b-instruct": "meta-llama/Meta-Llama-3-8B-Instruct",
    }
    assert {m: grid.learning_rates(config, "full", m) for m in models} == {
        "llama-2-7b-chat": ["2e-05"],
        "llama-2-13b-chat": ["2e-05"],
        "llama-3-8b-instruct": ["2e-06"],
    }
    assert all((REPO / spec["chat_template"]).is_file() for spec in models.values())
    assert [r.path for r in grid.runs(config)][:3] == [f"{m}/base/none/none/0" for m in models]  # the baselines


def test_the_presets_lm_eval_tasks_are_in_lm_evals_registry():
    """Tables 7-8 of the paper, as lm-eval 0.4.13 names them; ammlu, missing from it, is named in the header."""
    from lm_eval.tasks import TaskManager

    from polyinstruct.workflow import planning

    config = planning.load_config([REPO / "configs/bayling2.yaml"])
    tasks = config["lm_eval"]["tasks"]
    registry = set(TaskManager().all_tasks)
    assert [t for t in tasks if t not in registry] == []
    assert len([t for t in tasks if t.startswith("belebele_")]) == 19
    assert "ammlu" not in registry and "ammlu" in (REPO / "configs/bayling2.yaml").read_text(encoding="utf-8")


# ---- the report: Table 1 and the per-language bars ---------------------------------------------------------


def _scores(tmp_path: Path, run: dict, src: str, tgt: str, hypotheses: list[str], comet: float) -> tuple[str, str]:
    """One direction's score files as mt_score and mt_comet write them."""
    from polyinstruct.io import write_json

    name = f"{run['model']}-{run['method']}-{src}-{tgt}"
    settings = {
        "metrics": ["bleu", "chrf"],
        "tokenizers": {"zh": "zh", "default": "13a"},
        "spbleu_tokenizer": "flores200",
    }
    metrics = mt_eval.score(hypotheses, flores(tgt), tgt, settings)
    keys = {"run": run, "testset": "flores", "src": src, "tgt": tgt}
    write_json(tmp_path / f"{name}.json", {**keys, "segments": len(hypotheses), "metrics": metrics})
    write_json(tmp_path / f"{name}.comet.json", {**keys, "segments": len(hypotheses), "system_score": comet})
    return str(tmp_path / f"{name}.json"), str(tmp_path / f"{name}.comet.json")


def test_table1_averages_each_direction_group_base_against_tuned(tmp_path):
    import csv

    from polyinstruct.report import mt_lm_eval

    base = {"model": "m", "method": "base", "dataset": "none", "mixture": "none", "lr": "0"}
    tuned = {"model": "m", "method": "full", "dataset": "alpaca", "mixture": "crosslingual", "lr": "2e-05"}
    score_paths, comet_paths, bleu, comet = [], [], {}, {}
    for run, quality in ((tuned, 0.9), (base, 0.5)):
        for x in ("de", "fr"):
            for src, tgt in ((x, "en"), ("en", x), (x, "zh"), ("zh", x)):
                refs = flores(tgt)
                cut = round(quality * len(refs))
                hypotheses = refs[:cut] + flores(src)[cut:]  # the rest untranslated: a worse system scores less
                c = round(quality - 0.03 * (x == "fr") - 0.01 * (src == x), 4)  # differs by language and side
                s, k = _scores(tmp_path, run, src, tgt, hypotheses, c)
                score_paths.append(s)
                comet_paths.append(k)
                bleu[(run["method"], src, tgt)] = mt_eval.score(
                    hypotheses,
                    refs,
                    tgt,
                    {
                        "metrics": ["bleu"],
                        "tokenizers": {"zh": "zh", "default": "13a"},
                        "spbleu_tokenizer": "flores200",
                    },
                )["bleu"]["score"]
                comet[(run["method"], src, tgt)] = c
    out = {
        k: str(tmp_path / "out" / name)
        for k, name in [
            ("mt_csv", "mt.csv"),
            ("mt_md", "mt.md"),
            ("table1_csv", "table1.csv"),
            ("table1_md", "table1.md"),
            ("lm_csv", "lm.csv"),
            ("lm_md", "lm.md"),
            ("figures", "figures"),
        ]
    }
    figures = mt_lm_eval.write(score_paths, comet_paths, [], out, "t", {"flores": ["en", "zh"]})
    rows = list(csv.DictReader(Path(out["table1_csv"]).read_text(encoding="utf-8").splitlines()))
    assert [(r["method"], r["group"]) for r in rows] == [
        (m, g) for m in ("base", "full") for g in ("X->en", "en->X", "X->zh", "zh->X")
    ]  # the base run first, groups in the paper's order
    for r in rows:
        pairs = {
            "X->en": [("de", "en"), ("fr", "en")],
            "en->X": [("en", "de"), ("en", "fr")],
            "X->zh": [("de", "zh"), ("fr", "zh")],
            "zh->X": [("zh", "de"), ("zh", "fr")],
        }[r["group"]]
        assert r["languages"] == "2"
        assert float(r["bleu"]) == round(sum(bleu[(r["method"], s, t)] for s, t in pairs) / 2, 2)
        assert float(r["comet_x100"]) == round(100 * sum(comet[(r["method"], s, t)] for s, t in pairs) / 2, 2)
    table = Path(out["table1_md"]).read_text(encoding="utf-8")
    assert "X: 2 languages (de, fr)" in table and "| run | X->en BLEU | X->en COMET | en->X BLEU |" in table
    assert table.index("| m base |") < table.index("| m full crosslingual lr=2e-05 |")
    assert "## flores: comet (x100)" in Path(out["mt_md"]).read_text(encoding="utf-8")
    names = sorted(Path(f).name for f in figures)
    assert names == sorted(
        f"flores_{metric}_{g}_m.png" for metric in ("bleu", "comet") for g in ("X-en", "en-X", "X-zh", "zh-X")
    )
