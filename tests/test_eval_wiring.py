"""The package side of the evaluation wiring: judge runner (cache, ledger, lazy backends, dry-run plan),
per-protocol gating summaries, pairwise pairs and config checks, surface metrics, vLLM engine plumbing."""

import sys
import types
from pathlib import Path

import pytest
from conftest import default_config

from polyinstruct.generate import vllm_engine
from polyinstruct.io import InputError, write_jsonl
from polyinstruct.score import scores, surface
from polyinstruct.score.judge import runner
from polyinstruct.score.judge.ledger import ledger_totals
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import grid, inputs

REPO = Path(__file__).resolve().parents[1]


config = default_config


def as_text(prompt) -> str:
    """A judge prompt as one text: a string, or the contents of its chat messages (FastChat's system + user)."""
    return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)


class CountingBackend:
    """A backend that answers `Rating: [[2]]` (or JSON for criteria prompts) and counts its calls."""

    def __init__(self, model="fake"):
        self.model = model
        self.calls = 0

    def complete(self, prompts):
        self.calls += len(prompts)
        prompts = [as_text(p) for p in prompts]
        answers = [
            '{"helpfulness": 2, "correct_language": 2, "fluency": 1, "factuality": 2, '
            '"logical_coherence": 2, "harmlessness": 2}'
            if "json" in p.lower()
            else "Relevant: [[1]]"
            if "Relevant:" in p
            else "Sure. 1"
            if "Print 0 or 1" in p
            else "Rating: [[2]]"
            for p in prompts
        ]
        return answers, {"usage": [{"prompt_tokens": 10, "completion_tokens": 2}] * len(prompts)}


RECORDS = [
    {
        "id": "1",
        "lang": "fr",
        "category": "writing",
        "turns": ["Écris un poème.", "Plus court."],
        "reference": None,
        "responses": ["Un poème.", "Court."],
    },
    {
        "id": "2",
        "lang": "fr",
        "category": "math",
        "turns": ["2+2 ?", "Et 3+3 ?"],
        "reference": ["4", "6"],
        "responses": ["4", "6"],
    },
]


def settings_for(cfg, protocol, tmp_path):
    settings = inputs.judge_settings(cfg, protocol)
    settings["cache_dir"] = str(tmp_path / "cache")
    settings["template_dir"] = str(REPO / settings["template_dir"])
    return settings


@pytest.mark.parametrize("protocol", ["chen_single", "mt_bench_single", "criteria", "relevance"])
def test_every_one_response_protocol_runs_cached_and_ledgered(protocol, tmp_path, monkeypatch):
    cfg = config(
        **{"score.judge.protocols": ["chen_single", "mt_bench_single", "criteria"], "surface.relevance.enabled": True}
    )
    settings = settings_for(cfg, protocol, tmp_path)
    backend = CountingBackend()
    monkeypatch.setattr(runner, "_local_factory", lambda s, p, name: lambda: backend)
    pointer = {"name": "smollm2-135m", "source": {"gguf": "x"}}
    judge = runner.make_judge(settings, pointer, {"protocol": protocol, "run": "r"})
    rows, stats = runner.judge_single(protocol, RECORDS, judge, settings)
    turns = 1 if protocol == "chen_single" else 2
    assert len(rows) == 2 * turns and backend.calls == 2 * turns
    assert all(r["parse_error"] is None for r in rows)
    calls = runner.calls_summary(judge, stats, rows)
    assert (calls["calls"], calls["cache_hits"], calls["prompt_tokens"], calls["protocol"]) == (
        2 * turns,
        0,
        20 * turns,
        protocol,
    )

    # a second job answers from the cache and never builds the backend
    monkeypatch.setattr(
        runner, "_local_factory", lambda s, p, name: lambda: pytest.fail("backend built on a cached re-run")
    )
    again = runner.make_judge(settings, pointer)
    rows_again, stats_again = runner.judge_single(protocol, RECORDS, again, settings)
    assert rows_again == rows and stats_again["calls"] == 0 and stats_again["cache_hits"] == 2 * turns
    assert ledger_totals(tmp_path / "cache/ledger.jsonl")["calls"] == 2 * turns
    write_jsonl(tmp_path / "r.jsonl", RECORDS)
    planned = runner.plan(
        [{"protocol": protocol, "responses": [str(tmp_path / "r.jsonl")]}], {protocol: settings}, {protocol: pointer}
    )
    assert planned["total_calls"] == 0 and planned["by_protocol"][protocol]["prompts"] == 2 * turns


def test_plan_counts_distinct_uncached_prompts_across_jobs(tmp_path):
    cfg = config(**{"score.judge.protocols": ["mt_bench_pairwise"]})
    settings = settings_for(cfg, "mt_bench_pairwise", tmp_path)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(first, RECORDS)
    write_jsonl(second, [{**r, "responses": [x + "!" for x in r["responses"]]} for r in RECORDS])
    job = {"protocol": "mt_bench_pairwise", "responses": [str(first), str(second)], "names": ["a", "b"]}
    pointers = {"mt_bench_pairwise": {"name": "m", "source": {}}}
    planned = runner.plan([job, job], {"mt_bench_pairwise": settings}, pointers)
    # 2 items x 2 turns x 2 orders, and the repeated job costs nothing more
    assert planned["by_protocol"]["mt_bench_pairwise"] == {"jobs": 2, "prompts": 16, "calls": 8}


def test_judge_identity_changes_with_what_shapes_answers():
    cfg = config()
    local = inputs.judge_settings(cfg, "chen_single")
    a = runner.judge_identity(local, {"source": {"gguf": "x"}})
    assert a.startswith("smollm2-135m@")
    assert (
        runner.judge_identity({**local, "local": {**local["local"], "max_new_tokens": 9}}, {"source": {"gguf": "x"}})
        != a
    )
    remote = config(
        **{"score.judge.backend": "openai", "score.judge.openai": {"base_url": "http://h/v1", "model": "gpt"}}
    )
    s = inputs.judge_settings(remote, "chen_single")
    assert "local" not in s and runner.judge_identity(s).startswith("gpt@")
    moved = {**s, "openai": {**s["openai"], "base_url": "http://other/v1"}}
    assert runner.judge_identity(moved) == runner.judge_identity(s)


def langid(ids, correct):
    return [
        {"id": i, "lang": "fr", "category": "c", "predicted": ["fr" if ok else "en"] * 2, "correct": ok}
        for i, ok in zip(ids, correct)
    ]


@pytest.mark.parametrize("mode, gated_mean, gated_out", [("multiply", 3.0, 0), ("exclude", 6.0, 2), ("none", 6.0, 0)])
def test_gating_modes_in_the_per_turn_protocol(mode, gated_mean, gated_out):
    rows = [{"id": i, "turn": t, "category": "c", "rating": 6, "parse_error": None} for i in ("a", "b") for t in (1, 2)]
    rows.append({"id": "a", "turn": 3, "category": "c", "rating": None, "parse_error": "no_rating"})
    lid = langid(["a", "b"], [True, False])
    lid[0]["predicted"].append("fr")
    _, summary = scores.summarise_run(lid, {"mt_bench_single": rows}, {"mode": mode, "by_protocol": {}})
    s = summary["protocols"]["mt_bench_single"]
    assert (s["ungated_mean"], s["gated_mean"], s["gated_out"], s["parse_failures"]) == (6.0, gated_mean, gated_out, 1)
    assert s["drop"] == 6.0 - gated_mean and s["parse_errors"] == {"no_rating": 1}
    assert s["by_turn"]["ungated"]["1"]["mean"] == 6.0


def test_criteria_are_gated_except_correct_language_and_by_protocol_override():
    good = {
        "helpfulness": 2,
        "correct_language": 2,
        "fluency": 2,
        "factuality": 2,
        "logical_coherence": 2,
        "harmlessness": 2,
    }
    rows = [{"id": i, "turn": 1, "category": "c", "criteria": dict(good), "parse_error": None} for i in ("a", "b")]
    gating = {"mode": "multiply", "by_protocol": {"criteria": "exclude"}}
    _, summary = scores.summarise_run(langid(["a", "b"], [True, False]), {"criteria": rows}, gating)
    s = summary["protocols"]["criteria"]
    assert s["gating"] == "exclude" and s["gated_out"] == 1 and s["headline"] == "helpfulness"
    assert s["gated_criteria"]["helpfulness_n"] == 1 and s["gated_criteria"]["correct_language_n"] == 2


def test_pairwise_pairs_follow_the_baseline_pattern():
    cfg = config(**{"score.judge.protocols": ["mt_bench_pairwise"]})
    pairs = grid.pairwise_pairs(cfg, "mt_bench_pairwise")
    assert len(pairs) == 3 * 3 and all(b.path == "smollm2-135m/base/none/none/0" for _, _, b in pairs)
    weber = config(
        **{
            "mixtures.kinds": ["english-only", "monolingual", "multilingual", "downsampled"],
            "score.judge.protocols": ["mt_bench_pairwise"],
            "score.judge.mt_bench_pairwise.baseline": "{model}/{method}/{dataset}/mono-{lang}/{lr}",
        }
    )
    pairs = grid.pairwise_pairs(weber, "mt_bench_pairwise")
    assert {(r.mixture, lang, b.mixture) for r, lang, b in pairs if r.mixture == "multilingual"} == {
        ("multilingual", "en", "mono-en"),
        ("multilingual", "fr", "mono-fr"),
        ("multilingual", "de", "mono-de"),
    }
    assert not any(r.mixture == b.mixture for r, _, b in pairs)
    from polyinstruct.workflow import paths, targets

    found = targets.pairs(weber, paths.PAIR_SUMMARY, "mt_bench_pairwise", "heldout", "fr")
    assert (
        "results/score/pairwise_summary/mt_bench_pairwise/smollm2-135m/lora/polyalpaca/multilingual/0.002/heldout/fr/vs/"
        "smollm2-135m/lora/polyalpaca/mono-fr/0.002.json" in found
    )


@pytest.mark.parametrize(
    "overrides, key",
    [
        (
            {
                "score.judge.protocols": ["mt_bench_pairwise"],
                "score.judge.mt_bench_pairwise.baseline": "{model}/x/y/z/1",
            },
            "score.judge.mt_bench_pairwise.baseline",
        ),
        (
            {"score.judge.protocols": ["mt_bench_pairwise"], "score.judge.mt_bench_pairwise.baseline": "{nope}"},
            "score.judge.mt_bench_pairwise.baseline",
        ),
        ({"score.judge.backend": "openai"}, "score.judge.openai.base_url"),
        ({"agreement.human_votes": {"heldout": {"fr": "v.csv"}}}, "agreement.human_votes"),
        (
            {"score.judge.protocols": ["mt_bench_pairwise"], "agreement.human_votes": {"nope": {"fr": "v.csv"}}},
            "agreement.human_votes.nope",
        ),
        ({"score.gating.by_protocol": {"criteria": "exclude"}}, "score.gating.by_protocol.criteria"),
        ({"score.judge.protocols": ["elo"]}, "score.judge.protocols.0"),
    ],
)
def test_bad_evaluation_config_names_the_key(overrides, key):
    with pytest.raises(configuration.ConfigError, match=f"config key '{key}"):
        config(**overrides)


def test_surface_metrics_spelling_and_modifiers():
    records = [
        {
            "id": "m1",
            "lang": "fr",
            "category": "c",
            "turns": ["Liste"],
            "responses": ["- un\n- deux\n- trois"],
            "modifier": {"name": "list_items", "n": 3},
        },
        {
            "id": "m2",
            "lang": "fr",
            "category": "c",
            "turns": ["Bref"],
            "responses": ["Bonjour le monde " * 30],
            "modifier": {"name": "brief"},
        },
        {
            "id": "m3",
            "lang": "fr",
            "category": "c",
            "turns": ["Style"],
            "responses": ["Texte"],
            "modifier": {"name": "scientific_style"},
        },
    ]
    settings = {
        "spelling": {"enabled": True, "dictionary_dirs": [str(REPO / "tests/fixtures/hunspell")], "dictionaries": {}},
        "modifiers": {
            "brief_max_words": 60,
            "detailed_min_words": 150,
            "capitalise_min_upper_share": 0.95,
            "capitalise_words_min_share": 0.95,
        },
    }
    rows, summary = surface.measure(records, langid(["m1", "m2", "m3"], [True, True, True]), "fr", settings)
    assert summary["modifiers"]["list_items"]["rate"] == 1.0 and summary["modifiers"]["brief"]["rate"] == 0.0
    assert summary["modifiers"]["scientific_style"]["not_rule_checkable"] == 1
    assert summary["spelling"]["n"] == 3 and summary["lang_correct_rate"] == 1.0
    assert {r["metric"] for r in rows} == {"spelling", "modifier"}


def test_vllm_engine_plumbing_without_vllm(monkeypatch, tmp_path):
    pointer = {"name": "m", "load": {"pretrained_model_name_or_path": "/models/base", "revision": "abc"}}
    assert vllm_engine.model_source(pointer, "base", None) == {
        "model": "/models/base",
        "revision": "abc",
        "tokenizer": "/models/base",
        "adapter": None,
    }
    run = "results/train/m/lora/d/mix/0.002/weights"
    assert vllm_engine.model_source(pointer, "lora", run)["adapter"] == run
    assert (
        vllm_engine.model_source(pointer, "lora", run, "merged")["model"] == "results/train/m/lora/d/mix/0.002/merged"
    )
    assert vllm_engine.model_source(pointer, "full", "w/model")["model"] == "w/model"
    settings = config()["generate"]
    args = vllm_engine.engine_args(vllm_engine.model_source(pointer, "lora", run), settings["vllm"], 42)
    assert args["enable_lora"] is True and args["max_lora_rank"] == 64 and args["seed"] == 42
    assert vllm_engine.sampling_args(0.0, 5, 32, 1.1) == {
        "temperature": 0.0,
        "max_tokens": 32,
        "repetition_penalty": 1.1,
    }
    assert vllm_engine.sampling_args(0.7, 5, 32, 1.0)["seed"] == 5

    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(InputError, match="generate.backend"):
        vllm_engine.VLLMEngine(vllm_engine.model_source(pointer, "base", None), {**settings, "vllm": settings["vllm"]})

    # the call itself, against a stand-in with vLLM's documented surface (LLM, SamplingParams, LoRARequest)
    made = {}

    class LLM:
        def __init__(self, **kwargs):
            made["engine"] = kwargs

        def generate(self, prompts, params, lora_request=None, use_tqdm=True):
            made["params"], made["lora"] = params, lora_request
            out = types.SimpleNamespace(text=" hi ", token_ids=[1, 2])
            return [types.SimpleNamespace(outputs=[out]) for _ in prompts]

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, lambda **kw: kw
    lora = types.ModuleType("vllm.lora.request")
    lora.LoRARequest = lambda name, i, path: (name, i, path)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setitem(sys.modules, "vllm.lora", types.ModuleType("vllm.lora"))
    monkeypatch.setitem(sys.modules, "vllm.lora.request", lora)
    engine = vllm_engine.VLLMEngine(vllm_engine.model_source(pointer, "lora", run), settings, seed=3)
    texts, stats = engine.complete(["a", "b"], temperature=0.7, seed=9)
    assert texts == ["hi", "hi"] and stats["new_tokens"] == 4
    assert made["lora"] == ("run-adapter", 1, run) and made["params"]["seed"] == 9
    assert made["engine"]["enable_lora"] is True


def test_vllm_merged_lora_reads_the_merged_weights():
    cfg = config(**{"generate.backend": "vllm", "generate.vllm": {"lora": "merged"}})
    w = {
        "model": "smollm2-135m",
        "method": "lora",
        "dataset": "polyalpaca",
        "mixture": "multilingual",
        "lr": "0.002",
        "evalset": "heldout",
        "lang": "fr",
    }
    found = inputs.generate(cfg, types.SimpleNamespace(**w))
    assert found["weights"] == "results/train/smollm2-135m/lora/polyalpaca/multilingual/0.002/merged"
    assert inputs.engine_env("vllm") == "../envs/vllm.yaml"
