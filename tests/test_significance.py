import pytest
from report_fixtures import write_experiment

from polyinstruct.io import InputError
from polyinstruct.report import significance


def test_large_paired_difference_is_significant():
    a = [3.0, 2.0, 3.0, 3.0, 2.0, 3.0, 3.0, 2.0, 3.0, 3.0] * 3
    b = [1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0] * 3
    result = significance.paired_bootstrap(a, b, n_resamples=2000, confidence=0.95, seed=1)
    assert result["diff"] == pytest.approx(1.5) and result["n_paired"] == 30
    assert result["p_value"] < 0.01
    assert 0 < result["ci_low"] < result["diff"] < result["ci_high"]


def test_identical_scores_differ_by_nothing():
    scores = [1.0, 2.0, 3.0, 2.0]
    result = significance.paired_bootstrap(scores, scores, n_resamples=500, confidence=0.95, seed=1)
    assert result["diff"] == 0 and result["p_value"] == 1.0
    assert result["ci_low"] == result["ci_high"] == 0


def test_bootstrap_is_deterministic_given_the_seed():
    a, b = [1.0, 3.0, 2.0, 3.0, 1.0, 2.0], [2.0, 2.0, 2.0, 1.0, 1.0, 3.0]
    first = significance.paired_bootstrap(a, b, 300, 0.9, seed=7)
    assert first == significance.paired_bootstrap(a, b, 300, 0.9, seed=7)
    assert first != significance.paired_bootstrap(a, b, 300, 0.9, seed=8)


def test_pairing_keeps_items_scored_in_both_runs_and_counts_the_rest():
    a = {("1", None): 3, ("2", None): 2, ("3", None): None, ("4", None): 1}
    b = {("1", None): 1, ("2", None): 2, ("3", None): 2, ("5", None): 3}
    xs, ys, unpaired = significance.pair_items(a, b)
    assert (xs, ys, unpaired) == ([3.0, 2.0], [1.0, 2.0], 3)  # 3 gated out in a, 4 only in a, 5 only in b
    # turns pair separately; the criteria score is the gated headline criterion
    rows = [
        {"protocol": "mt_bench_single", "id": "q", "turn": 1, "score": 7},
        {"protocol": "mt_bench_single", "id": "q", "turn": 2, "score": None},
        {"protocol": "criteria", "id": "q", "turn": 1, "gated_criteria": {"helpfulness": 2, "fluency": 0}},
        {"protocol": "criteria", "id": "q", "turn": 2, "gated_criteria": None},
    ]
    assert significance.item_scores(rows) == {
        "mt_bench_single": {("q", 1): 7, ("q", 2): None},
        "criteria": {("q", 1): 2, ("q", 2): None},
    }
    assert significance.paired_bootstrap([], [], 10, 0.95, 0)["p_value"] is None


def test_every_mixture_pair_is_compared_per_group(tmp_path):
    paths = write_experiment(tmp_path, items=30)
    rows = [p.replace(".json", ".jsonl") for p in paths]
    csv = tmp_path / "significance.csv"
    significance.write_significance(paths, rows, str(csv), 500, 0.95, 0.05, seed=3)
    table = significance.read_table(csv)
    assert table.columns == significance.COLUMNS
    # 3 models x 2 languages x 3 protocols, 3 pairs of 3 mixtures each; base runs have no pair
    assert table.height == 3 * 2 * 3 * 3 and set(table["method"]) == {"lora"}
    row = table.filter(
        (table["model"] == "large")
        & (table["protocol"] == "mt_bench_single")
        & (table["lang"] == "fr")
        & (table["mixture_a"] == "mono-en")
        & (table["mixture_b"] == "mono-fr")
    ).row(0, named=True)
    assert row["n_paired"] + row["unpaired"] == 60 and row["diff"] == pytest.approx(row["mean_a"] - row["mean_b"])
    assert row["significant"] == (row["p_value"] < 0.05)
    again = tmp_path / "again.csv"
    significance.write_significance(paths, rows, str(again), 500, 0.95, 0.05, seed=3)
    assert again.read_text() == csv.read_text()


def test_reference_placeholder_errors_name_the_config_key():
    assert significance.reference_mixture("mono-{lang}", "fr") == "mono-fr"
    with pytest.raises(InputError, match="report.significance.reference"):
        significance.reference_mixture("mono-{language}", "fr")
    config = {
        "seed": 5,
        "report": {
            "significance": {
                "reference": "multilingual",
                "n_resamples": 10,
                "confidence": 0.9,
                "alpha": 0.1,
                "seed": None,
            }
        },
    }
    assert significance.settings(config)["seed"] == 5
