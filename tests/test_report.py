from polyinstruct import report
from polyinstruct.io import write_json


def summary(tmp_path, mixture, method, lang, chen, lid, failures=0):
    path = tmp_path / f"{method}-{mixture}-{lang}.json"
    run = {"model": "m", "method": method, "dataset": "none" if method == "base" else "d", "mixture": mixture,
           "lr": "0" if method == "base" else "0.0003"}
    write_json(path, {"run": run, "evalset": "ev", "lang": lang, "summary": {
        "n": 10, "lang_correct_rate": lid, "judge_mean": chen + 0.5, "chen_score_mean": chen,
        "chen_score_sum": int(chen * 10), "judge_parse_failures": failures, "gating_drop": 0.5}})
    return str(path)


def test_tables_and_figure(tmp_path):
    paths = [summary(tmp_path, "none", "base", "fr", 0.4, 0.2, failures=3),
             summary(tmp_path, "none", "base", "en", 1.5, 1.0),
             summary(tmp_path, "multilingual", "lora", "fr", 1.2, 0.9),
             summary(tmp_path, "multilingual", "lora", "en", 1.7, 1.0)]
    csv, md, png = tmp_path / "t.csv", tmp_path / "t.md", tmp_path / "f.png"
    report.write_report(paths, str(csv), str(md), str(png), "test experiment")
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("model,method,dataset,mixture,lr,evalset,lang,n,lang_correct_rate")
    assert len(lines) == 5
    text = md.read_text()
    assert "| run | en | fr | parse failures |" in text
    assert "| m base | 1.50 (1.00) | 0.40 (0.20) | 3 |" in text
    assert "| m lora multilingual lr=0.0003 | 1.70 (1.00) | 1.20 (0.90) | 0 |" in text
    assert png.read_bytes()[:4] == b"\x89PNG"
