"""MT-Bench-X and FastChat's llm_judge on their released files (tests/fixtures/mt_bench_x, tests/fixtures/fastchat).

The question files load as released; reference answers join by question id; every language's
judge_prompts.jsonl is a template source; the prompts polyinstruct renders are, byte for byte, the
`user_prompt` stored in the released GPT-4 judgments (with FastChat's system prompt as a system message);
FastChat's parser reproduces every stored score, -1 for the "$ERROR$" rows.
"""

import json
import re
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from polyinstruct.data import evalsets
from polyinstruct.io import InputError
from polyinstruct.score.judge import fastchat, pairwise, protocols, single
from polyinstruct.score.judge.backend import CachedJudge
from polyinstruct.score.judge.cache import JudgeCache

REPO = Path(__file__).resolve().parents[1]
MTX = REPO / "tests/fixtures/mt_bench_x"
FASTCHAT = REPO / "tests/fixtures/fastchat"
LANGS = ("EN", "DE", "FR", "IT", "ES")
SINGLE_BLOCK = {
    "templates": fastchat.SINGLE_NAMES,
    "scale": [1, 10],
    "integer_only": True,
    "parser": "fastchat",
    "reference_categories": ["math", "reasoning", "coding"],
}
PAIR_BLOCK = {
    "templates": fastchat.PAIR_NAMES,
    "allow_both_bad": False,
    "inconsistent": "tie",
    "parser": "fastchat",
    "reference_categories": ["math", "reasoning", "coding"],
}
# (questions, reference answers, judge prompts, released GPT-4 single judgments, registry code)
RELEASED = [
    (
        MTX / "mt_bench_EN/question.jsonl",
        MTX / "mt_bench_EN/reference_answer/gpt-4.jsonl",
        MTX / "mt_bench_EN/judge_prompts.jsonl",
        MTX / "mt_bench_EN/model_judgment/gpt-4_single.jsonl",
        "en",
    ),
    (
        MTX / "mt_bench_DE/question.jsonl",
        MTX / "mt_bench_DE/reference_answer/gpt-4.jsonl",
        MTX / "mt_bench_DE/judge_prompts.jsonl",
        MTX / "mt_bench_DE/model_judgment/gpt-4_single.jsonl",
        "de",
    ),
    *[
        (
            FASTCHAT / "mt_bench/question.jsonl",
            FASTCHAT / "mt_bench/reference_answer/gpt-4.jsonl",
            FASTCHAT / "judge_prompts.jsonl",
            path,
            "en",
        )
        for path in sorted((FASTCHAT / "model_judgment").glob("*.jsonl"))
    ],
]


def load_questions(path: Path, lang: str) -> list[dict]:
    fmt = evalsets.load_mt_bench_x if "mt_bench_x" in str(path) else evalsets.load_mt_bench
    return fmt(path, lang)


def judgments(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class RecordingJudge:
    """Records what it is asked; answers with `answer(prompt)`."""

    model = "recording-judge"

    def __init__(self, answer=lambda prompt: "Rating: [[5]]"):
        self.answer = answer
        self.calls: list[tuple[str, object, int]] = []

    def complete(self, prompts, template, repeat=0):
        self.calls += [(template, p, repeat) for p in prompts]
        return [self.answer(p) for p in prompts], {"prompts": len(prompts)}


# ---- the released files load as they are ---------------------------------------------------------


def test_every_released_question_file_loads():
    by_lang = {lang: evalsets.load_mt_bench_x(MTX / f"mt_bench_{lang}/question.jsonl", lang.lower()) for lang in LANGS}
    for lang, items in by_lang.items():
        assert len(items) == 80 and items[0]["id"] == f"81_{lang}" and {i["lang"] for i in items} == {lang.lower()}
        assert {i["category"] for i in items} == {
            "writing",
            "roleplay",
            "reasoning",
            "math",
            "coding",
            "extraction",
            "stem",
            "humanities",
        }
        assert all(len(i["turns"]) == 2 for i in items)
    de = {i["id"]: i for i in by_lang["DE"]}
    assert de["81_DE"]["reference"] is None  # "reference": [] in the file
    assert de["111_DE"]["reference"] == ["Der Flächeninhalt ist 3", "5 * pi"]
    assert de["110_DE"]["reference"] == ["Die Pausenhelfer sollten (c) melden.", None]  # "" for turn 2
    en = {i["id"]: i for i in by_lang["EN"]}
    assert en["81_EN"]["reference"] is None  # no `reference` key at all
    with_reference = {lang: sum(i["reference"] is not None for i in items) for lang, items in by_lang.items()}
    assert with_reference == {"EN": 39, "DE": 39, "FR": 39, "IT": 39, "ES": 39}
    fastchat_items = evalsets.load_mt_bench(FASTCHAT / "mt_bench/question.jsonl", "en")
    assert len(fastchat_items) == 80 and fastchat_items[0]["id"] == "81"
    assert [i["turns"] for i in fastchat_items] == [i["turns"] for i in by_lang["EN"]]


def test_reference_answers_join_by_question_id_with_both_turns():
    for lang, questions in (("DE", MTX / "mt_bench_DE"), ("EN", MTX / "mt_bench_EN")):
        items = evalsets.load_mt_bench_x(questions / "question.jsonl", lang.lower())
        joined, counts = evalsets.join_reference_answers(items, questions / "reference_answer/gpt-4.jsonl")
        assert counts["joined"] == 30 and counts["unused_reference_lines"] == 0
        answers = {
            r["question_id"]: r["choices"][0]["turns"] for r in judgments(questions / "reference_answer/gpt-4.jsonl")
        }
        for item in joined:
            assert item["reference"] == answers.get(item["id"])  # both turns, or none
        assert {i["category"] for i in joined if i["reference"]} == {"math", "reasoning", "coding"}
    items = evalsets.load_mt_bench(FASTCHAT / "mt_bench/question.jsonl", "en")[:25]  # integer ids, 81..105
    joined, counts = evalsets.join_reference_answers(items, FASTCHAT / "mt_bench/reference_answer/gpt-4.jsonl")
    assert counts == {
        "reference_answers": str(FASTCHAT / "mt_bench/reference_answer/gpt-4.jsonl"),
        "joined": 5,  # 101-105
        "unused_reference_lines": 25,
    }
    assert joined[20]["id"] == "101" and joined[20]["reference"][0].startswith("If you have just overtaken")


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"question_id": 101}', "'choices' must be a non-empty list"),
        ('{"question_id": 101, "choices": [{"turns": "x"}]}', "'choices\\[0\\].turns' must be a non-empty list"),
        ('{"question_id": [1], "choices": [{"turns": ["x"]}]}', "'question_id' must be an integer or a string"),
        ('{"question_id": 100, "choices": [{"turns": ["y"]}]}', "duplicate question_id 100 \\(first at .*:1\\)"),
    ],
)
def test_reference_answer_lines_are_checked(tmp_path, line, message):
    path = tmp_path / "gpt-4.jsonl"
    path.write_text('{"question_id": 100, "choices": [{"turns": ["a", "b"]}]}\n' + line + "\n")
    with pytest.raises(InputError, match=rf"gpt-4.jsonl:2: {message}"):
        evalsets.load_reference_answers(path)


def test_every_language_has_the_eight_judge_prompts():
    for lang in LANGS:
        found = fastchat.load_judge_prompts(MTX / f"mt_bench_{lang}/judge_prompts.jsonl")
        assert found.skipped == []
        assert sorted(found.prompts) == sorted([*fastchat.SINGLE_NAMES.values(), *fastchat.PAIR_NAMES.values()])
        for role, name in fastchat.SINGLE_NAMES.items():
            found.get(name).check("single", fastchat.SINGLE_ROLES[role])
        for role, name in fastchat.PAIR_NAMES.items():
            found.get(name).check("pairwise", fastchat.PAIR_ROLES[role])
    english = (MTX / "mt_bench_EN/judge_prompts.jsonl").read_bytes()
    assert english == (FASTCHAT / "judge_prompts.jsonl").read_bytes()
    assert english == (REPO / "resources/prompts/judge/fastchat/judge_prompts.jsonl").read_bytes()


def test_the_broken_first_line_upstream_stops_or_is_skipped_and_counted():
    v2 = MTX / "mt_bench_DE/judge_prompts_v2.jsonl"
    with pytest.raises(InputError, match=r"judge_prompts_v2.jsonl:1: malformed JSON \(Expecting value at column 1\)"):
        fastchat.load_judge_prompts(v2)
    found = fastchat.load_judge_prompts(v2, on_malformed="skip")
    assert found.skipped == [1] and list(found.prompts) == [
        "pair-v2-multi-turn",
        "pair-math-v1",
        "pair-math-v1-multi-turn",
    ]
    assert all("[[D]]" in p.system_prompt for p in found.prompts.values())  # v2 offers "both bad"
    with pytest.raises(InputError, match=r"no judge prompt named 'pair-v2' .*malformed line\(s\) \[1\] were skipped"):
        found.get("pair-v2")


def test_judge_prompt_lines_are_checked(tmp_path):
    path = tmp_path / "judge_prompts.jsonl"
    good = (FASTCHAT / "judge_prompts.jsonl").read_text().splitlines()
    path.write_text(good[0] + "\n" + json.dumps({"name": "x", "type": "single"}) + "\n" + good[0] + "\n")
    with pytest.raises(InputError, match=r"judge_prompts.jsonl:2: missing or non-string field\(s\) \['system_prompt'"):
        fastchat.load_judge_prompts(path)
    with pytest.raises(InputError, match=r"judge_prompts.jsonl:3: duplicate judge prompt 'pair-v2' \(first at .*:1\)"):
        fastchat.load_judge_prompts(path, on_malformed="skip")
    prompt = fastchat.load_judge_prompts(FASTCHAT / "judge_prompts.jsonl").get("pair-v2")
    with pytest.raises(InputError, match=r"judge_prompts.jsonl:1: judge prompt 'pair-v2' is of type 'pairwise'"):
        prompt.check("single", ())


# ---- rendering: the released prompts, byte for byte ----------------------------------------------


def _pattern(template: str, known: dict[str, str]) -> re.Pattern:
    """A regex of a FastChat prompt template: the known fields literally, the answers captured."""
    out = ""
    for literal, name, _, _ in string.Formatter().parse(template):
        out += re.escape(literal)
        if name:
            out += (
                re.escape(known[name])
                if name in known
                else (f"(?P={name})" if f"<{name}>" in out else f"(?P<{name}>.*?)")
            )
    return re.compile(out + r"\Z", re.DOTALL)


def _record(item: dict, row: dict, prompt: fastchat.JudgePrompt) -> dict:
    """The eval item answered with the answers the stored prompt shows (the only part not released)."""
    known = {"question": item["turns"][0], "question_1": item["turns"][0], "question_2": item["turns"][1]}
    if item["reference"]:
        known.update(ref_answer_1=item["reference"][0], ref_answer_2=item["reference"][1])
    match = _pattern(prompt.prompt_template, known).match(row["user_prompt"])
    assert match, f"{row['question_id']}: the stored prompt does not follow {prompt.name} with the released texts"
    answers = match.groupdict()
    first = answers.get("answer", answers.get("answer_1"))
    return {**item, "responses": [first, answers.get("answer_2", "(turn 2 not judged here)")]}


@pytest.mark.parametrize(
    "questions, references, prompts_path, judged, lang", RELEASED, ids=lambda v: getattr(v, "name", v)
)
def test_rendered_prompts_are_the_released_ones_byte_for_byte(questions, references, prompts_path, judged, lang):
    items, _ = evalsets.join_reference_answers(load_questions(questions, lang), references)
    by_id = {i["id"]: i for i in items}
    file = fastchat.load_judge_prompts(prompts_path)
    entry = protocols.get("mt_bench_single")
    templates = entry.templates(REPO / "resources/prompts/judge", {**SINGLE_BLOCK, "judge_prompts": str(prompts_path)})
    rows = judgments(judged)
    for row in rows:
        item = by_id[str(row["question_id"])]
        record = _record(item, row, file.get(row["judge"][1]))
        judge = RecordingJudge()
        graded, _ = protocols.grade(entry, [record], judge, templates, SINGLE_BLOCK)
        version, messages, _ = judge.calls[row["turn"] - 1]
        prompt = file.get(row["judge"][1])
        assert messages == [
            {"role": "system", "content": prompt.system_prompt},
            {"role": "user", "content": row["user_prompt"]},
        ], f"{judged.name}: question {row['question_id']} turn {row['turn']}"
        assert version == prompt.version and version.startswith(row["judge"][1] + "@")
        assert graded[row["turn"] - 1]["reference_used"] == (row["judge"][1].startswith("single-math"))
    assert len(rows) >= 10


def test_user_prompts_equal_str_format_of_the_released_templates():
    """polyinstruct renders with FastChat's own str.format: for every template of every language."""
    fields = {
        name: f"<{name} {{with braces}} \\n>"
        for name in ("question", "answer", "ref_answer_1", "ref_answer_2", "answer_a", "answer_b")
        + tuple(f"{p}_{k}" for p in ("question", "answer", "answer_a", "answer_b") for k in (1, 2))
    }
    for lang in LANGS:
        for prompt in fastchat.load_judge_prompts(MTX / f"mt_bench_{lang}/judge_prompts.jsonl").prompts.values():
            assert prompt.user_prompt(**fields) == prompt.prompt_template.format(**fields)


def test_pairwise_prompts_are_fastchats_in_both_orders():
    """run_judge_pair: question, answer_a/answer_b (turn 1), question_1/2, answer_a_1/.../ref_answer_2 (turn 2)."""
    items, _ = evalsets.join_reference_answers(
        evalsets.load_mt_bench_x(MTX / "mt_bench_DE/question.jsonl", "de"),
        MTX / "mt_bench_DE/reference_answer/gpt-4.jsonl",
    )
    chosen = [i for i in items if i["id"] in ("81_DE", "111_DE")]
    first = [{**i, "responses": [f"X1 {i['id']}", f"X2 {i['id']}"]} for i in chosen]
    second = [{**i, "responses": [f"Y1 {i['id']}", f"Y2 {i['id']}"]} for i in chosen]
    file = fastchat.load_judge_prompts(MTX / "mt_bench_DE/judge_prompts.jsonl")
    entry = protocols.get("mt_bench_pairwise")
    block = {**PAIR_BLOCK, "judge_prompts": str(MTX / "mt_bench_DE/judge_prompts.jsonl")}
    judge = RecordingJudge(lambda p: "[[A]]")
    rows, _ = pairwise.compare(
        first,
        second,
        judge,
        entry.templates(REPO / "resources/prompts/judge", block),
        names=("x", "y"),
        parser="fastchat",
    )
    expected = []
    for item, a, b in zip(chosen, first, second):
        ref = item["reference"]
        for x, y in ((a, b), (b, a)):  # game 1 and game 2 (answers swapped)
            name = "pair-math-v1" if ref else "pair-v2"
            p = file.get(name)
            kwargs = {"ref_answer_1": ref[0]} if ref else {}
            expected.append(
                (
                    p,
                    p.prompt_template.format(
                        question=item["turns"][0], answer_a=x["responses"][0], answer_b=y["responses"][0], **kwargs
                    ),
                )
            )
        for x, y in ((a, b), (b, a)):
            p = file.get("pair-math-v1-multi-turn" if ref else "pair-v2-multi-turn")
            kwargs = {"ref_answer_1": ref[0], "ref_answer_2": ref[1]} if ref else {}
            text = p.prompt_template.format(
                question_1=item["turns"][0],
                question_2=item["turns"][1],
                answer_a_1=x["responses"][0],
                answer_b_1=y["responses"][0],
                answer_a_2=x["responses"][1],
                answer_b_2=y["responses"][1],
                **kwargs,
            )
            expected.append((p, text))
    asked = {(v, json.dumps(m)) for v, m, _ in judge.calls}
    assert asked == {
        (p.version, json.dumps([{"role": "system", "content": p.system_prompt}, {"role": "user", "content": text}]))
        for p, text in expected
    }
    assert [(r["id"], r["turn"], r["verdict_ab"], r["verdict_ba"], r["outcome"], r["position_flip"]) for r in rows] == [
        ("81_DE", 1, "A", "A", "tie", True),
        ("81_DE", 2, "A", "A", "tie", True),
        ("111_DE", 1, "A", "A", "tie", True),
        ("111_DE", 2, "A", "A", "tie", True),
    ]


def test_fastchat_prompts_judge_two_turns_only():
    item = evalsets.load_mt_bench_x(MTX / "mt_bench_EN/question.jsonl", "en")[0]
    record = {**item, "turns": [*item["turns"], "And a third?"], "responses": ["a", "b", "c"]}
    entry = protocols.get("mt_bench_single")
    block = {**SINGLE_BLOCK, "judge_prompts": str(FASTCHAT / "judge_prompts.jsonl")}
    with pytest.raises(InputError, match=r"item '81_EN' has 3 turns, but FastChat judge prompt 'single-v1-multi-turn'"):
        protocols.grade(
            entry, [record], RecordingJudge(), entry.templates(REPO / "resources/prompts/judge", block), block
        )


# ---- parsing: every released score ---------------------------------------------------------------


def test_fastchat_parser_reproduces_every_released_score():
    seen = {"error": 0, "no_rating": 0, "fraction": 0, "single_bracket": 0}
    for *_, judged, _ in RELEASED:
        for row in judgments(judged):
            score = fastchat.rating(row["judgment"])
            assert (score, type(score)) == (row["score"], type(row["score"])), (judged.name, row["question_id"])
            verdict = single.parse_fastchat(row["judgment"])
            if row["score"] == -1:
                assert verdict == single.Verdict(None, "no_rating")  # -1 is a parse failure
                seen["error" if row["judgment"] == "$ERROR$" else "no_rating"] += 1
            else:
                assert verdict == single.Verdict(row["score"], None)
                seen["fraction"] += isinstance(row["score"], float)
                seen["single_bracket"] += "[[" not in row["judgment"]
    assert seen == {"error": 8, "no_rating": 5, "fraction": 6, "single_bracket": 3}


@pytest.mark.parametrize(
    "text, score",
    [
        ("Rating: [[7.5]]", 7.5),
        ("Rating: [[8]] then [[3]]", 8),  # the first one
        ("see [1] and Rating: [[6]]", 6),  # [[x]] wins over an earlier [x]
        ("Rating: [9]", 9),
        ("Rating: 7/10", -1),
        ("$ERROR$", -1),
        ("[[10.]]", 10.0),
    ],
)
def test_fastchat_rating_rule(text, score):
    assert fastchat.rating(text) == score and type(fastchat.rating(text)) is type(score)


@pytest.mark.parametrize(
    "text, both_bad, expected",
    [
        ("[[B]] at first, but finally [[A]]", False, ("A", None)),  # FastChat checks [[A]] first
        ("[[C]]", False, ("tie", None)),
        ("[[D]]", True, ("both_bad", None)),
        ("[[D]]", False, (None, "both_bad_not_allowed")),
        ("[[C]] or [[D]]", True, ("tie", None)),
        ("Assistant A", False, (None, "no_verdict")),
        (None, False, (None, "judge_call_failed")),
    ],
)
def test_fastchat_verdicts(text, both_bad, expected):
    assert pairwise.parse_fastchat(text, both_bad) == expected


def test_grade_counts_ratings_outside_the_scale_and_unparsed_ones():
    items = evalsets.load_mt_bench_x(MTX / "mt_bench_EN/question.jsonl", "en")[:2]
    records = [{**i, "responses": ["a", "b"]} for i in items]
    answers = iter(["Rating: [[11]]", "Rating: [[7.5]]", "no rating", "$ERROR$"])  # turn 1 of both, then turn 2
    entry = protocols.get("mt_bench_single")
    block = {**SINGLE_BLOCK, "judge_prompts": str(FASTCHAT / "judge_prompts.jsonl")}
    rows, stats = protocols.grade(
        entry,
        records,
        RecordingJudge(lambda p: next(answers)),
        entry.templates(REPO / "resources/prompts/judge", block),
        block,
    )
    assert [(r["rating"], r["parse_error"]) for r in rows] == [
        (11, None),
        (None, "no_rating"),
        (7.5, None),
        (None, "no_rating"),
    ]
    assert stats["out_of_scale"] == 1 and stats["parse_failures"] == 2 and "scale" not in rows[0]


# ---- repeated pairwise judgments -----------------------------------------------------------------


class CountingBackend:
    """A backend whose verdict depends on how often it was asked (its answers drift between runs)."""

    model = "drifting-judge"

    def __init__(self):
        self.calls = 0

    def complete(self, prompts):
        self.calls += len(prompts)
        return ["[[A]]" if (self.calls + i) % 3 else "[[B]]" for i in range(len(prompts))], {}


def test_repeats_are_separate_cached_calls_and_rates_are_averaged(tmp_path):
    items = evalsets.load_mt_bench_x(MTX / "mt_bench_EN/question.jsonl", "en")[:3]
    first = [{**i, "responses": ["x1", "x2"]} for i in items]
    second = [{**i, "responses": ["y1", "y2"]} for i in items]
    entry = protocols.get("mt_bench_pairwise")
    block = {**PAIR_BLOCK, "judge_prompts": str(FASTCHAT / "judge_prompts.jsonl")}
    backend = CountingBackend()
    judge = CachedJudge(backend, JudgeCache(tmp_path))
    templates = entry.templates(REPO / "resources/prompts/judge", block)
    rows, stats = pairwise.compare(first, second, judge, templates, names=("x", "y"), parser="fastchat", repeats=3)
    assert backend.calls == 3 * 3 * 2 * 2 and stats["calls"] == 36 and len(rows) == 3 * 2 * 3
    assert [r["repeat"] for r in rows] == [1] * 6 + [2] * 6 + [3] * 6
    again, stats = pairwise.compare(first, second, judge, templates, names=("x", "y"), parser="fastchat", repeats=3)
    assert backend.calls == 36 and stats["cache_hits"] == 36 and again == rows  # every repeat from the cache
    summary = pairwise.summarise(rows)["all"]
    per_repeat = [pairwise.summarise([r for r in rows if r["repeat"] == k])["all"] for k in (1, 2, 3)]
    for rate in ("win_rate", "tie_rate", "loss_rate", "position_flip_rate", "inconsistent_rate"):
        values = [s[rate] for s in per_repeat if s[rate] is not None]
        assert summary[rate] == pytest.approx(sum(values) / len(values)), rate
    assert summary["repeats"] == 3 and summary["pairs"] == 6 and summary["n"] == 18


# ---- the system prompt reaches the judge as a system message -------------------------------------


class RecordingServer(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        data = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Rating: [[9]]"}}
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_openai_judge_gets_fastchats_messages(tmp_path, monkeypatch):
    from polyinstruct.score.judge.openai_backend import OpenAIJudge

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), RecordingServer)
    httpd.bodies = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MTX_TEST_KEY", "sk-test")
        backend = OpenAIJudge(
            base_url=f"http://127.0.0.1:{httpd.server_port}/v1",
            model="gpt-4",
            api_key_env="MTX_TEST_KEY",
            max_retries=0,
        )
        judge = CachedJudge(backend, JudgeCache(tmp_path))
        item = evalsets.load_mt_bench_x(MTX / "mt_bench_DE/question.jsonl", "de")[0]
        record = {**item, "responses": ["Aloha!", "Alles anders."]}
        entry = protocols.get("mt_bench_single")
        block = {**SINGLE_BLOCK, "judge_prompts": str(MTX / "mt_bench_{LANG}/judge_prompts.jsonl")}
        rows, _ = protocols.grade(
            entry, [record], judge, entry.templates(REPO / "resources/prompts/judge", block), block
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    file = fastchat.load_judge_prompts(MTX / "mt_bench_DE/judge_prompts.jsonl")
    sent = sorted(
        (b["messages"] for b in httpd.bodies), key=lambda m: m[0]["content"] == file.get("single-v1").system_prompt
    )
    assert [m["role"] for m in sent[0]] == ["system", "user"] and [m["role"] for m in sent[1]] == ["system", "user"]
    assert sent[0][0]["content"] == file.get("single-v1-multi-turn").system_prompt  # the German system prompts
    assert sent[1][0]["content"] == "Sie sind ein hilfreicher Assistent."
    assert sent[1][1]["content"].startswith("[Anweisung]\nBitte bewerten Sie als unparteiischer Richter")
    assert [r["rating"] for r in rows] == [9, 9]


def test_the_cache_key_covers_the_system_prompt(tmp_path):
    from polyinstruct.score.judge.cache import cache_key

    user = {"role": "user", "content": "Q"}
    keys = {
        cache_key("m", "t", "Q"),
        cache_key("m", "t", [user]),
        cache_key("m", "t", [{"role": "system", "content": "A"}, user]),
        cache_key("m", "t", [{"role": "system", "content": "B"}, user]),
        cache_key("m", "t", [{"role": "system", "content": "B"}, user], repeat=1),
    }
    assert len(keys) == 5


def test_local_judge_renders_the_system_message(tiny_llama):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from polyinstruct.models import chat
    from polyinstruct.score.judge.local import LocalJudge

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    judge = LocalJudge(AutoModelForCausalLM.from_pretrained(tiny_llama), tokenizer, batch_size=2, max_new_tokens=2)
    messages = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Rate it."}]
    _, stats = judge.complete([messages, "Rate it."])
    with_system = chat.render(messages, "chat", tokenizer)
    assert "<|im_start|>system\nYou are a helpful assistant.<|im_end|>" in with_system
    tokens = [u["prompt_tokens"] for u in stats["usage"]]
    assert tokens[0] == len(tokenizer(with_system, add_special_tokens=False)["input_ids"]) and tokens[0] > tokens[1]
    assert stats["truncated_prompts"] == 0
