"""Human pairwise votes, judge-human and human-human agreement, Cohen's and Fleiss' kappa, bootstrap CIs."""

from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from polyinstruct.io import InputError
from polyinstruct.score import agreement

VOTES = Path(__file__).resolve().parent / "fixtures/evalsets/human_votes.csv"
HEADER = "question_id,turn,model_a,model_b,annotator,winner\n"


def judge_rows():
    """The judge's verdicts on the fixture's three questions; 111_DE is stated from multi's side."""
    return [
        {"id": "81_DE", "turn": 1, "first": "mono", "second": "multi", "outcome": "win"},
        {"id": "111_DE", "turn": 1, "first": "multi", "second": "mono", "outcome": "win"},
        {"id": "121_DE", "turn": 2, "first": "mono", "second": "multi", "outcome": "tie"},
        {"id": "90_DE", "turn": 1, "first": "mono", "second": "multi", "outcome": None},
    ]


def test_votes_are_normalised_to_the_alphabetically_first_model():
    votes = agreement.read_human_votes(VOTES)
    assert [(v.key[0], v.annotator, v.label) for v in votes] == [
        ("81_DE", "h1", "win"),
        ("81_DE", "h2", "win"),
        ("81_DE", "h3", "tie"),
        ("111_DE", "h1", "loss"),
        ("111_DE", "h2", "loss"),
        ("111_DE", "h3", "loss"),
        ("121_DE", "h1", "tie"),
        ("121_DE", "h2", "tie"),
        ("121_DE", "h3", "win"),
    ]
    assert votes[0].key == ("81_DE", 1, "mono", "multi") and votes[6].key[1] == 2
    assert agreement.read_human_votes(VOTES, merge_both_bad=False)[6].label == "both_bad"


@pytest.mark.parametrize(
    "body, message",
    [
        ("question_id,model_a,model_b,winner\n1,x,y,tie\n", r"votes.csv:1: missing column\(s\) annotator"),
        (HEADER + "1,1,x,y,h1,tie\n1,1,x,y,h2,model_c\n", r"votes.csv:3: winner 'model_c' is not one of"),
        (HEADER + "1,1,x,,h1,tie\n", r"votes.csv:2: empty 'model_b'"),
        (HEADER + "1,0,x,y,h1,tie\n", r"votes.csv:2: turn '0' must be a positive integer"),
        (HEADER + "1,1,x,x,h1,tie\n", r"votes.csv:2: model_a and model_b are both 'x'"),
        (
            HEADER + "1,1,x,y,h1,tie\n1,1,y,x,h1,model_a\n",
            r"votes.csv:3: annotator 'h1' already voted on this pair at .*votes.csv:2",
        ),
        (HEADER + "1,1,x,y,h1\n", r"votes.csv:2: expected 6 fields like the header"),
    ],
)
def test_bad_vote_files_name_the_line(tmp_path, body, message):
    path = tmp_path / "votes.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=message):
        agreement.read_human_votes(path)


def test_agreement_rates_by_hand():
    votes = agreement.read_human_votes(VOTES)
    judge, undecided = agreement.judge_votes(judge_rows())
    assert undecided == 1 and judge[("111_DE", 1, "mono", "multi")] == "loss"
    jh = agreement.agreement(agreement.judge_human_pairs(judge, votes))
    assert jh == {"with_ties": {"agreement": 7 / 9, "n": 9}, "without_ties": {"agreement": 1.0, "n": 5}}
    hh = agreement.agreement(agreement.human_human_pairs(votes))
    assert hh == {"with_ties": {"agreement": 5 / 9, "n": 9}, "without_ties": {"agreement": 1.0, "n": 4}}


def test_cohen_kappa_matches_sklearn():
    a = ["win", "win", "tie", "loss", "loss", "loss", "tie", "tie", "win", "loss", "win", "tie"]
    b = ["win", "tie", "tie", "loss", "win", "loss", "tie", "loss", "win", "loss", "win", "win"]
    assert agreement.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    votes = agreement.read_human_votes(VOTES)
    judge, _ = agreement.judge_votes(judge_rows())
    pairs = agreement.judge_human_pairs(judge, votes)
    got = agreement.cohen_kappa([x for x, _ in pairs], [y for _, y in pairs])
    assert got == pytest.approx(cohen_kappa_score([x for x, _ in pairs], [y for _, y in pairs]))
    assert agreement.cohen_kappa(["tie", "tie"], ["tie", "tie"]) is None
    with pytest.raises(ValueError, match="paired labels"):
        agreement.cohen_kappa(["a"], ["a", "b"])


def test_fleiss_kappa_on_the_classic_example():
    # Fleiss (1971) as worked on Wikipedia: 10 items, 14 raters, 5 categories; P-bar 0.378, Pe 0.213, kappa 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert agreement.fleiss_kappa(table) == pytest.approx(0.20993, abs=1e-4)
    assert agreement.fleiss_kappa([[3, 0], [0, 3]]) == 1.0
    assert agreement.fleiss_kappa([[2, 0], [2, 0]]) is None
    with pytest.raises(ValueError, match="item 1 has 2, item 0 has 3"):
        agreement.fleiss_kappa([[3, 0], [1, 1]])


def test_fleiss_kappa_of_the_human_votes_by_hand():
    # items: 81 [loss 0, tie 1, win 2], 111 [3, 0, 0], 121 [0, 2, 1]; P-bar 5/9, Pe 1/3, kappa 1/3
    votes = agreement.read_human_votes(VOTES)
    table, categories, counts = agreement.fleiss_table(votes)
    assert categories == ["loss", "tie", "win"] and table == [[0, 1, 2], [3, 0, 0], [0, 2, 1]]
    assert counts == {"items": 3, "raters": 3, "excluded_items": 0}
    assert agreement.fleiss_kappa(table) == pytest.approx(1 / 3)
    _, _, counts = agreement.fleiss_table(votes[:-1])  # 121_DE now has 2 votes: left out and counted
    assert counts == {"items": 2, "raters": 3, "excluded_items": 1}


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    values = [0.05, 0.9, 0.7, 0.1, 0.95, 0.6, 0.8, 0.2, 0.75, 0.85, 0.15, 0.65]

    def mean(sample):
        return sum(sample) / len(sample)

    first = agreement.bootstrap_ci(values, mean, n_resamples=500, seed=3)
    assert first == agreement.bootstrap_ci(values, mean, n_resamples=500, seed=3)
    assert first != agreement.bootstrap_ci(values, mean, n_resamples=500, seed=4)
    assert first["estimate"] == pytest.approx(6.7 / 12) and first["low"] < first["estimate"] < first["high"]
    assert first["low"] > 0.3 and first["high"] < 0.8 and first["resamples"] == 500
    narrow = agreement.bootstrap_ci(values, mean, n_resamples=500, seed=3, confidence=0.5)
    assert first["low"] <= narrow["low"] <= narrow["high"] <= first["high"]
    undefined = agreement.bootstrap_ci(["a", "b"], lambda s: None if len(set(s)) == 1 else 1.0, n_resamples=100)
    assert undefined["undefined_resamples"] + undefined["resamples"] == 100 and undefined["undefined_resamples"] > 0


def test_report_puts_it_together():
    votes = agreement.read_human_votes(VOTES)
    report = agreement.report(judge_rows(), votes, n_resamples=200, seed=0)
    assert (report["votes"], report["questions"], report["annotators"], report["judge_undecided"]) == (9, 3, 3, 1)
    assert report["judge_human"]["with_ties"]["agreement"] == pytest.approx(7 / 9)
    assert report["judge_human"]["ci"]["estimate"] == pytest.approx(7 / 9)
    assert report["judge_human"]["ci"]["low"] <= 7 / 9 <= report["judge_human"]["ci"]["high"]
    assert report["human_human"]["with_ties"]["agreement"] == pytest.approx(5 / 9)
    assert report["human_fleiss_kappa"]["kappa"] == pytest.approx(1 / 3)
    assert report["human_votes_without_judge_verdict"] == 0
    assert report == agreement.report(judge_rows(), votes, n_resamples=200, seed=0)
