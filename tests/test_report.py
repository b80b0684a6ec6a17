import pytest

from polyinstruct.io import read_json, write_json
from polyinstruct.report import tables
from polyinstruct.score import scores

GATING = {"mode": "multiply", "by_protocol": {}}


def summary(tmp_path, mixture, method, lang, ratings, correct, failures=0):
    """A summary file made by scores.summarise_run from Chen ratings and language-ID correctness."""
    run = {
        "model": "m",
        "method": method,
        "dataset": "none" if method == "base" else "d",
        "mixture": mixture,
        "lr": "0" if method == "base" else "0.0003",
    }
    ids = [str(i) for i in range(len(ratings) + failures)]
    langid = [
        {"id": i, "lang": lang, "category": "qa", "predicted": [lang if ok else "xx"], "correct": ok}
        for i, ok in zip(ids, correct + [True] * failures)
    ]
    judged = [{"id": i, "lang": lang, "rating": r, "parse_error": None} for i, r in zip(ids, ratings)]
    judged += [{"id": i, "lang": lang, "rating": None, "parse_error": "no_rating"} for i in ids[len(ratings) :]]
    _, s = scores.summarise_run(langid, {"chen_single": judged}, GATING)
    path = tmp_path / f"{method}-{mixture}-{lang}.json"
    write_json(path, {"run": run, "evalset": "ev", "lang": lang, "summary": s})
    calls = tmp_path / f"{method}-{mixture}-{lang}.calls.json"
    write_json(
        calls,
        {
            "protocol": "chen_single",
            "run": "/".join(run.values()),
            "evalset": "ev",
            "lang": lang,
            "calls": 2,
            "cache_hits": 1,
            "failed_calls": 0,
            "prompt_tokens": 100,
            "completion_tokens": 10,
            "cost": 0.5,
        },
    )
    return str(path), str(calls)


def test_tables_and_figures_show_gated_and_ungated_scores(tmp_path):
    made = [
        summary(tmp_path, "none", "base", "fr", [1, 3], [True, False], failures=3),
        summary(tmp_path, "none", "base", "en", [2, 2], [True, True]),
        summary(tmp_path, "multilingual", "lora", "fr", [3, 3], [True, True]),
        summary(tmp_path, "multilingual", "lora", "en", [3, 1], [True, True]),
    ]
    paths, calls = [p for p, _ in made], [c for _, c in made]
    csv, md, png, gating = (tmp_path / n for n in ("t.csv", "t.md", "f.png", "g.png"))
    tables.write_report(paths, calls, str(csv), str(md), str(png), str(gating), "test experiment")
    lines = csv.read_text().splitlines()
    assert lines[0].startswith(
        "model,method,dataset,mixture,lr,evalset,lang,protocol,gating,n,lang_correct_rate,ungated_mean,gated_mean,drop"
    )
    assert len(lines) == 5
    text = md.read_text()
    assert "## chen_single — ev (gating: multiply)" in text
    assert "| run | en | fr | drop | parse failures | gated out | truncated | calls | cache hits |" in text
    # fr base: ratings 1 (right language) and 3 (wrong language -> 0): gated 0.5, ungated 2.0; 3 unparsed
    assert "| m base | 2.00 (2.00) | 0.50 (2.00) | 0.75 | 3 | 0 | 0 | 4 | 2 |" in text
    assert "8 calls, 4 cache hits" in text
    assert png.read_bytes()[:4] == b"\x89PNG" and gating.read_bytes()[:4] == b"\x89PNG"


def test_pairwise_agreement_and_surface_reports(tmp_path):
    from polyinstruct.score import agreement

    rows = [
        {
            "id": q,
            "lang": "en",
            "category": cat,
            "turn": 1,
            "first": "a/lora/d/mix/1",
            "second": "a/base/none/none/0",
            "verdict_ab": ab,
            "verdict_ba": ba,
            **pairwise_combine(ab, ba),
            "parse_error": None,
            "raw": ["", ""],
        }
        for q, cat, ab, ba in (("1", "writing", "A", "B"), ("2", "writing", "A", "A"), ("3", "math", "B", "A"))
    ]
    langid = [{"id": q, "lang": "en", "category": "x", "predicted": ["en"], "correct": True} for q in "123"]
    gated, s = scores.summarise_pair(rows, langid, langid, GATING, "mt_bench_pairwise")
    pair_path = tmp_path / "pair.json"
    write_json(
        pair_path, {"first": rows[0]["first"], "second": rows[0]["second"], "evalset": "ev", "lang": "en", "summary": s}
    )
    tables.write_pairwise(
        [str(pair_path)], str(tmp_path / "p.csv"), str(tmp_path / "p.md"), str(tmp_path / "p.png"), "t"
    )
    text = (tmp_path / "p.md").read_text()
    assert "| writing | 2 | 0.50 | 0.50 | 0.00 | 0.50 | 0.50 (1) |" in text  # one win, one flipped A/A -> tie
    assert "| math | 1 | 0.00 | 0.00 | 1.00 |" in text

    votes = tmp_path / "votes.csv"
    votes.write_text(
        "question_id,model_a,model_b,annotator,winner\n"
        "1,a/lora/d/mix/1,a/base/none/none/0,h1,model_a\n1,a/lora/d/mix/1,a/base/none/none/0,h2,model_a\n"
        "3,a/base/none/none/0,a/lora/d/mix/1,h1,model_a\n3,a/base/none/none/0,a/lora/d/mix/1,h2,tie\n"
    )
    result = agreement.workflow_report(gated, votes, n_resamples=50, seed=1)
    assert result["judge_human"]["with_ties"] == {"agreement": 0.75, "n": 4}
    agree_path = tmp_path / "agree.json"
    write_json(agree_path, {"evalset": "ev", "lang": "en", **result})
    tables.write_agreement(
        [str(agree_path)], str(tmp_path / "a.csv"), str(tmp_path / "a.md"), str(tmp_path / "a.png"), "t", 0.95
    )
    text = (tmp_path / "a.md").read_text()
    assert "| ev | en | judge-human agreement | 0.75 | [" in text and "human Fleiss' kappa" in text
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"

    surface_path = tmp_path / "surface.json"
    write_json(
        surface_path,
        {
            "run": {"model": "a", "method": "base", "dataset": "none", "mixture": "none", "lr": "0"},
            "evalset": "ev",
            "lang": "en",
            "summary": {
                "n": 2,
                "lang_correct_rate": 0.5,
                "spelling": {"mean_spelling": 0.9, "no_words": 0},
                "modifiers": {"brief": {"rate": 1.0, "checked": 1}},
            },
        },
    )
    tables.write_surface([str(surface_path)], [], str(tmp_path / "s.csv"), str(tmp_path / "s.md"), "t")
    assert "| a/base/none/none/0 | ev | en | 0.50 | 0.90 | 0 | 1.00 |" in (tmp_path / "s.md").read_text()
    assert read_json(agree_path)["verdicts"] == "ungated"


def pairwise_combine(ab, ba):
    from polyinstruct.score.judge.pairwise import combine

    return combine(ab, ba)


def _png(path) -> bool:
    return path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 5_000


def test_paper_figures_from_realistic_summaries(tmp_path):
    from report_fixtures import MODELS, write_experiment

    from polyinstruct.report import figures

    paths = write_experiment(tmp_path / "exp")
    sized = {name: size for name, size in MODELS.items() if size is not None}
    size_png, radar_png, heat_png = (tmp_path / n for n in ("size.png", "radar.png", "heat.png"))
    left_out = figures.size_figure(tables.load_table(paths), sized, "chen_single", size_png, "t")
    assert left_out == ["unsized"] and _png(size_png)
    rows = figures.category_rows(paths)
    assert {r["protocol"] for r in rows} == {"mt_bench_single", "criteria"}
    assert {r["category"] for r in rows} == {"writing", "roleplay", "math", "coding", "reasoning"}
    figures.radar_figure(rows, radar_png, "t")
    heat = figures.criteria_rows(paths)
    assert len(heat) == 12 * 2 and set(heat[0]) >= {"helpfulness", "correct_language", "harmlessness"}
    figures.criteria_heatmap(heat, heat_png, "t")
    assert _png(radar_png) and _png(heat_png)


def test_figures_without_data_still_draw(tmp_path):
    from report_fixtures import write_experiment

    from polyinstruct.report import figures

    chen_only = write_experiment(tmp_path / "chen", protocols=("chen_single",), items=4)
    table = tables.load_table(chen_only)
    # no model has a parameter count; no category or criteria scores
    left_out = figures.size_figure(table, {}, "chen_single", tmp_path / "size.png", "t")
    assert sorted(left_out) == ["large", "small", "unsized"]
    assert figures.category_rows(chen_only) == [] and figures.criteria_rows(chen_only) == []
    figures.radar_figure([], tmp_path / "radar.png", "t")
    figures.criteria_heatmap([], tmp_path / "heat.png", "t")
    # a language whose summaries have no categories, and a protocol with fewer than 3 categories
    rows = figures.category_rows(write_experiment(tmp_path / "mtb", protocols=("mt_bench_single",), items=2))
    rows += [{**rows[0], "lang": "de", "category": None, "gated_mean": None}]
    figures.radar_figure(rows, tmp_path / "radar2.png", "t")
    for name in ("size.png", "radar.png", "heat.png", "radar2.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_scores_table_marks_cells_against_the_reference_mixture(tmp_path):
    from report_fixtures import write_experiment

    from polyinstruct.report import significance

    paths = write_experiment(tmp_path / "exp", protocols=("chen_single",), items=40)
    sig = tmp_path / "significance.csv"
    significance.write_significance(
        paths, [p.replace(".json", ".jsonl") for p in paths], str(sig), 1000, 0.95, 0.05, seed=1
    )
    settings = {"reference": "mono-{lang}", "alpha": 0.05, "n_resamples": 1000}
    out = {n: tmp_path / n for n in ("t.csv", "t.md", "f.png", "g.png")}
    tables.write_report(paths, [], *(str(p) for p in out.values()), "t", str(sig), settings)
    text = out["t.md"].read_text()
    assert "Markers: ▲/▼" in text and "1000 resamples, two-sided p < 0.05" in text
    lines = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| ")}
    # columns en, fr: mono-en is the en reference, mono-fr the fr one; base runs are never compared
    assert lines["| large lora mono-en lr=0.0003"].split(" | ")[1].endswith(" ref")
    assert lines["| large lora mono-fr lr=0.0003"].split(" | ")[2].endswith(" ref")
    assert lines["| large lora mono-en lr=0.0003"].split(" | ")[2][-1] in "▲▼·"
    assert lines["| large base"].split(" | ")[1][-1] not in "▲▼·f"
    table = significance.read_table(sig)
    fr = table.filter(
        (table["model"] == "small")
        & (table["lang"] == "fr")
        & (table["mixture_a"] == "mono-en")
        & (table["mixture_b"] == "mono-fr")
    ).row(0, named=True)
    expected = ("▼" if fr["diff"] < 0 else "▲") if fr["significant"] else "·"
    assert lines["| small lora mono-en lr=0.0003"].split(" | ")[2].endswith(expected)
    # a reference that names no run: no markers
    tables.write_report(
        paths, [], *(str(p) for p in out.values()), "t", str(sig), {**settings, "reference": "bilingual-{lang}"}
    )
    assert not any(m in out["t.md"].read_text().split("## chen_single")[1] for m in ("▲", "▼", "·", " ref"))


def test_chen_mixture_roles_per_panel():
    from polyinstruct.report.figures import ENGLISH_ONLY, MONOLINGUAL, mixture_role

    assert mixture_role("mono-fr", "fr", "en") == MONOLINGUAL
    assert mixture_role("mono-en", "fr", "en") == ENGLISH_ONLY
    assert mixture_role("mono-en", "en", "en") == MONOLINGUAL  # on the English panel it is the monolingual run
    assert mixture_role("mono-de", "fr", "en") is None  # another language's monolingual run: not on this panel
    assert mixture_role("downsampled", "bn", "en") == "downsampled"


def test_families_sizes_and_the_fig_7_choice():
    import yaml
    from conftest import REPO

    from polyinstruct.report import figures
    from polyinstruct.workflow import config as configuration

    schema = configuration.load_schema(REPO / "schemas/config.schema.yaml")
    config = configuration.validate(yaml.safe_load((REPO / "configs/chen2024_alpaca.yaml").read_text()), schema)
    assert figures.model_family("pythia-1.4b") == "pythia" and figures.model_family("bloom-7b1") == "bloom"
    assert (
        figures.model_family("open-llama-7b") == "open-llama" and figures.model_family("tiny-pythia") == "tiny-pythia"
    )
    fams = figures.families(config)
    assert list(fams) == ["pythia", "bloom", "llama", "open-llama"] and len(fams["pythia"]) == 8
    assert figures.family_choice(config) == {
        "pythia": "pythia-6.9b",
        "bloom": "bloom-7b1",
        "llama": "llama-7b",
        "open-llama": "open-llama-7b",
    }
    assert len(figures.size_figure_jobs(config, ["chen_single"])) == 8
    assert figures.seen_languages(config) == ["en", "es", "fr", "bg", "ru", "zh"]  # bn and no are unseen
    config["report"]["families"] = {"min_parameters": None, "max_parameters": None}
    assert figures.family_choice(config)["pythia"] == "pythia-12b"


def test_chen_figures_2_to_4_6_and_7_from_realistic_summaries(tmp_path):
    from report_fixtures import write_experiment

    from polyinstruct.report import figures

    paths = write_experiment(tmp_path / "exp", protocols=("chen_single",), items=20)
    table = tables.load_table(paths)
    sized = {"small": 1.35e8, "large": 1.7e9}
    left_out = figures.size_figure(
        table, sized, "chen_single", tmp_path / "fam.png", "t", method="lora", source="en", name="fam"
    )
    assert left_out == ["unsized"] and _png(tmp_path / "fam.png")
    # Fig 6: the drop per role averaged over the seen languages
    rows = [r for r in table.to_dicts() if r["model"] == "small"]
    means = figures.role_means(rows, "drop", ["en", "fr"], "en")
    drop = {(r["mixture"], r["lang"]): r["drop"] for r in rows if r["method"] == "lora"}
    assert means["monolingual"] == pytest.approx((drop[("mono-en", "en")] + drop[("mono-fr", "fr")]) / 2)
    assert means["multilingual"] == pytest.approx((drop[("multilingual", "en")] + drop[("multilingual", "fr")]) / 2)
    # English-only averages mono-en over every language, its own included (there it is also the monolingual run)
    assert means["English-only"] == pytest.approx((drop[("mono-en", "en")] + drop[("mono-en", "fr")]) / 2)
    drawn = figures.drop_figure(
        table, {"fam": sized}, ["lora"], "chen_single", ["en", "fr"], "en", tmp_path / "d.png", "t"
    )
    assert drawn == 3 * 2 and _png(tmp_path / "d.png")  # three roles at two sizes
    # Fig 7: en panel monolingual + multilingual, fr panel + English-only, for two families
    bars = figures.families_figure(
        table, {"a": "small", "b": "large"}, sized, "chen_single", "en", tmp_path / "f7.png", "t"
    )
    assert bars == 2 * 2 + 3 * 2 and _png(tmp_path / "f7.png")
