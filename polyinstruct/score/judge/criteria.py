"""Multi-criteria judging (Chirkova & Nikoulina): one JSON object, six criteria scored 0-2.

The judge's JSON is found in its answer (bare, or inside a ```json fence), parsed, and validated
with jsonschema. Failures keep the raw answer and name the reason: judge_call_failed, no_json,
invalid_json, schema_violation (with the validator's message in `parse_detail`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import jsonschema

CRITERIA = ("helpfulness", "correct_language", "fluency", "factuality", "logical_coherence", "harmlessness")

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": list(CRITERIA),
    "properties": {name: {"type": "integer", "minimum": 0, "maximum": 2} for name in CRITERIA},
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
#: Template roles and the placeholders each must contain.
CRITERIA_ROLES = {"criteria": ("instruction", "response", "language")}


def _json_text(text: str) -> str | None:
    fenced = FENCE.search(text)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else None


def parse_criteria(text: str | None) -> tuple[dict | None, str | None, str | None]:
    """(scores by criterion, None, None) or (None, reason, detail)."""
    if text is None:
        return None, "judge_call_failed", None
    candidate = _json_text(text)
    if candidate is None:
        return None, "no_json", None
    try:
        value = json.loads(candidate)
    except json.JSONDecodeError as exc:
        return None, "invalid_json", f"{exc.msg} at column {exc.colno}"
    errors = sorted(_VALIDATOR.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "<object>"
        return None, "schema_violation", f"{where}: {first.message}"
    return {name: value[name] for name in CRITERIA}, None, None


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
