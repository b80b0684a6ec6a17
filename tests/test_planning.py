"""The planning summary: records per mixture, GPU-hour arithmetic, judge calls and cost, jobs per stage."""

import json

import pytest

from polyinstruct.io import InputError
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import planning

REPO = planning.REPO
SCHEMA = REPO / "schemas/config.schema.yaml"


def small_config(**overrides) -> dict:
    """en/fr/de, 40 of the shipped records, polyeval (12 items per language, one turn), one 1B model."""
    raw = {
        "languages": ["en", "fr", "de"],
        "datasets": {"polyalpaca": {"path": "resources/data/polyalpaca/en.jsonl", "limit": 40}},
        "evalsets": {"polyeval": {"path": "resources/data/polyeval/{lang}.jsonl"}},
        "mixtures": {
            "kinds": ["english-only", "monolingual", "multilingual", "downsampled", "sampled"],
            "validation_fraction": 0.1,
        },
        "models": {"m": {"hub": "org/m", "parameters": 1e9}},
        "train": {"epochs": 2, "max_length": 512},
        "generate": {"max_new_tokens": 512},
    }
    for key, value in overrides.items():
        node = raw
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return configuration.load(raw, SCHEMA, repo=REPO)


FLORES_DEV = "tests/fixtures/flores101/flores101_dataset/dev/{flores101}.dev"  # 24 lines per language


def test_records_per_mixture_kind():
    config = small_config(
        **{
            "crosslingual.parallel.path": FLORES_DEV,
            "crosslingual.languages": ["fr", "de"],
            "crosslingual.mixture": {"budget": 1000, "shares": {"en": 0.5, "fr": 0.2, "crosslingual": 0.3}},
        }
    )
    per_language = round(40 * 0.9)
    expected = {
        "mono-en": per_language,
        "mono-fr": per_language,
        "mono-de": per_language,
        "multilingual": 3 * per_language,
        "downsampled": per_language,
        "sampled": per_language,
    }
    assert {m: planning.mixture_records(config, "polyalpaca", m) for m in expected} == expected
    # crosslingual: the budget is training records, drawn by shares; the ablation drops the cross-lingual part.
    # en and fr hold 36 training records of the 500 and 200 asked: shortfall scale keeps the shares of a budget
    # of 72 (36 / 0.5): en 36, fr 14, crosslingual 22 (of 2 pairs x 2 directions x (24 + 8 + 24 + 24) x 0.9 = 288)
    assert planning.mixture_records(config, "polyalpaca", "crosslingual") == 72
    assert planning.mixture_records(config, "polyalpaca", "no-crosslingual") == 50
    shares = planning.mixture_shares(config, "polyalpaca")
    assert shares["available"] == {"en": 36, "fr": 36, "crosslingual": 288}
    assert shares["realised"] == {"en": 36, "fr": 14, "crosslingual": 22}
    config["crosslingual"]["mixture"]["shortfall"] = "keep_budget"  # every part gives all it has: 360 of 1,000
    assert planning.mixture_records(config, "polyalpaca", "crosslingual") == 36 + 36 + 288


def test_the_plan_shows_requested_and_realised_shares():
    config = small_config(
        **{
            "mixtures.kinds": ["crosslingual"],
            "crosslingual.parallel.path": FLORES_DEV,
            "crosslingual.languages": ["fr"],
            "crosslingual.ablation": True,
            "crosslingual.mixture": {"budget": 100, "shares": {"en": 0.4, "fr": 0.3, "crosslingual": 0.3}},
        }
    )
    summary = planning.summarise(config, {}, planning.rule_stages())
    full = summary["mixtures"]["polyalpaca/crosslingual"]
    assert full["requested"] == {"en": 40, "fr": 30, "crosslingual": 30}
    assert full["realised"] == {"en": 36, "fr": 27, "crosslingual": 27} and full["realised_budget"] == 90
    assert summary["mixtures"]["polyalpaca/no-crosslingual"]["dropped_parts"] == ["crosslingual"]
    assert [r["records"] for r in summary["training"]["runs"]] == [90, 63]
    assert any("part 'en' holds about 36 training records of the 40" in w for w in summary["warnings"])
    text = planning.markdown(summary)
    assert "| polyalpaca/crosslingual | scale | 100 -> 90 | 40 (40.0%) -> 36 (40.0%) |" in text
    assert "30 (30.0%) -> dropped |" in text


def test_dataset_records_from_num_records_and_limit():
    config = small_config(datasets={"hub": {"hub": "org/data", "num_records": 5000, "limit": 3000}})
    assert planning.dataset_records(config, "hub") == 3000
    config = small_config(datasets={"hub": {"hub": "org/data"}})
    with pytest.raises(InputError, match=r"datasets\.hub\.num_records"):
        planning.dataset_records(config, "hub")


def test_gpu_hours_arithmetic_by_hand():
    config = small_config(
        **{
            "mixtures.kinds": ["english-only"],
            "plan.train_mfu": 0.5,
            "plan.example_tokens": 250,
            "plan.response_tokens": 100,
            "plan.prompt_tokens": 0,
            "plan.generate_tokens_per_second": 1000,
            "eval_languages": ["en"],
        }
    )
    est = planning.Estimate(config)
    rows = planning.training(config, est)
    # 36 records x 2 epochs x 250 tokens; LoRA 4N FLOPs per token at 0.5 x 989 TFLOP/s
    tokens = 36 * 2 * 250
    assert rows == [
        {
            "run": "m/lora/polyalpaca/mono-en/0.0003",
            "records": 36,
            "tokens": tokens,
            "gpu_hours": pytest.approx(tokens * 4e9 / (0.5 * 989e12) / 3600),
        }
    ]
    planning.generation(config, est)
    # 2 runs (base, mono-en) x 12 items x 1 turn x 100 tokens at 1000 tokens/s (1B parameters)
    assert est.seconds["generate"] == pytest.approx(2 * 12 * 100 / 1000)
    # a 2B model generates at half the rate
    config["models"]["m"]["parameters"] = 2e9
    est = planning.Estimate(config)
    planning.generation(config, est)
    assert est.seconds["generate"] == pytest.approx(2 * 2 * 12 * 100 / 1000)


def test_training_tokens_stop_at_max_steps_and_max_tokens():
    config = small_config(**{"train.max_steps": 2, "train.global_batch_size": 4, "plan.example_tokens": 100})
    assert planning.train_run_tokens(config, 1000, "lora") == 2 * 4 * 100
    config = small_config(**{"train.max_tokens": 500})
    assert planning.train_run_tokens(config, 1000, "lora") == 500


def test_missing_parameters_is_a_warning_naming_the_key():
    config = small_config(models={"m": {"hub": "org/m"}})
    summary = planning.summarise(config, {}, planning.rule_stages())
    assert any("models.m.parameters" in w for w in summary["warnings"])
    assert "train" in summary["gpu_hours"]["incomplete_stages"] and summary["gpu_hours"]["total"] == 0


def mt_bench_config(**overrides) -> dict:
    """Two runs (base, mono-en), two languages, a hub eval set of 80 two-turn items."""
    return small_config(
        **{
            "mixtures.kinds": ["english-only"],
            "eval_languages": ["en", "fr"],
            "evalsets": {"mtb": {"hub": "org/mt-bench", "num_items": 80, "turns": 2}},
            **overrides,
        }
    )


def test_judge_calls_per_protocol_and_pairwise_doubling():
    config = mt_bench_config(
        **{
            "score.judge.protocols": ["chen_single", "mt_bench_single", "criteria", "mt_bench_pairwise"],
            "surface.relevance.enabled": True,
        }
    )
    calls = planning.judge_calls(config)
    runs, langs = 2, 2
    assert calls["chen_single"] == {"jobs": runs * langs, "calls": runs * langs * 80}
    for protocol in ("mt_bench_single", "criteria", "relevance"):
        assert calls[protocol] == {"jobs": runs * langs, "calls": runs * langs * 80 * 2}
    # the tuned run against its base model (the default baseline), per language: both orders of every turn
    assert calls["mt_bench_pairwise"] == {"jobs": langs, "calls": langs * 80 * 2 * 2}


def test_api_judge_cost_from_prices():
    config = mt_bench_config(
        **{
            "score.judge.protocols": ["mt_bench_single"],
            "score.judge.backend": "openai",
            "score.judge.openai": {"model": "gpt-x", "base_url": "http://127.0.0.1:9/v1", "max_tokens": 1024},
            "score.judge.prices": {"prompt_per_million": 2.0, "completion_per_million": 8.0},
            "plan.judge": {"prompt_tokens": 1000, "completion_tokens": 200},
        }
    )
    judge = planning.judging(config, planning.Estimate(config))
    calls = 2 * 2 * 80 * 2
    assert judge["backend"] == "openai" and judge["model"] == "gpt-x" and judge["calls"] == calls
    assert judge["cost"] == pytest.approx(calls * (1000 * 2.0 + 200 * 8.0) / 1e6)
    assert "gpu_hours" not in judge["by_protocol"]["mt_bench_single"]


def test_local_judge_gpu_hours_and_capped_answer():
    config = mt_bench_config(
        **{
            "score.judge.protocols": ["chen_single"],
            "score.judge.max_new_tokens": 4,
            "plan.judge": {"prompt_tokens": 1000, "completion_tokens": 250},
            "plan.prefill_tokens_per_second": 10000,
            "plan.generate_tokens_per_second": 1000,
        }
    )
    est = planning.Estimate(config)
    row = planning.judging(config, est)["by_protocol"]["chen_single"]
    calls = 2 * 2 * 80
    assert row["completion_tokens"] == calls * 4
    assert row["gpu_hours"] == pytest.approx(calls * (1000 / 10000 + 4 / 1000) / 3600)


def test_hub_eval_set_without_num_items_names_the_key():
    config = small_config(evalsets={"mtb": {"hub": "org/mt-bench"}})
    with pytest.raises(InputError, match=r"config key 'evalsets\.mtb\.num_items'"):
        planning.eval_items(config, "mtb", "en")


def test_planning_keys_leave_rule_params_alone():
    from polyinstruct.workflow import grid

    spec = small_config()["evalsets"]["polyeval"]
    assert spec["turns"] == 1 and "turns" not in grid.without_planning_keys(spec)


def test_rules_map_to_their_stage_file():
    stages = planning.rule_stages()
    assert stages["train"] == "train" and stages["judge"] == "score" and stages["mt_translate"] == "mt"
    assert stages["all"] == planning.SNAKEFILE_STAGE
    assert len(stages) >= 40


def test_default_config_jobs_per_stage_equal_the_dry_run(tmp_path):
    """Jobs counted from the job families, from `snakemake --dag` and from the job stats of `snakemake -n`
    agree (68 on the default config)."""
    from_dag = planning.dry_run_jobs()
    assert planning.dry_run_jobs(source="dry-run") == from_dag == planning.planned_jobs(planning.load_config())
    assert sum(from_dag.values()) == 68
    config = planning.load_config()
    summary = planning.summarise(config, from_dag, planning.rule_stages())
    by_stage = {s: e["jobs"] for s, e in summary["jobs"]["by_stage"].items()}
    assert by_stage == {
        "data": 4,
        "translate": 4,
        "mixtures": 3,
        "models": 1,
        "train": 3,
        "generate": 12,
        "score": 36,
        "report": 4,
        "workflow": 1,
    }
    assert not [w for w in summary["warnings"] if "dry run plans" in w]  # estimated jobs agree with the DAG
    paths = planning.write(summary, tmp_path)
    assert json.loads(paths[0].read_text())["jobs"]["total"] == 68
    assert "| train | 3 |" in paths[1].read_text()
