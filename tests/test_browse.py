"""The answer browser: its data built from result files, and the page driven in headless Chromium.

The result files are a small experiment's (tests/browse_fixtures.py): three runs (base, English-only,
multilingual) answering the two-turn MT-Bench questions in English and German (MT-Bench-X), real
language ID, Chen and MT-Bench single grading and MT-Bench pairwise judging against the base model
through the job code, with a scripted judge.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from browse_fixtures import config, shipped_texts, write_results

from polyinstruct.data import evalsets
from polyinstruct.io import InputError, load_jsonl, write_jsonl
from polyinstruct.report import browse, chromium
from polyinstruct.workflow import paths, targets

FIXTURES = Path(__file__).resolve().parent / "fixtures/evalsets"
BASE, MONO, MULTI = (
    "smollm2-135m/base/none/none/0",
    "smollm2-135m/lora/polyalpaca/mono-en/0.002",
    "smollm2-135m/lora/polyalpaca/multilingual/0.002",
)
QUALITY = {"none": [0.2] * 3, "mono-en": [0.6] * 3, "multilingual": [0.9, 0.8, 0.7]}  # per item


def small_config() -> dict:
    return config(
        languages=["en", "de"],
        evalsets={"mtbx": {"path": str(FIXTURES / "mt_bench_question.jsonl")}},
        mixtures={"kinds": ["english-only", "multilingual"], "validation_fraction": 0.1},
        protocols=["chen_single", "mt_bench_single", "mt_bench_pairwise"],
    )


def rate(protocol: str, answer: str, quality: float) -> str:
    """Chen 1-3 and MT-Bench 1-10 by quality; Chen is generous to one weak answer, MT-Bench fails to rate one."""
    if protocol == "chen_single":
        rating = 3 if quality >= 0.8 or answer == GENEROUS[0] else 2 if quality >= 0.4 else 1
        return f"The response follows the instruction to a degree. Rating: [[{rating}]]"
    if answer == UNRATED[0]:
        return "The answer is thorough and accurate; I would rate it highly."
    return f"Judgement: the answer is {'good' if quality > 0.5 else 'weak'}. Rating: [[{round(quality * 10)}]]"


def compare(prompt: str, answer_a: str, quality_a: float, quality_b: float) -> str:
    """The better answer wins, except: Hawaii posts always get A (position bias), the release-date turn the worse."""
    if "Hawaii" in prompt:
        return "Both are fine; A reads better. [[A]]"
    if "release date" in prompt:
        quality_a, quality_b = quality_b, quality_a
    return "[[A]]" if quality_a > quality_b else "[[B]]" if quality_b > quality_a else "[[C]]"


GENEROUS, UNRATED = [""], [""]  # the base model's first English answer; the multilingual model's last German one


@pytest.fixture
def experiment(tmp_path, monkeypatch):
    """The small experiment's result files under tmp_path (the working directory); returns its layout."""
    cfg = small_config()
    layout = browse.layout(cfg)
    items = {
        ("mtbx", "en"): evalsets.load_mt_bench(FIXTURES / "mt_bench_question.jsonl", "en"),
        ("mtbx", "de"): evalsets.load_mt_bench_x(FIXTURES / "mt_bench_x_de.jsonl", "de"),
    }
    texts = {lang: iter(shipped_texts(lang)) for lang in ("en", "de")}

    def answer(run, lang, index, turn):
        # the base model answers in English; the English-only model answers German turn 2 in English
        wrong = run.mixture == "none" or (run.mixture == "mono-en" and turn == 1)
        text = next(texts["en" if wrong else lang])
        if (run.mixture, lang, index, turn) == ("none", "en", 0, 0):
            GENEROUS[0] = text
        if (run.mixture, lang, index, turn) == ("multilingual", "de", 2, 1):
            UNRATED[0] = text
        return text, QUALITY[run.mixture][index]

    write_results(tmp_path, layout, cfg, items, answer, rate, compare)
    monkeypatch.chdir(tmp_path)
    return layout


def test_the_browser_reads_what_the_targets_list():
    cfg = small_config()
    layout = browse.layout(cfg)
    expected = (
        targets.evaluated(cfg, paths.RESPONSES)
        + targets.evaluated(cfg, paths.LANGID)
        + targets.judged(cfg)
        + targets.pairs(cfg, paths.PAIRWISE)
    )
    assert sorted(browse.input_files(layout)) == sorted(expected) and len(expected) == 2 * 3 * 4 + 2 * 2
    assert layout["runs"] == [BASE, MONO, MULTI] and layout["protocols"] == ["chen_single", "mt_bench_single"]
    assert targets.report(cfg)["report_browse"] == [paths.BROWSE, paths.BROWSE_DATA]
    assert str(Path(paths.BROWSE).parent / browse.DATA) == paths.BROWSE_DATA


def test_run_labels_name_the_dataset_only_where_labels_collide():
    assert browse.run_labels([BASE, MONO, "smollm2-135m/lora/other/mono-en/0.002"]) == [
        "smollm2-135m base",
        "smollm2-135m lora mono-en lr=0.002 (polyalpaca)",
        "smollm2-135m lora mono-en lr=0.002 (other)",
    ]


def test_chunk_joins_answers_language_scores_and_verdicts(experiment):
    chunk = browse.build_chunk(experiment, "mtbx", "de")
    assert [i["id"] for i in chunk["items"]] == ["81_DE", "111_DE", "121_DE"]
    assert [i["category"] for i in chunk["items"]] == ["writing", "math", "coding"]
    assert chunk["items"][1]["turns"][1] == "Wie groß ist die Fläche des Umkreises des Dreiecks?"
    assert chunk["items"][1]["reference"] == ["Die Fläche ist 3", "5pi"]
    base, mono, multi = (chunk["answers"][str(i)] for i in range(3))

    # base answers German prompts in English: both turns flagged; Chen 1 gated to 0 (multiply)
    assert base[0]["langid"]["predicted"] == ["en", "en"] and base[0]["langid"]["names"] == ["English", "English"]
    assert base[0]["langid"]["turn_correct"] == [False, False] and base[0]["wrong_language"]
    chen = base[0]["judge"]["chen_single"]
    assert (chen["score"], chen["gated"]) == (1, 0) and chen["turns"][0]["raw"].endswith("Rating: [[1]]")
    # the English-only model's second turn is English: only turn 2 gated
    assert mono[1]["langid"]["turn_correct"] == [True, False] and mono[1]["wrong_language"]
    mt = mono[1]["judge"]["mt_bench_single"]
    assert [(t["turn"], t["value"], t["gated"]) for t in mt["turns"]] == [(1, 6, 6), (2, 6, 0)]
    assert (mt["score"], mt["gated"], mt["by_turn"]) == (6, 3, {"1": 6, "2": 6})
    # the multilingual model: right language; one MT-Bench answer without a rating
    assert not any(e["wrong_language"] for e in multi)
    unrated = multi[2]["judge"]["mt_bench_single"]
    assert unrated["turns"][1]["parse_error"] == "no_rating" and unrated["turns"][1]["value"] is None
    assert unrated["turns"][1]["raw"].startswith("The answer is thorough") and unrated["score"] == 7
    # pairwise against base, both orders: a win where the judge agrees with itself
    pair = multi[1]["pairwise"][0]
    assert (pair["protocol"], pair["baseline"], pair["turn"]) == ("mt_bench_pairwise", 0, 1)
    assert (pair["verdict_ab"], pair["verdict_ba"], pair["outcome"], pair["consistent"]) == ("A", "B", "win", True)
    assert len(pair["raw"]) == 2 and base[1]["pairwise"] == []
    # the Hawaii post: A in both orders -> inconsistent, a disagreement on both tuned runs, both turns
    assert [p["position_flip"] for p in multi[0]["pairwise"]] == [True, True]
    assert multi[0]["disagree"] == [
        f"mt_bench_pairwise vs smollm2-135m base, turn {t}: the two answer orders disagree "
        "(A with this answer first, A with it second)"
        for t in (1, 2)
    ]
    assert base[0]["disagree"] == [] and multi[1]["disagree"] == []


def test_disagreements_between_protocols_and_with_the_pairwise_judge(experiment):
    chunk = browse.build_chunk(experiment, "mtbx", "en")
    base, mono, multi = (chunk["answers"][str(i)] for i in range(3))
    # Chen gave the base model's Hawaii post 3/3, MT-Bench 2/10 on both turns
    assert base[0]["judge"]["chen_single"]["score"] == 3 and base[0]["judge"]["mt_bench_single"]["score"] == 2
    assert base[0]["disagree"] == ["chen_single 3 vs mt_bench_single 2 (gap 0.80 of the scale, threshold 0.5)"]
    # the release-date turn: the pairwise judge prefers base, MT-Bench rated the tuned answer higher
    assert [p["outcome"] for p in mono[2]["pairwise"]] == ["win", "loss"]
    assert mono[2]["disagree"] == [
        "mt_bench_pairwise says loss against smollm2-135m base on turn 2, but mt_bench_single rated it 6 against 2"
    ]
    assert multi[1]["disagree"] == [] and not any(e["wrong_language"] for e in mono)


def test_bad_rows_are_errors_naming_the_file_and_line(experiment):
    judge = Path(paths.JUDGE.format(**_run_keys(MONO), protocol="chen_single", evalset="mtbx", lang="en"))
    rows = load_jsonl(judge)
    write_jsonl(judge, rows + [{**rows[0], "id": "999"}])
    with pytest.raises(InputError, match=rf"{judge}:4: chen_single row for item '999', which the run never answered"):
        browse.build_chunk(experiment, "mtbx", "en")
    write_jsonl(judge, rows + [rows[1]])
    with pytest.raises(InputError, match=rf"{judge}:4: a second judge row for item '111' turn None \({judge}:2\)"):
        browse.build_chunk(experiment, "mtbx", "en")
    write_jsonl(judge, rows)
    langid = Path(paths.LANGID.format(**_run_keys(MONO), evalset="mtbx", lang="en"))
    write_jsonl(langid, load_jsonl(langid)[1:])
    with pytest.raises(InputError, match=rf"{judge}: item '81' has a judge row but no language-ID row"):
        browse.build_chunk(experiment, "mtbx", "en")


def _run_keys(run_path: str) -> dict:
    return dict(zip(paths.RUN_KEYS, run_path.split("/")))


def test_site_inlines_small_data_and_escapes_script_text(experiment):
    responses = Path(paths.RESPONSES.format(**_run_keys(MULTI), evalset="mtbx", lang="en"))
    records = load_jsonl(responses)
    records[0]["responses"][0] = "</script><script>window.PWNED = 1</script> <!-- " + records[0]["responses"][0]
    write_jsonl(responses, records)
    catalog = browse.write_site(experiment, "site/index.html")
    page = Path("site/index.html").read_text(encoding="utf-8")
    assert catalog["inlined"] and [c["file"] for c in catalog["chunks"].values()] == [
        "data/chunk-0.js",
        "data/chunk-1.js",
    ]
    assert page.count("</script>") == 4 and "<!--@chunks-->" not in page and "/*@script*/" not in page
    assert "\\u003c/script>\\u003cscript>window.PWNED" in page
    chunk_file = Path("site/data/chunk-1.js").read_text(encoding="utf-8")
    assert chunk_file.startswith('browseChunk("1",') and chunk_file.endswith(");\n")
    assert json.loads(chunk_file[len('browseChunk("1",') : -3]) == browse.build_chunk(experiment, "mtbx", "de")
    assert catalog["chunks"]["1"]["categories"] == ["coding", "math", "writing"]
    assert catalog["chunks"]["1"]["answered"] == {0: 3, 1: 3, 2: 3}
    assert [p["name"] for p in catalog["pairwise"]] == ["mt_bench_pairwise"]
    big = browse.write_site(experiment, "big/index.html", inline_limit=0)
    assert page.count('browseChunk("') == 2
    assert not big["inlined"] and 'browseChunk("' not in Path("big/index.html").read_text(encoding="utf-8")


# ---- in a real browser ---------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(chromium.binary() is None, reason=chromium.why_unavailable() or "")


def shown(browser) -> list[dict]:
    """What the page shows: per prompt its id, tags, the score difference and each answer's run and language tags."""
    return browser.evaluate(
        """Array.from(document.querySelectorAll('#items .item')).map(item => ({
            id: item.dataset.id,
            tags: Array.from(item.querySelectorAll('header .tag')).map(t => t.textContent),
            diff: item.querySelector('.diff') ? item.querySelector('.diff').textContent : null,
            answers: Array.from(item.querySelectorAll('.answer')).map(a => ({
                run: a.querySelector('h3').textContent,
                langs: Array.from(a.querySelectorAll('.lang')).map(t => t.textContent),
                judges: Array.from(a.querySelectorAll('.judge .score')).map(t => t.textContent),
                pairs: a.querySelectorAll('.pair').length,
                reasons: Array.from(a.querySelectorAll('.reasons li')).map(t => t.textContent),
            })),
        }))"""
    )


def pick(browser, selector: str, value: str) -> None:
    """Choose an option of a <select> as a user does, then wait for the page to draw."""
    browser.evaluate(
        f"(() => {{ const s = document.querySelector({json.dumps(selector)}); s.value = {json.dumps(value)};"
        " s.dispatchEvent(new Event('change')); })()"
    )
    browser.wait_for(chromium.READY)


def click(browser, selector: str) -> None:
    browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
    browser.wait_for(chromium.READY)


@needs_chromium
def test_page_in_headless_chromium_selects_runs_filters_and_sorts(experiment):
    browse.write_site(experiment, "site/index.html", inline_limit=0)  # data loaded on demand from data/
    with chromium.Chromium() as browser:
        browser.open("site/index.html", ready=chromium.READY)
        assert browser.evaluate("document.title") == "polyinstruct default experiment — answer browser"
        assert browser.evaluate("document.querySelector('#status').textContent") == (
            "Showing 3 of 3 prompts · mtbx · English · 2 runs"
        )
        first = shown(browser)
        assert [i["id"] for i in first] == ["81", "111", "131"]
        assert [a["run"] for a in first[0]["answers"]] == ["smollm2-135m base", "smollm2-135m lora mono-en lr=0.002"]
        assert first[0]["answers"][0]["judges"] == ["3", "2"] and "judges disagree" in first[0]["tags"]
        click(browser, ".item[data-id='81'] .answer[data-run='0'] .judge[data-protocol='chen_single'] summary")
        assert (
            browser.evaluate(
                "document.querySelector(\".item[data-id='81'] .answer[data-run='0'] .judge pre\").textContent"
            )
            == "The response follows the instruction to a degree. Rating: [[3]]"
        )  # the rationale, drawn when opened
        assert browser.evaluate("document.querySelectorAll('script[src]').length") == 1  # only English loaded

        # German, the multilingual run added: chunk-1.js is loaded from disk
        pick(browser, "#lang", "de")
        click(browser, "#runs input[value='2']")
        assert browser.evaluate(
            "Array.from(document.querySelectorAll('script[src]')).map(s => s.getAttribute('src'))"
        ) == [
            "data/chunk-0.js",
            "data/chunk-1.js",
        ]
        german = shown(browser)
        assert [a["run"] for a in german[0]["answers"]] == [
            "smollm2-135m base",
            "smollm2-135m lora mono-en lr=0.002",
            "smollm2-135m lora multilingual lr=0.002",
        ]
        base, mono, multi = german[1]["answers"]
        assert all(t.startswith("wrong language: en (English)") for t in base["langs"])
        assert mono["langs"][0].startswith("de (German)") and mono["langs"][1].startswith("wrong language: en")
        assert all(t.startswith("de (German)") for t in multi["langs"]) and multi["pairs"] == 2

        # only the multilingual run: no prompt has a wrong-language answer
        click(browser, "#runs input[value='0']")
        click(browser, "#runs input[value='1']")
        click(browser, "#wrong")
        assert shown(browser) == [] and browser.evaluate("document.querySelector('#status').textContent") == (
            "Showing 0 of 3 prompts · mtbx · German · 1 run (select two or more runs to compare them)"
        )
        click(browser, "#runs input[value='1']")  # the English-only run answers every turn 2 in English
        assert [i["id"] for i in shown(browser)] == ["81_DE", "111_DE", "121_DE"]
        pick(browser, "#category", "math")
        assert [i["id"] for i in shown(browser)] == ["111_DE"]
        pick(browser, "#category", "")
        click(browser, "#wrong")

        # judges disagree: the Hawaii post, where the pairwise judge always picked slot A
        click(browser, "#disagree")
        disagree = shown(browser)
        assert [i["id"] for i in disagree] == ["81_DE"] and "judges disagree" in disagree[0]["tags"]
        assert disagree[0]["answers"][0]["reasons"][0].startswith("mt_bench_pairwise vs smollm2-135m base, turn 1")
        click(browser, "#disagree")

        # sort by the MT-Bench difference multilingual - English-only, smallest first: gated, the English-only
        # model's turn 2 (English) counts 0, so its item score is 3; the multilingual model scores 9, 8, 7
        pick(browser, "#sort", "diff-asc")
        pick(browser, "#run-a", "2")
        pick(browser, "#run-b", "1")
        pick(browser, "#protocol", "mt_bench_single")
        assert [(i["id"], i["diff"]) for i in shown(browser)] == [
            ("121_DE", "A − B = +4"),  # its unrated turn 2 leaves the multilingual model's 7
            ("111_DE", "A − B = +5"),
            ("81_DE", "A − B = +6"),
        ]
        click(browser, "#gated")  # ungated, the English-only model scores 6
        ungated = [(i["id"], i["diff"]) for i in shown(browser)]
        assert ungated == [("121_DE", "A − B = +1"), ("111_DE", "A − B = +2"), ("81_DE", "A − B = +3")]
        # the view is in the URL: opening it again shows the same
        url = browser.evaluate("location.href")
        assert url.endswith("#e=mtbx&l=de&r=1%2C2&s=diff-asc&a=2&b=1&p=mt_bench_single&g=0")
        browser.open("about:blank")
        browser.open(url, ready=chromium.READY)
        assert [(i["id"], i["diff"]) for i in shown(browser)] == ungated
        assert browser.errors == []


@needs_chromium
def test_page_alone_works_when_inlined_and_says_why_not_otherwise(experiment, tmp_path):
    browse.write_site(experiment, "small/index.html")
    browse.write_site(experiment, "big/index.html", inline_limit=0)
    for name in ("small", "big"):  # the page without its data folder, as the Snakemake report embeds it
        shutil.copy(f"{name}/index.html", f"{name}.html")
    with chromium.Chromium() as browser:
        browser.open("small.html#l=de", ready=chromium.READY)
        assert [i["id"] for i in shown(browser)] == ["81_DE", "111_DE", "121_DE"]
        browser.open("big.html", ready="document.documentElement.dataset.state === 'error'")
        assert browser.evaluate("document.querySelector('#status').textContent").startswith(
            "Could not load data/chunk-0.js. This page reads its data from the data/ folder beside it"
        )


@needs_chromium
def test_screenshot_of_the_page(experiment):
    browse.write_site(experiment, "site/index.html")
    png = chromium.screenshot("site/index.html", "shot.png", fragment="l=de&r=0,1,2", width=1200, height=800)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1200 and int.from_bytes(data[20:24], "big") == 800
