"""BayLing 2 end to end: cross-lingual instructions from line-aligned files, a LoRA run tuned on them, and
FLORES BLEU/chrF/spBLEU/COMET (no `limit`: every test line), Table 1 and a local lm-eval task for the base and
tuned runs, offline. The preset and its twin, whose test sets set no `limit`, run in tests/test_presets.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, job_counts, snakemake, tiny_experiment
from test_bayling import flores200_spm

pytestmark = pytest.mark.workflow
FLORES = REPO / "tests/fixtures/flores101/flores101_dataset"
BIN = Path(sys.executable).parent


def bayling_experiment(root: Path, model_dir: Path, comet: Path) -> dict:
    config = tiny_experiment(root, model_dir)
    from polyinstruct.lm_eval import lm_tasks

    lm_tasks.write_stubs(
        REPO / "resources/lm_eval/polybelebele/_default_template_yaml",
        root / "tasks",
        "polybelebele",
        str(REPO / "tests/fixtures/lm_eval/{flores}.jsonl"),
        ["fr"],
    )
    flores200_spm(root / "sacrebleu")
    config["eval_languages"] = ["fr"]
    config["mixtures"] = {"kinds": ["crosslingual"], "validation_fraction": 0.25}
    config["crosslingual"] = {
        "parallel": {"path": str(FLORES / "dev/{flores101}.dev"), "format": "lines", "lines": [8, None]},
        "pivots": ["en"],
        "languages": ["fr", "zh"],
        "max_per_task": 4,
        "ablation": True,
        "mixture": {"budget": 24, "shares": {"en": 0.4, "fr": 0.3, "crosslingual": 0.3}},
    }
    config["mt_eval"] = {
        "testsets": {
            "flores": {  # no limit: the fixture's 10 devtest lines
                "test": str(FLORES / "devtest/{flores101}.devtest"),
                "dev": str(FLORES / "dev/{flores101}.dev"),
                "dev_lines": [0, 8],
                "pivots": ["en"],
                "languages": ["zh"],
                "shots": 1,
            }
        },
        "max_new_tokens": 8,
        "sacrebleu_dir": str(root / "sacrebleu"),
        "comet": {"enabled": True, "model": str(comet), "batch_size": 4, "gpus": 0},
    }
    config["lm_eval"] = {
        "tasks": ["polybelebele_{flores}"],
        "languages": ["fr"],
        "include_path": str(root / "tasks"),
        "batch_size": 4,
        "limit": 3,
    }
    config["score"]["judge"]["protocols"] = []
    (root / "tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def bayling_run(tmp_path_factory, tiny_llama, tiny_comet):
    root = tmp_path_factory.mktemp("bayling")
    bayling_experiment(root, tiny_llama, tiny_comet)
    run = snakemake(root)  # its 'Job stats' table, printed before the first job, is the plan
    return root, job_counts(run.stderr)


def test_plan_has_the_benchmark_jobs_for_base_and_tuned_runs(bayling_run):
    _, plan = bayling_run
    runs, directions = 3, 2  # base, crosslingual, no-crosslingual; en->zh, zh->en
    assert plan["build_crosslingual"] == 1 and plan["build_mixture"] == 2 and plan["train"] == 2
    assert plan["mt_prepare"] == directions
    assert plan["mt_translate"] == plan["mt_score"] == plan["mt_comet"] == runs * directions
    assert plan["lm_eval"] == runs and plan["report_mt_lm_eval"] == 1


def test_crosslingual_instructions_and_mixtures(bayling_run):
    root, _ = bayling_run
    manifest = json.loads((root / "results/crosslingual/manifest.json").read_text())
    assert manifest["tasks"] == {"constrained": 16, "document": 16, "interactive": 16, "sentence": 16}
    assert set(manifest["directions"]) == {"en-fr", "fr-en", "en-zh", "zh-en"}
    assert manifest["dropped"]["over_max_per_task"] > 0
    assert manifest["lines"] == [8, None] and manifest["pairs"]["en-fr"] == {"parallel": 24, "used": 16, "records": 32}
    full = json.loads((root / "results/mixtures/tiny/crosslingual/manifest.json").read_text())
    ablation = json.loads((root / "results/mixtures/tiny/no-crosslingual/manifest.json").read_text())
    assert full["requested"] == {"en": 10, "fr": 7, "crosslingual": 7}  # round(share x 24)
    assert full["train"] == {k: n for k, n in sorted(full["realised"].items())}
    assert full["realised_shares"] == {k: round(n / full["realised_budget"], 4) for k, n in full["realised"].items()}
    assert "crosslingual" not in ablation["train"] and ablation["realised"] == full["realised"]
    assert {k: v for k, v in full["train"].items() if k != "crosslingual"} == ablation["train"]
    # the ablation counts the cross-lingual part (it decides the realised counts when a part falls short)
    assert "results/crosslingual/instructions.jsonl" in ablation["inputs"]


def test_mt_scores_equal_the_command_lines_on_the_workflow_files(bayling_run):
    root, _ = bayling_run
    run = "tiny-llama/lora/tiny/crosslingual/0.0003"
    scores = json.loads((root / f"results/mt/scores/{run}/flores/en-zh.json").read_text())
    assert "tok:zh" in scores["metrics"]["bleu"]["signature"] and scores["segments"] == 10  # every line
    hyp = root / f"results/mt/translations/{run}/flores/en-zh.hyp"
    ref = root / "results/mt/data/flores/en-zh.ref"
    for name, result in scores["metrics"].items():
        proc = subprocess.run(
            [str(BIN / "sacrebleu"), str(ref), "-i", str(hyp), *result["cli"], "-f", "json", "-w", "6"],
            capture_output=True,
            text=True,
            env={**os.environ, "SACREBLEU": str(root / "sacrebleu")},
        )
        cli = json.loads(proc.stdout)
        assert (cli["score"], cli["signature"]) == (round(result["score"], 6), result["signature"]), name
    comet = json.loads((root / f"results/mt/comet/{run}/flores/en-zh.json").read_text())
    assert comet["segments"] == 10 and isinstance(comet["system_score"], float)


def test_lm_eval_results_for_base_and_adapter(bayling_run):
    root, _ = bayling_run
    base = json.loads((root / "results/lm_eval/tiny-llama/base/none/none/0/polybelebele_fra_Latn.json").read_text())
    tuned = json.loads(
        (root / "results/lm_eval/tiny-llama/lora/tiny/crosslingual/0.0003/polybelebele_fra_Latn.json").read_text()
    )
    assert "peft" not in base["model_args"] and tuned["model_args"]["peft"].endswith("/weights")
    assert tuned["results"]["polybelebele_fra_Latn"]["sample_len"] == 3


def test_mt_lm_eval_report_tables_and_figures(bayling_run):
    root, _ = bayling_run
    report = root / "results/report/mt_lm_eval"
    mt = (report / "mt.csv").read_text().splitlines()
    assert len(mt) == 1 + 3 * 2 and "comet" in mt[0]
    assert "## flores: bleu" in (report / "mt.md").read_text()
    assert "polybelebele_fra_Latn" in (report / "lm_eval.md").read_text()
    table = (report / "table1.csv").read_text().splitlines()
    assert table[0] == "model,method,dataset,mixture,lr,testset,group,languages,bleu,comet_x100"
    assert len(table) == 1 + 3 * 2  # 3 runs x (X->en, en->X) over X = zh
    assert "| tiny-llama base |" in (report / "table1.md").read_text()
    figures = sorted(p.name for p in (report / "figures").iterdir() if not p.name.startswith("."))
    assert figures == [
        "flores_bleu_X-en_tiny-llama.png",
        "flores_bleu_en-X_tiny-llama.png",
        "flores_comet_X-en_tiny-llama.png",
        "flores_comet_en-X_tiny-llama.png",
        "lm_eval_acc_by_task.png",
        "lm_eval_acc_norm_by_task.png",
    ]
