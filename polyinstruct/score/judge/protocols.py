"""Judge protocols, one registry entry each (the way lm-evaluation-harness registers tasks).

A protocol says what a judge is asked and how its answer is read: its scale, whether it judges each
item once (its first turn) or every turn, whether it compares two runs, where its settings live in
the config, its template roles (and the placeholders each must contain), how a prompt is built for
one (record, turn), and how an answer is parsed into row fields. Every one-response protocol is
graded by the one loop `grade`; pairwise protocols by `pairwise.compare`.

Adding a protocol is one `register(Protocol(...))` below plus its template file(s) under
`score.judge.template_dir`, and its name in the schema's `score.judge.protocols` enum (a test keeps
the two equal). Nothing else names protocols: the config checks, the rules, the planner and the
report all read this registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from polyinstruct import languages
from polyinstruct.io import InputError
from polyinstruct.score.judge import criteria, fastchat, pairwise, single, templates
from polyinstruct.score.judge.backend import ask

ITEM = "item"  # the first turn of each item is judged (Chen et al.)
TURN = "turn"  # every turn is judged, with the conversation so far


@dataclass(frozen=True)
class Protocol:
    name: str
    scale: tuple[int, int]  # range of a (gated) score, for tables and figure axes
    unit: str  # ITEM or TURN: one judge call per item, or per turn (x2 orders when pairwise)
    config_key: str  # where its settings block lives, e.g. "score.judge.mt_bench_single"
    roles: dict[str, tuple[str, ...]]  # template role -> placeholders the template must contain
    parse: Callable[[str | None, dict], dict]  # (answer, block) -> row fields, `parse_error` among them
    prompt: Callable[[dict, int, dict], tuple[str, dict, dict]] | None = None  # (record, turn, block) ->
    #   (role, template fields, extra row fields); None for pairwise protocols
    pairwise: bool = False
    summary: str = "rating"  # how rows are summarised: rating | criteria | pairwise
    finish: Callable[[list[dict], dict], None] | None = None  # (rows, stats): protocol-specific counts
    surface_metric: bool = False  # run when its config block is enabled, beside the judge protocols
    prompt_kind: str | None = None  # FastChat judge-prompt type it reads from `judge_prompts` (single | pairwise)
    prompt_roles: dict[str, tuple[str, ...]] | None = None  # role -> placeholders of such a prompt
    description: str = field(default="", compare=False)

    def block(self, config: dict) -> dict:
        """This protocol's settings block of a validated config."""
        node = config
        for key in self.config_key.split("."):
            node = node[key]
        return node

    def turns(self, record: dict) -> range:
        return range(1) if self.unit == ITEM else range(len(record["turns"]))

    def templates(self, template_dir: str, block: dict) -> templates.TemplateSet:
        return templates.TemplateSet(
            template_dir,
            block["templates"],
            self.roles,
            judge_prompts=block.get("judge_prompts"),
            kind=self.prompt_kind,
            prompt_roles=self.prompt_roles,
            on_malformed=block.get("judge_prompts_on_malformed", "stop"),
        )


REGISTRY: dict[str, Protocol] = {}


def register(protocol: Protocol) -> Protocol:
    if protocol.name in REGISTRY:
        raise ValueError(f"judge protocol {protocol.name!r} is registered twice")
    REGISTRY[protocol.name] = protocol
    return protocol


def get(name: str, key: str = "score.judge.protocols") -> Protocol:
    if name not in REGISTRY:
        raise InputError(f"config key '{key}': unknown judge protocol {name!r} (one of {', '.join(REGISTRY)})")
    return REGISTRY[name]


def judge_protocols() -> list[str]:
    """Names a config may list under `score.judge.protocols`."""
    return [name for name, p in REGISTRY.items() if not p.surface_metric]


def grade(
    protocol: Protocol, records: list[dict], judge, template_set: templates.TemplateSet, block: dict
) -> tuple[list[dict], dict]:
    """One row per judged (record, turn): the parsed value or a parse error, and the raw answer.

    Rows of ITEM protocols carry no `turn` (they stand for the whole item, and gating uses the item's
    language); rows of TURN protocols carry the 1-based turn.
    """
    prompts, versions, units = [], [], []
    for record in records:
        for turn in protocol.turns(record):
            role, fields, extra = protocol.prompt(record, turn, block)
            template = template_set.get(role, record["lang"])
            fastchat.check_turns(template, record, turn)
            prompts.append(template.fill(**fields))
            versions.append(template.version)
            units.append((record, turn, extra))
    answers, stats = ask(judge, prompts, versions)
    rows = []
    for (record, turn, extra), version, answer in zip(units, versions, answers):
        where = {"turn": turn + 1} if protocol.unit == TURN else {}
        rows.append(
            {
                "id": record["id"],
                "lang": record["lang"],
                "category": record.get("category"),
                **where,
                **protocol.parse(answer, block),
                **extra,
                "raw": answer,
                "judge": {"model": judge.model, "template": version},
            }
        )
    if protocol.finish is not None:
        protocol.finish(rows, stats)
    stats["parse_failures"] = sum(r["parse_error"] is not None for r in rows)
    skipped = template_set.skipped_lines()
    if skipped:
        stats["judge_prompt_lines_skipped"] = sum(len(lines) for lines in skipped.values())
    return rows, stats


# ---- prompts and parsers of the registered protocols -----------------------------------------------


def _language(record: dict) -> str:
    """The name of the language the response should be in (a modifier may ask for another than the prompt's)."""
    from polyinstruct.data.records import expected_language

    return languages.get(expected_language(record)).name


def _rating_parser(low: int, high: int, integer: bool = True):
    def parse(answer: str | None, block: dict) -> dict:
        verdict = single.parse_rating(answer, low, high, integer)
        return {"rating": verdict.rating, "parse_error": verdict.parse_error}

    return parse


def _chen_prompt(record: dict, turn: int, block: dict) -> tuple[str, dict, dict]:
    return (
        "single",
        {"instruction": record["turns"][0], "response": record["responses"][0], "language": _language(record)},
        {},
    )


def _mt_bench_prompt(record: dict, turn: int, block: dict) -> tuple[str, dict, dict]:
    categories = tuple(block["reference_categories"])
    fields, role, with_reference = single.turn_fields(record, turn, categories)
    extra = {"reference_used": with_reference, "reference_expected": record["category"] in categories}
    return role, fields, {**extra, "scale": tuple(block["scale"])}


def _mt_bench_parse(answer: str | None, block: dict) -> dict:
    low, high = block["scale"]
    if block.get("parser", "strict") == "fastchat":
        verdict = single.parse_fastchat(answer)
    else:
        verdict = single.parse_rating(answer, low, high, block["integer_only"])
    return {"rating": verdict.rating, "parse_error": verdict.parse_error}


def _reference_missing(rows: list[dict], stats: dict) -> None:
    """Counts turns of reference categories judged without a reference, and (FastChat's parser keeps every
    rating it finds) ratings outside the scale."""
    stats["reference_missing"] = sum(r.get("reference_expected", False) and not r["reference_used"] for r in rows)
    for row in rows:
        row.pop("reference_expected", None)
        scale = row.pop("scale", None)
        if scale is not None and row["rating"] is not None and not scale[0] <= row["rating"] <= scale[1]:
            stats["out_of_scale"] = stats.get("out_of_scale", 0) + 1


def _conversation_prompt(role: str):
    def prompt(record: dict, turn: int, block: dict) -> tuple[str, dict, dict]:
        instruction = record["turns"][turn]
        if turn > 0:
            history = single.render_history(record["turns"][:turn], record["responses"][:turn])
            instruction = f"{history}\n\n### User:\n{instruction}"
        return (
            role,
            {"instruction": instruction, "response": record["responses"][turn], "language": _language(record)},
            {},
        )

    return prompt


def _relevance_prompt(record: dict, turn: int, block: dict) -> tuple[str, dict, dict]:
    return (
        "relevance",
        {"instruction": record["turns"][turn], "response": record["responses"][turn], "language": _language(record)},
        {},
    )


LAST_BINARY_DIGIT = re.compile(r"[01]")


def parse_last_digit(answer: str | None) -> tuple[int | None, str | None]:
    """Chirkova & Nikoulina's relevance reading: "We extract the last 0 or 1 digit from the output"."""
    if answer is None:
        return None, "judge_call_failed"
    found = LAST_BINARY_DIGIT.findall(answer)
    return (int(found[-1]), None) if found else (None, "no_rating")


def _relevance_parse(answer: str | None, block: dict) -> dict:
    if block.get("answer", "brackets") == "last_digit":
        rating, error = parse_last_digit(answer)
        return {"rating": rating, "parse_error": error}
    return _rating_parser(0, 1)(answer, block)


def _criteria_parse(answer: str | None, block: dict) -> dict:
    scores, error, detail = criteria.parse_criteria(answer, tuple(block.get("judge_scale") or criteria.DEFAULT_SCALE))
    return {"criteria": scores, "parse_error": error, "parse_detail": detail}


def _pairwise_parse(answer: str | None, block: dict) -> dict:
    parse = pairwise.parse_fastchat if block.get("parser", "strict") == "fastchat" else pairwise.parse_verdict
    verdict, error = parse(answer, block["allow_both_bad"])
    return {"verdict": verdict, "parse_error": error}


register(
    Protocol(
        "chen_single",
        scale=(0, 3),
        unit=ITEM,
        config_key="score.judge.chen_single",
        roles={"single": ("instruction", "response")},  # v1 also names {language}; v2 (Figure 1) does not
        prompt=_chen_prompt,
        parse=_rating_parser(1, 3),
        description="Chen et al.: the first turn rated 1-3 alone, `Rating: [[N]]`.",
    )
)
register(
    Protocol(
        "mt_bench_single",
        scale=(0, 10),
        unit=TURN,
        config_key="score.judge.mt_bench_single",
        roles=single.TURN_ROLES,
        prompt=_mt_bench_prompt,
        parse=_mt_bench_parse,
        finish=_reference_missing,
        prompt_kind="single",
        prompt_roles=fastchat.SINGLE_ROLES,
        description=(
            "MT-Bench single grading as FastChat does it: every turn 1-10 with FastChat's (or MT-Bench-X's "
            "translated) judge prompts, references for math/reasoning/coding, FastChat's rating parser."
        ),
    )
)
register(
    Protocol(
        "mt_bench_pairwise",
        scale=(0, 1),
        unit=TURN,
        config_key="score.judge.mt_bench_pairwise",
        roles=pairwise.PAIR_ROLES,
        parse=_pairwise_parse,
        pairwise=True,
        summary="pairwise",
        prompt_kind="pairwise",
        prompt_roles=fastchat.PAIR_ROLES,
        description=(
            "MT-Bench pairwise as FastChat does it: A/B/tie (MT-Bench-X: both bad) against a baseline run, in "
            "both answer orders, optionally repeated and averaged."
        ),
    )
)
register(
    Protocol(
        "criteria",
        scale=(0, 2),
        unit=TURN,
        config_key="score.judge.criteria",
        roles=criteria.CRITERIA_ROLES,
        prompt=_conversation_prompt("criteria"),
        parse=_criteria_parse,
        summary="criteria",
        description="Chirkova & Nikoulina: six criteria as one JSON object, 1-3 stars in, 0-2 reported.",
    )
)
register(
    Protocol(
        "relevance",
        scale=(0, 1),
        unit=TURN,
        config_key="surface.relevance",
        roles={"relevance": ("instruction", "response")},
        prompt=_relevance_prompt,
        parse=_relevance_parse,
        surface_metric=True,
        description="Chirkova & Nikoulina's relevance 0/1 (their Table 3 prompt, the last 0/1 kept), a surface metric.",
    )
)
