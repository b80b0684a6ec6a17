"""The four study presets plan their full grids offline; their scaled-down twins run end to end.

A twin is layered on its preset (`--configfile preset twin`); the tests add one more layer that swaps
SmolLM2 for tiny random models (and a tiny COMET and a local lm-eval task for BayLing 2), so the whole
pipeline of each study runs in a couple of minutes.
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO, _shipped, job_counts, snakemake
from tiny_models import build_tiny_causal_lm, build_tiny_fasttext_lid

PRESETS = ("chen2024_alpaca", "weber2024_mtbenchx", "chirkova2024_zeroshot", "bayling2")


def preset(name: str) -> Path:
    return REPO / "configs" / f"{name}.yaml"


def twin(name: str) -> Path:
    return REPO / "configs" / "twins" / f"{name}.yaml"


# ---- the full grids plan offline -------------------------------------------------------------------


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, dict[str, int]]:
    out = {}
    for name in PRESETS:
        workdir = tmp_path_factory.mktemp(name)
        out[name] = job_counts(snakemake(workdir, "-n", configfiles=[preset(name)]).stdout)
    return out


def test_the_planner_counts_every_job_snakemake_plans(plans):
    """`make plan` counts jobs from the grid's job families (targets.jobs), without Snakemake: the same
    counts, rule by rule, as Snakemake's own dry run of each preset."""
    from polyinstruct.workflow import planning

    for name in PRESETS:
        assert planning.planned_jobs(planning.load_config([preset(name)])) == plans[name], name


def test_chen_plans_the_size_sweeps_both_methods_and_every_mixture(plans):
    plan = plans["chen2024_alpaca"]
    models, mixtures, eval_langs = 15, 1 + 8 + 2, 8  # english-only, 8 monolingual, multilingual, downsampled
    assert plan["train"] == 2 * models * mixtures
    runs = models + 2 * models * mixtures
    assert plan["generate"] == runs * eval_langs
    assert plan["judge"] == runs * eval_langs  # chen_single only
    assert plan["translate_shard"] == 8 * 27  # at most 52,002 records in shards of 2,000, for 8 target languages
    # the released test prompts (one file per language), English Alpaca and its 8 translations, OpenLID
    assert plan["fetch_url"] == eval_langs + 1 + 8 + 1
    assert plan["report_size_figure"] == 4 * 2  # Figs 2-4: Pythia, BLOOM, LLaMA, OpenLLaMA x LoRA, full
    assert plan["report_drop_figure"] == plan["report_families_figure"] == 1  # Figs 6 and 7
    assert plan["report_language_fidelity"] == 1 and plan["report_significance"] == 1


def test_weber_plans_pairwise_against_the_monolingual_run(plans):
    plan = plans["weber2024_mtbenchx"]
    mixtures, langs = 5 + 2, 5  # mono x5, multilingual, sampled
    assert plan["train"] == mixtures
    runs = 1 + mixtures
    assert plan["judge"] == runs * langs  # mt_bench_single
    # every tuned run but the language's own monolingual one, against mono-<lang>, per language
    assert plan["judge_pairwise"] == (mixtures - 1) * langs
    assert plan["report_category_radar"] == 1 and plan["report_pairwise"] == 1


def test_chirkova_plans_the_lr_sweep_selection_and_surface_metrics(plans):
    plan = plans["chirkova2024_zeroshot"]
    models, mixtures, rates = 3, 2, 3
    assert plan["train"] == 2 * models * mixtures * rates
    assert plan["select_lr"] == models * 2 * mixtures
    assert plan["report_criteria_heatmap"] == 1 and plan["report_surface"] == 1
    assert plan["fetch_url"] == 4 * 4  # two eval sets x (items + task types) x four languages


def test_bayling_plans_a_hundred_languages_without_downloading(plans):
    plan = plans["bayling2"]
    langs = 105
    flores_directions, wmt_directions = 2 * 2 * langs, 12  # X<->en and X<->zh
    runs = 3 + 3 * 2  # base models, crosslingual and no-crosslingual per model
    assert plan["mt_prepare"] == flores_directions + wmt_directions
    assert plan["mt_translate"] == plan["mt_score"] == plan["mt_comet"] == runs * (flores_directions + wmt_directions)
    assert plan["fetch_url"] == 2  # the FLORES-200 archive and the WMT22 archive, once each
    assert plan["extract_member"] > langs  # every language's dev and devtest file, read from the archive
    assert plan["train"] == 3 * 2 and plan["build_crosslingual"] == 1


def test_dry_run_leaves_nothing_downloaded(tmp_path):
    snakemake(tmp_path, "-n", configfiles=[preset("bayling2")])
    assert not (tmp_path / "results").exists()


# ---- the twins run end to end ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory, tiny_llama) -> dict[str, Path]:
    corpus = [r["instruction"] for lang in ("en", "fr", "de") for r in _shipped(lang, 100)]
    root = tmp_path_factory.mktemp("models")
    return {
        "tiny-llama": tiny_llama,
        "tiny-pythia": build_tiny_causal_lm(root / "tiny-pythia", corpus, "gpt_neox"),
        # a base model's tokenizer: no chat template (Pythia, BLOOM, LLaMA ship none)
        "tiny-pythia-base": build_tiny_causal_lm(root / "tiny-pythia-base", corpus, "gpt_neox", chat_template=False),
    }


@pytest.fixture(scope="module")
def tiny_openlid(tmp_path_factory) -> Path:
    """A tiny fastText language identifier with OpenLID's labels (eng_Latn, fra_Latn, deu_Latn, nob_Latn)."""
    hplt = REPO / "tests/fixtures/hplt/test-data"
    texts = {
        flores: [r["instruction"] + " " + r["output"] for r in _shipped(lang, 100)]
        for lang, flores in (("en", "eng_Latn"), ("fr", "fra_Latn"), ("de", "deu_Latn"))
    }
    texts["nob_Latn"] = [json.loads(line)["prompt"] for line in (hplt / "test_no.jsonl").read_text().splitlines()]
    return build_tiny_fasttext_lid(tmp_path_factory.mktemp("lid") / "openlid-tiny.bin", texts)


def workdir_for(tmp: Path) -> Path:
    """A working directory where the twins' repository-relative paths (resources/, tests/fixtures/) resolve."""
    for name in ("resources", "tests"):
        (tmp / name).symlink_to(REPO / name)
    return tmp


def tiny_layer(tmp: Path, models: dict[str, Path], keep_smollm2: bool = False, **extra) -> Path:
    """The test-only layer: tiny random models instead of SmolLM2 (also as judge), or beside it (SmolLM2 judging)."""
    layer = {
        "models": {
            **({} if keep_smollm2 else {"smollm2-135m": None}),
            **{
                name: {"path": str(path), "parameters": 2.0e5 * (i + 1)}
                for i, (name, path) in enumerate(models.items())
            },
        },
        "score": {"judge": {"model": "smollm2-135m" if keep_smollm2 else next(iter(models))}},
    }
    for key, value in extra.items():
        layer[key] = {**layer.get(key, {}), **value}
    path = tmp / "tiny-layer.yaml"
    path.write_text(yaml.safe_dump(layer, sort_keys=False), encoding="utf-8")
    return path


def run_twin(tmp: Path, name: str, layer: Path) -> tuple[dict[str, int], Path]:
    files = [preset(name), twin(name), layer]
    plan = job_counts(snakemake(tmp, "-n", configfiles=files).stdout)
    snakemake(tmp, configfiles=files)
    return plan, tmp


@pytest.mark.workflow
def test_chen_twin_runs_end_to_end(tmp_path, tiny_models, tiny_openlid):
    """The twin as shipped (SmolLM2 trained, generating and judging with the Figure 1 prompt and the paper's
    decoding), plus a base model without a chat template as a second family, and an OpenLID-style language ID
    model by path."""
    import polars as pl

    from polyinstruct.models import loader

    workdir = workdir_for(tmp_path)
    layer = tiny_layer(
        tmp_path,
        {"tiny-pythia-base": tiny_models["tiny-pythia-base"]},
        keep_smollm2=True,
        score={"langid": {"model": str(tiny_openlid), "scheme": "flores"}},
    )
    plan, root = run_twin(workdir, "chen2024_alpaca", layer)
    assert plan["train"] == 2 * (1 + 2 + 2)  # two models x (english-only, mono-fr/de, multilingual, downsampled)
    base = loader.load_tokenizer(json.loads((root / "results/models/tiny-pythia-base/model.json").read_text()))
    assert base.chat_template is None  # trained, prompted (Alpaca) and scored without one
    run = "tiny-pythia-base/lora/alpaca/multilingual/0.002"
    metrics = json.loads((root / f"results/train/{run}/metrics.json").read_text())
    assert metrics["template"] == "alpaca" and metrics["checkpoint_selection"] == "best"
    generated = [
        json.loads(line) for line in (root / f"results/generate/{run}/oasst/fr.jsonl").read_text().splitlines()
    ]
    assert [g["id"] for g in generated][:2] == [
        "50168627-eb95-4d5a-a2c8-d6ccbc00642c",
        "26e063e8-26f2-4686-af52-165fc1a3d196",
    ]
    assert not any("\n### " in g["responses"][0] for g in generated)  # cut at the next Alpaca section
    judged = (root / "results/score/judge/chen_single/smollm2-135m/base/none/none/0/oasst/fr.jsonl").read_text()
    assert '"template": "chen_single_1to3.v2"' in judged
    langid_rows = [
        json.loads(line)
        for line in (root / "results/score/langid/smollm2-135m/base/none/none/0/oasst/fr.jsonl")
        .read_text()
        .splitlines()
    ]
    assert {p for r in langid_rows for p in r["predicted"]} <= {"en", "fr", "de", "no"}  # flores labels mapped
    scores = pl.read_csv(root / "results/report/scores.csv")
    smollm2 = scores.filter(pl.col("model") == "smollm2-135m")
    assert smollm2.height == 6 * 3 and smollm2["n"].to_list() == [4] * 18  # 6 runs x 3 languages, 4 prompts each
    assert smollm2["gated_mean"].drop_nulls().len() == 18  # SmolLM2's ratings parse behind "Rating: [["
    significance = pl.read_csv(root / "results/report/significance.csv")
    paired = significance.filter((pl.col("model") == "smollm2-135m") & (pl.col("n_paired") > 0))
    assert paired.height == 3 * 10  # 5 mixtures -> 10 pairs, per language
    markdown = (root / "results/report/scores.md").read_text()
    assert re.search(r"\| smollm2-135m lora mono-fr lr=0\.002 \|.*\) ref \|", markdown)  # the reference in fr
    assert re.search(r"\| smollm2-135m lora multilingual lr=0\.002 \|.*\) [▲▼·] \|", markdown)
    fidelity = (root / "results/report/language_fidelity.md").read_text()
    assert "| smollm2-135m lora multilingual lr=0.002 |" in fidelity and "exact McNemar" in fidelity
    report = root / "results/report"
    for figure in (
        "language_fidelity.png",
        "scores_by_language.png",
        "gating_drop.png",
        "score_vs_size/smollm2_lora.png",  # Figs 2-4: one per family and method
        "score_vs_size/tiny-pythia-base_lora.png",
        "gating_drop_vs_size.png",  # Fig 6
        "families.png",  # Fig 7
    ):
        assert (report / figure).stat().st_size > 10_000, figure


@pytest.mark.workflow
def test_weber_twin_runs_end_to_end(tmp_path, tiny_models):
    workdir = workdir_for(tmp_path)
    models = {"tiny-llama": tiny_models["tiny-llama"]}
    plan, root = run_twin(workdir, "weber2024_mtbenchx", tiny_layer(tmp_path, models))
    assert plan["train"] == 4 and plan["judge_pairwise"] == 2 * 3  # mono-en, mono-de, multilingual, sampled
    epochs = sorted(
        p.name
        for p in (root / "results/train/tiny-llama/full/bactrian-x/sampled/0.0001/epochs").iterdir()
        if not p.name.startswith(".")
    )
    assert len(epochs) == 2  # every epoch kept (their epoch choice by validation loss)
    eval_items = [
        json.loads(line) for line in (root / "results/data/eval/mt-bench-x/en.jsonl").read_text().splitlines()
    ]
    assert [item["id"] for item in eval_items] == ["81_EN", "111_EN", "121_EN"] and len(eval_items[0]["turns"]) == 2
    pairwise = (root / "results/report/pairwise.md").read_text()
    assert "vs tiny-llama/full/bactrian-x/mono-de/0.0001" in pairwise
    assert (root / "results/report/category_radar.png").stat().st_size > 10_000


@pytest.mark.workflow
def test_chirkova_twin_runs_end_to_end(tmp_path, tiny_models):
    workdir = workdir_for(tmp_path)
    models = {"tiny-llama": tiny_models["tiny-llama"]}
    plan, root = run_twin(workdir, "chirkova2024_zeroshot", tiny_layer(tmp_path, models))
    assert plan["train"] == 2 * 2 * 2 and plan["select_lr"] == 2 * 2
    selection = json.loads((root / "results/train/tiny-llama/lora/dolly/mono-en/selected/selection.json").read_text())
    assert selection["criterion"] == "langid" and selection["selected_lr"] in ("0.001", "0.002")
    modifiers = [json.loads(line) for line in (root / "results/data/eval/modifiers/fr.jsonl").read_text().splitlines()]
    assert [m["modifier"]["name"] for m in modifiers] == ["brief", "list_items", "answer_in_language", "capitalise"]
    surface = (root / "results/report/surface.md").read_text()
    assert "modifier_list_items" in surface and "spelling" in surface
    assert (root / "results/report/criteria_heatmap.png").stat().st_size > 10_000


@pytest.mark.workflow
def test_bayling_twin_runs_end_to_end(tmp_path, tiny_models, tiny_comet):
    from polyinstruct.lm_eval import lm_tasks

    workdir = workdir_for(tmp_path)
    lm_tasks.write_stubs(
        REPO / "resources/lm_eval/polybelebele/_default_template_yaml",
        tmp_path / "tasks",
        "polybelebele",
        str(REPO / "tests/fixtures/lm_eval/{flores}.jsonl"),
        ["fr"],
    )
    models = {"tiny-llama": tiny_models["tiny-llama"]}
    layer = tiny_layer(
        tmp_path,
        models,
        mt_eval={"comet": {"enabled": True, "model": str(tiny_comet), "batch_size": 4, "gpus": 0}},
        lm_eval={
            "tasks": ["polybelebele_{flores}"],
            "languages": ["fr"],
            "include_path": str(tmp_path / "tasks"),
            "limit": 3,
            "batch_size": 4,
        },
    )
    plan, root = run_twin(workdir, "bayling2", layer)
    assert plan["train"] == 2 and plan["mt_translate"] == 3 * 4  # base + 2 mixtures, en<->fr, en<->zh
    manifest = json.loads((root / "results/crosslingual/manifest.json").read_text())
    assert set(manifest["tasks"]) == {"sentence", "document", "constrained", "interactive"}
    mt = (root / "results/report/mt_lm_eval/mt.csv").read_text().splitlines()
    assert len(mt) == 1 + 3 * 4
    figures = {p.name for p in (root / "results/report/mt_lm_eval/figures").iterdir()}
    assert "flores_bleu_by_direction.png" in figures
