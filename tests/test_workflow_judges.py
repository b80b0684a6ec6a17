"""Every judge protocol through a real OpenAI-compatible server (llama-cpp-python + SmolLM2 on 127.0.0.1),
the dry-run call count, the zero-call re-run, and the report's gated scores, parse failures,
position bias, agreement and surface metrics.

The grid is two base models (the tiny Llama, once with its own chat template and once with another),
so no training is needed: the second is compared pairwise against the first.
"""

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, job_counts, snakemake, tiny_experiment

pytestmark = pytest.mark.workflow

PROTOCOLS = ["chen_single", "mt_bench_single", "mt_bench_pairwise", "criteria"]
FIRST, SECOND = "tiny-b/base/none/none/0", "tiny-a/base/none/none/0"
PLAIN_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
# 3 annotators on each (question, turn) of the pair; names are run paths, either order
VOTES = """question_id,turn,model_a,model_b,annotator,winner
81,1,{a},{b},h1,model_a
81,1,{b},{a},h2,model_b
81,1,{a},{b},h3,tie
81,2,{a},{b},h1,model_b
81,2,{a},{b},h2,model_b
81,2,{a},{b},h3,model_a
111,1,{a},{b},h1,tie (bothbad)
111,1,{a},{b},h2,tie
111,1,{a},{b},h3,model_a
111,2,{b},{a},h1,model_a
111,2,{a},{b},h2,model_b
111,2,{a},{b},h3,model_b
131,1,{a},{b},h1,model_a
131,1,{a},{b},h2,model_a
131,1,{a},{b},h3,model_a
"""


def server_experiment(root: Path, model_dir: Path, server: dict) -> dict:
    config = tiny_experiment(root, model_dir)
    (root / "plain.jinja").write_text(PLAIN_TEMPLATE)
    hunspell = root / "hunspell"
    hunspell.mkdir()
    (hunspell / "en_US.aff").write_text("SET UTF-8\n")
    (hunspell / "en_US.dic").write_text("6\nthe\na\nis\nof\nand\nto\n")
    (root / "votes.csv").write_text(VOTES.format(a=FIRST, b=SECOND))
    config.update(
        {
            "eval_languages": ["en"],
            "evalsets": {
                "mtb": {"path": str(REPO / "tests/fixtures/evalsets/mt_bench_question.jsonl"), "format": "mt-bench"}
            },
            "models": {
                "tiny-a": {"path": str(model_dir)},
                "tiny-b": {"path": str(model_dir), "chat_template": str(root / "plain.jinja")},
            },
            "train": {"methods": []},
            "surface": {
                "spelling": {"enabled": True, "dictionary_dirs": [str(hunspell)]},
                "relevance": {"enabled": True},
            },
            # gated verdicts: the 135M judge rarely writes [[A]]/[[B]], language gating decides the rest
            "agreement": {
                "human_votes": {"mtb": {"en": str(root / "votes.csv")}},
                "n_resamples": 200,
                "use_gated": True,
            },
        }
    )
    config["generate"]["temperature"] = {"default": 0.0, "by_category": {"writing": 0.7}}
    config["score"]["judge"].update(
        {
            "protocols": PROTOCOLS,
            "backend": "openai",
            "prices": {"prompt_per_million": 0.5, "completion_per_million": 1.5},
            "openai": {
                "base_url": server["base_url"],
                "model": server["model"],
                "api_key_env": "POLYINSTRUCT_TEST_KEY",
                "concurrency": 2,
                "max_retries": 2,
                "backoff_seconds": 0.1,
                "timeout_seconds": 120,
                "max_tokens": 24,
            },
            "mt_bench_pairwise": {"baseline": SECOND},
        }
    )
    (root / "tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config


def ledger_lines(root: Path) -> list[dict]:
    path = root / "results/score/judge_cache/ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def plan(root: Path) -> dict:
    snakemake(root, "judge_plan", "--forcerun", "judge_plan")
    return json.loads((root / "results/score/judge_plan.json").read_text())


@pytest.fixture(scope="session")
def served_run(tmp_path_factory, tiny_llama, llama_server):
    """The server experiment: the dry-run count first, then the whole workflow."""
    import os

    os.environ["POLYINSTRUCT_TEST_KEY"] = "sk-local-test"  # llama-cpp accepts any key; ours must be set
    root = tmp_path_factory.mktemp("served-run")
    server_experiment(root, tiny_llama, llama_server)
    before = plan(root)
    requests_before = llama_server["requests"]()
    snakemake(root)
    return {"root": root, "plan": before, "requests": llama_server["requests"]() - requests_before}


def test_plan_covers_every_protocol(tmp_path, tiny_llama, llama_server):
    server_experiment(tmp_path, tiny_llama, llama_server)
    counts = job_counts(snakemake(tmp_path, "-n").stdout)
    # 2 runs x 1 language x 1 eval set; one pair (tiny-b vs tiny-a); relevance is a judge protocol too
    assert counts["judge"] == 2 * 4 and counts["judge_pairwise"] == 1 and counts["summarise_pairwise"] == 1
    assert counts["surface_metrics"] == 2 and counts["agreement"] == 1
    assert {"report_tables", "report_pairwise", "report_agreement", "report_surface"} <= set(counts)
    assert "train" not in counts and "build_mixture" not in counts


def test_dry_run_counts_the_calls_the_run_makes(served_run):
    plan_before, root = served_run["plan"], served_run["root"]
    by_protocol = plan_before["by_protocol"]
    # prompts: Chen judges first turns (2 runs x 3), per-turn protocols 2 x 3 x 2, pairwise 3 x 2 turns x 2 orders
    assert {p: e["prompts"] for p, e in by_protocol.items()} == {
        "chen_single": 6,
        "mt_bench_single": 12,
        "criteria": 12,
        "relevance": 12,
        "mt_bench_pairwise": 12,
    }
    ledger = ledger_lines(root)
    assert plan_before["total_calls"] == len(ledger) == served_run["requests"] > 0
    assert {e["protocol"] for e in ledger} == {*PROTOCOLS, "relevance"}
    assert all(e["cost"] > 0 and e["prompt_tokens"] > 0 for e in ledger)  # priced from real token counts


def test_report_shows_gated_scores_parse_failures_position_bias_and_agreement(served_run):
    import polars as pl

    root = served_run["root"]
    scores = pl.read_csv(root / "results/report/scores.csv")
    assert set(scores["protocol"]) == {"chen_single", "mt_bench_single", "criteria", "relevance"}
    assert {"ungated_mean", "gated_mean", "drop", "parse_failures", "gated_out"} <= set(scores.columns)
    criteria = scores.filter(pl.col("protocol") == "criteria")
    assert criteria["parse_failures"].sum() > 0  # 24 tokens of a 135M model are no valid JSON object
    raw = [
        json.loads(ln) for ln in (root / f"results/score/judge/criteria/{FIRST}/mtb/en.jsonl").read_text().splitlines()
    ]
    assert all(r["raw"] is not None for r in raw) and any(r["parse_error"] for r in raw)  # stored raw
    assert "## mt_bench_single — mtb (gating: multiply)" in (root / "results/report/scores.md").read_text()

    pairwise = pl.read_csv(root / "results/report/pairwise.csv")
    assert set(pairwise["category"]) == {"writing", "math", "extraction", "all"}
    overall = pairwise.filter((pl.col("category") == "all") & (pl.col("verdicts") == "ungated")).row(0, named=True)
    assert overall["n"] == 6 and overall["first"] == FIRST and overall["second"] == SECOND
    assert "position flips" in (root / "results/report/pairwise.md").read_text()
    assert (root / "results/report/position_bias.png").stat().st_size > 5_000

    agreement = json.loads((root / "results/score/agreement/mtb/en.json").read_text())
    assert agreement["votes"] == 15 and agreement["annotators"] == 3 and agreement["questions"] == 5
    assert agreement["human_fleiss_kappa"]["items"] == 5 and agreement["human_fleiss_kappa"]["raters"] == 3
    assert agreement["human_human"]["with_ties"]["n"] == 15
    assert agreement["verdicts"] == "gated" and agreement["judge_human"]["with_ties"]["n"] > 0
    table = pl.read_csv(root / "results/report/agreement.csv")
    assert "human Fleiss' kappa" in set(table["statistic"])

    surface = pl.read_csv(root / "results/report/surface.csv")
    assert surface.height == 2 and surface["spelling"].is_between(0, 1).all()
    responses = [json.loads(ln) for ln in (root / f"results/generate/{FIRST}/mtb/en.jsonl").read_text().splitlines()]
    assert all(len(r["responses"]) == 2 for r in responses)
    assert {r["id"]: r["temperature"] for r in responses} == {"81": 0.7, "111": 0.0, "131": 0.0}


def test_rerun_makes_zero_judge_calls(served_run, llama_server):
    root = served_run["root"]
    lines, requests = len(ledger_lines(root)), llama_server["requests"]()
    snakemake(root, "--forcerun", "judge", "judge_pairwise")
    assert len(ledger_lines(root)) == lines and llama_server["requests"]() == requests
    calls = [json.loads(p.read_text()) for p in (root / "results/score").rglob("*.calls.json")]
    assert len(calls) == 9 and sum(c["calls"] for c in calls) == 0
    assert sum(c["cache_hits"] for c in calls) == sum(c["prompts"] for c in calls) == 54
    assert plan(root)["total_calls"] == 0
