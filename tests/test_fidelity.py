"""The language-fidelity table and figure that open the report: shares with Wilson intervals, and each mixture
against English-only on the same prompts (exact McNemar)."""

from __future__ import annotations

import math

import pytest

from polyinstruct.io import write_jsonl
from polyinstruct.report import fidelity

Z95 = 1.959963984540054


def wilson_by_hand(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_interval_and_exact_mcnemar():
    for k, n in ((10, 12), (0, 12), (12, 12), (31, 48)):
        assert fidelity.wilson(k, n, 0.95) == pytest.approx(wilson_by_hand(k, n), abs=1e-9)
    assert fidelity.wilson(0, 0, 0.95) == (None, None)
    assert fidelity.mcnemar_exact(7, 1) == pytest.approx(2 * (1 + 8) / 256)  # 2 x P(X <= 1), X ~ Bin(8, 1/2)
    assert fidelity.mcnemar_exact(0, 0) == 1.0 and fidelity.mcnemar_exact(3, 3) == 1.0


def _langid(root, run: str, lang: str, correct: list[bool]) -> str:
    path = root / f"results/score/langid/{run}/ev/{lang}.jsonl"
    write_jsonl(path, [{"id": f"q{i}", "lang": lang, "correct": ok} for i, ok in enumerate(correct)])
    return str(path)


def test_report_shares_intervals_and_paired_comparisons(tmp_path):
    fr_en_only = [True] * 4 + [False] * 8  # English-only answers most French prompts in English
    fr_multi = [True] * 11 + [False]
    paths = [
        _langid(tmp_path, "m/base/none/none/0", "fr", [True] * 9 + [False] * 3),
        _langid(tmp_path, "m/lora/d/mono-en/0.002", "fr", fr_en_only),
        _langid(tmp_path, "m/lora/d/multilingual/0.002", "fr", fr_multi),
        _langid(tmp_path, "m/lora/d/mono-en/0.002", "en", [True] * 12),
        _langid(tmp_path, "m/lora/d/multilingual/0.002", "en", [True] * 11 + [False]),
    ]
    out = {n: tmp_path / n for n in ("f.csv", "f.md", "f.png", "c.csv")}
    fidelity.write_report(paths, *(str(out[n]) for n in ("f.csv", "f.md", "f.png", "c.csv")), "t", 0.95, "mono-en")
    text = out["f.md"].read_text()
    low, high = wilson_by_hand(11, 12)
    assert f"| m lora multilingual lr=0.002 | 92% [{100 * low:.0f}%, {100 * high:.0f}%] (11/12) |" in text
    lines = text.splitlines()
    assert "| run | fr | en |" in lines  # the languages in the order the files came (the config's)
    base = lines.index("| m base | 75% [47%, 91%] (9/12) | – |")  # no English answers of the base model: –
    assert base < lines.index(next(x for x in lines if "mono-en" in x))
    # multilingual vs English-only on the same French prompts: 7 prompts only multilingual got right, 0 the other way
    row = next(x for x in lines if x.startswith("| ev | m lora | fr | multilingual |"))
    assert "| 12 | 92% | 33% | +58 pts | 7 | 0 | 0.0156 |" in row
    assert out["f.png"].read_bytes()[:4] == b"\x89PNG"
    import polars as pl

    table = pl.read_csv(out["f.csv"])
    assert table.height == 5 and table.filter(pl.col("mixture") == "none")["correct"].to_list() == [9]
    compared = pl.read_csv(out["c.csv"])
    assert compared.filter(pl.col("lang") == "fr")["p_value"].to_list() == pytest.approx([2 / 2**7])


def test_paths_name_the_run_evalset_and_language():
    keys = fidelity.parse_langid_path(
        "results/score/langid/smollm2-135m/lora/polyalpaca/mono-fr/0.002/heldout/de.jsonl"
    )
    assert keys == {
        "model": "smollm2-135m",
        "method": "lora",
        "dataset": "polyalpaca",
        "mixture": "mono-fr",
        "lr": "0.002",
        "evalset": "heldout",
        "lang": "de",
    }
