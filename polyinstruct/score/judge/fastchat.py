"""FastChat's llm_judge, as MT-Bench (Zheng et al.) and MT-Bench-X (Weber et al.) run it.

- Judge prompts come from a `judge_prompts.jsonl` (FastChat's `data/judge_prompts.jsonl`, or MT-Bench-X's
  translated `data/mt_bench_<LANG>/judge_prompts.jsonl`): one object per line with `name`, `type`
  (single | pairwise), `system_prompt`, `prompt_template` and `output_format`. The user prompt is
  `prompt_template.format(**fields)` and the system prompt is sent as a system message, as
  `common.run_judge_single` / `run_judge_pair` do (`conv.set_system_message`, then
  `to_openai_api_messages`: no system message when it is empty).
- A single judgment's rating is FastChat's: the first `[[x]]` (integer or decimal, e.g. 7.5), else the
  first `[x]`, read with `ast.literal_eval`; -1 when neither occurs (FastChat stores -1, and so do
  "$ERROR$" rows, whose text has no rating).
- A pairwise verdict is FastChat's: `[[A]]` if it occurs anywhere, else `[[B]]`, else `[[C]]` (tie), else
  (MT-Bench-X's extension) `[[D]]` "both bad", else an error.

The patterns and the order of the checks are FastChat's own (fastchat/llm_judge/common.py).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import string
from dataclasses import dataclass, field

from polyinstruct.io import InputError, Malformed, read_json_lines

ONE_SCORE = re.compile(r"\[\[(\d+\.?\d*)\]\]")
ONE_SCORE_BACKUP = re.compile(r"\[(\d+\.?\d*)\]")
NO_RATING = -1  # FastChat's score when the judgment holds no rating
ON_MALFORMED = ("stop", "skip")

#: The eight prompts of FastChat and MT-Bench-X by template role (the role names every MT-Bench protocol uses).
SINGLE_NAMES = {
    "turn1": "single-v1",
    "turn1_reference": "single-math-v1",
    "multi_turn": "single-v1-multi-turn",
    "multi_turn_reference": "single-math-v1-multi-turn",
}
PAIR_NAMES = {
    "turn1": "pair-v2",
    "turn1_reference": "pair-math-v1",
    "multi_turn": "pair-v2-multi-turn",
    "multi_turn_reference": "pair-math-v1-multi-turn",
}
#: Placeholders each role's prompt template must contain (FastChat's field names).
SINGLE_ROLES = {
    "turn1": ("question", "answer"),
    "turn1_reference": ("question", "answer", "ref_answer_1"),
    "multi_turn": ("question_1", "question_2", "answer_1", "answer_2"),
    "multi_turn_reference": ("question_1", "question_2", "answer_1", "answer_2", "ref_answer_1", "ref_answer_2"),
}
PAIR_ROLES = {
    "turn1": ("question", "answer_a", "answer_b"),
    "turn1_reference": ("question", "answer_a", "answer_b", "ref_answer_1"),
    "multi_turn": ("question_1", "question_2", "answer_a_1", "answer_a_2", "answer_b_1", "answer_b_2"),
    "multi_turn_reference": (
        "question_1",
        "question_2",
        "answer_a_1",
        "answer_a_2",
        "answer_b_1",
        "answer_b_2",
        "ref_answer_1",
        "ref_answer_2",
    ),
}
OUTPUT_FORMATS = {"single": "[[rating]]", "pairwise": "[[A]]"}


def rating(judgment: str) -> int | float:
    """FastChat's rating of a single judgment: first `[[x]]`, else first `[x]`, else -1."""
    match = ONE_SCORE.search(judgment)
    if not match:
        match = ONE_SCORE_BACKUP.search(judgment)
    return ast.literal_eval(match.groups()[0]) if match else NO_RATING


def verdict(judgment: str, both_bad: bool = True) -> str:
    """FastChat's pairwise verdict: A | B | tie, MT-Bench-X's "both bad" when `both_bad`, else error."""
    if "[[A]]" in judgment:
        return "A"
    if "[[B]]" in judgment:
        return "B"
    if "[[C]]" in judgment:
        return "tie"
    if both_bad and "[[D]]" in judgment:
        return "both bad"
    return "error"


def placeholders(text: str) -> list[str]:
    """The `{field}` names of a str.format template, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


@dataclass(frozen=True)
class JudgePrompt:
    """One line of a `judge_prompts.jsonl`; `fill` gives the chat messages FastChat sends."""

    name: str
    type: str
    system_prompt: str
    prompt_template: str
    output_format: str
    where: str  # file:line
    required: tuple[str, ...] = field(default=(), compare=False)

    @property
    def path(self) -> str:
        return self.where.rsplit(":", 1)[0]

    @property
    def text(self) -> str:
        """System prompt and template together (what the judge is told, e.g. whether [[D]] is offered)."""
        return f"{self.system_prompt}\n{self.prompt_template}"

    @property
    def version(self) -> str:
        """The name and a digest of the text: rows and cache keys change when the text changes."""
        digest = hashlib.sha256(json.dumps([self.system_prompt, self.prompt_template]).encode()).hexdigest()[:8]
        return f"{self.name}@{digest}"

    def user_prompt(self, **fields: str) -> str:
        """`prompt_template.format(**fields)`, exactly as FastChat renders it (unused fields are ignored)."""
        missing = [f for f in self.required if f not in fields]
        if missing:
            raise KeyError(f"{self.where}: no value given for placeholder(s) {missing}")
        try:
            return self.prompt_template.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(f"{self.where}: judge prompt '{self.name}' cannot be filled ({exc!r})") from None

    def fill(self, **fields: str) -> list[dict]:
        """The chat messages: the system prompt (when not empty) and the user prompt."""
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return [*messages, {"role": "user", "content": self.user_prompt(**fields)}]

    def check(self, kind: str, required: tuple[str, ...]) -> JudgePrompt:
        """This prompt for a protocol of `kind` (single | pairwise) whose role needs `required`."""
        if self.type != kind:
            raise InputError(f"{self.where}: judge prompt '{self.name}' is of type '{self.type}', not '{kind}'")
        if self.output_format != OUTPUT_FORMATS[kind]:
            raise InputError(
                f"{self.where}: judge prompt '{self.name}' has output_format '{self.output_format}'; "
                f"polyinstruct reads FastChat's '{OUTPUT_FORMATS[kind]}'"
            )
        found = set(placeholders(self.prompt_template))
        lacking = [f for f in required if f not in found]
        if lacking:
            raise InputError(f"{self.where}: judge prompt '{self.name}' lacks the placeholder(s) {lacking}")
        return JudgePrompt(
            self.name, self.type, self.system_prompt, self.prompt_template, self.output_format, self.where, required
        )


@dataclass
class JudgePrompts:
    """The prompts of one file by name, and the line numbers of malformed lines skipped (on_malformed: skip)."""

    path: str
    prompts: dict[str, JudgePrompt]
    skipped: list[int]

    def get(self, name: str) -> JudgePrompt:
        if name not in self.prompts:
            skipped = f"; malformed line(s) {self.skipped} were skipped" if self.skipped else ""
            raise InputError(
                f"{self.path}: no judge prompt named '{name}' (has {', '.join(self.prompts) or 'none'}{skipped})"
            )
        return self.prompts[name]


FIELDS = ("name", "type", "system_prompt", "prompt_template", "output_format")


class _PromptLines(Malformed):
    """on_malformed of a judge_prompts file, whose policy is the protocol's `judge_prompts_on_malformed`."""

    def __call__(self, where: str, problem: str) -> None:
        hint = " (a judge prompt line; judge_prompts_on_malformed: skip skips such lines and counts them)"
        super().__call__(where, problem + (hint if self.policy == "stop" else ""))


def load_judge_prompts(path: str | os.PathLike, on_malformed: str = "stop") -> JudgePrompts:
    """A FastChat `judge_prompts.jsonl`. A line that is not a JSON object with string `name`, `type`,
    `system_prompt`, `prompt_template` and `output_format` stops the load naming file:line, or with
    `on_malformed="skip"` is skipped and its line number kept (MT-Bench-X's DE `judge_prompts_v2.jsonl`
    has a corrupt first line upstream). A repeated name is always an error."""
    if on_malformed not in ON_MALFORMED:
        raise InputError(f"judge_prompts_on_malformed must be one of {', '.join(ON_MALFORMED)}, got {on_malformed!r}")
    malformed = _PromptLines(on_malformed)
    prompts: dict[str, JudgePrompt] = {}
    for lineno, record in read_json_lines(path, malformed, objects=True):
        where = f"{path}:{lineno}"
        missing = [k for k in FIELDS if not isinstance(record.get(k), str)]
        if missing:
            malformed(where, f"missing or non-string field(s) {missing}")
            continue
        if record["name"] in prompts:
            raise InputError(
                f"{where}: duplicate judge prompt '{record['name']}' (first at {prompts[record['name']].where})"
            )
        prompts[record["name"]] = JudgePrompt(*(record[k] for k in FIELDS), where)
    return JudgePrompts(str(path), prompts, sorted(int(w.rsplit(":", 1)[1]) for w in malformed.locations))


def check_turns(template, record: dict, turn: int) -> None:
    """FastChat's multi-turn prompts show exactly two turns: a later turn cannot be judged with them."""
    if isinstance(template, JudgePrompt) and turn > 1:
        raise InputError(
            f"item '{record['id']}' has {len(record['turns'])} turns, but FastChat judge prompt "
            f"'{template.name}' ({template.where}) judges the second turn only; use .txt templates for longer "
            "conversations"
        )
