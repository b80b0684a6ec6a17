"""Multi-criteria judging (Chirkova & Nikoulina): one JSON object, six criteria, reported on 0-2.

Their prompt (`chirkova_criteria.v2`, pasero's `evaluation/eval_prompt_gpt.txt` verbatim) asks for
1-3 stars per criterion under their own names (Language, Fluency, Helpfulness, Accuracy, Logical
coherence, Harmlessness) and "a json dictionary"; the paper reports stars minus one (0-2). The
protocol's `judge_scale` says what the judge answers on ([1, 3] for their prompt, [0, 2] for the
older `chirkova_criteria.v1`); every score is stored as value - low, so always 0-2.

The judge's JSON is found in its answer (bare, or inside a ```json fence), parsed, its keys mapped to
our criterion names (case, spaces, `_` and `-` ignored; their names and ours both accepted), and
validated with jsonschema. Values are integers; "3" and "3 stars" are read as 3. Failures keep the
raw answer and name the reason: judge_call_failed, no_json, invalid_json, schema_violation (with the
validator's message, or the duplicate or unknown key, in `parse_detail`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import jsonschema

CRITERIA = ("helpfulness", "correct_language", "fluency", "factuality", "logical_coherence", "harmlessness")
#: The names a judge may give each criterion (normalised: lower case, single spaces), ours and the paper's.
ALIASES = {
    "helpfulness": "helpfulness",
    "helpful": "helpfulness",
    "correct language": "correct_language",
    "language": "correct_language",
    "language correctness": "correct_language",
    "fluency": "fluency",
    "factuality": "factuality",
    "accuracy": "factuality",
    "factual accuracy": "factuality",
    "logical coherence": "logical_coherence",
    "logicality": "logical_coherence",
    "harmlessness": "harmlessness",
}
DEFAULT_SCALE = (0, 2)
FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
STARS = re.compile(r"^\s*(\d+)\s*(?:stars?)?\s*$", re.IGNORECASE)
#: Template roles and the placeholders each must contain ({language} is filled in when a template has it).
CRITERIA_ROLES = {"criteria": ("instruction", "response")}


def schema(low: int, high: int) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": list(CRITERIA),
        "properties": {name: {"type": "integer", "minimum": low, "maximum": high} for name in CRITERIA},
    }


SCHEMA = schema(*DEFAULT_SCALE)


def _json_text(text: str) -> str | None:
    fenced = FENCE.search(text)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def _key(name: str) -> str:
    return " ".join(re.sub(r"[_\-]", " ", name).lower().split())


def _value(value):
    """An integer score: ints, integral floats, and "3" / "3 stars" strings; anything else as given (the
    schema then names it)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (match := STARS.match(value)):
        return int(match.group(1))
    return value


def normalise(value) -> tuple[dict | None, str | None]:
    """The judge's object with criterion names mapped to ours (a single wrapping object such as
    {"scores": {...}} unwrapped); (None, detail) for a duplicate criterion."""
    if not isinstance(value, dict):
        return value, None
    if len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, dict) and any(_key(k) in ALIASES for k in inner):
            value = inner
    out: dict = {}
    for name, score in value.items():
        criterion = ALIASES.get(_key(str(name)), name)
        if criterion in out:
            return None, f"{criterion}: given twice (as {name!r} and another name)"
        out[criterion] = _value(score)
    return out, None


def parse_criteria(
    text: str | None, scale: tuple[int, int] | list[int] = DEFAULT_SCALE
) -> tuple[dict | None, str | None, str | None]:
    """(scores by criterion on 0..high-low, None, None) or (None, reason, detail); `scale` is what the judge
    answers on."""
    if text is None:
        return None, "judge_call_failed", None
    candidate = _json_text(text)
    if candidate is None:
        return None, "no_json", None
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as exc:
        return None, "invalid_json", f"{exc.msg} at column {exc.colno}"
    value, duplicate = normalise(value)
    if duplicate:
        return None, "schema_violation", duplicate
    low, high = scale
    validator = jsonschema.Draft202012Validator(schema(low, high))
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "<object>"
        return None, "schema_violation", f"{where}: {first.message}"
    return {name: value[name] - low for name in CRITERIA}, None, None


def summarise(rows: list[dict], by: str | None = None, field: str = "criteria") -> dict[str, dict]:
    """Mean of each criterion per group (`by` = "category" for task type; None for "all").

    `field` is "criteria" (as judged) or "gated_criteria" (after `gating.gate_criteria`); a
    criterion set to None by gating is left out of that criterion's mean only.
    """
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[str(row[by]) if by else "all"].append(row)
    out = {}
    for name in sorted(groups):
        group = groups[name]
        scored = [r[field] for r in group if r[field] is not None]
        entry = {"n": len(group), "parse_failures": sum(r["parse_error"] is not None for r in group)}
        for criterion in CRITERIA:
            values = [s[criterion] for s in scored if s.get(criterion) is not None]
            entry[criterion] = sum(values) / len(values) if values else None
            entry[f"{criterion}_n"] = len(values)
        out[name] = entry
    return out
