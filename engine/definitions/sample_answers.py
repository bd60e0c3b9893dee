"""Answers a person could give a form, made up from its JSON Schema: what validation's walk
through every process types into each task.

``chance`` picks among a field's choices (a boolean's yes or no, an enum's values, a ``oneOf``
of constants), so that walks with different generators take different branches; ``None`` is
returned where the form asks for something this generator cannot make (a ``pattern``, say):
the walk then stops at that task rather than report the form's fault as the diagram's.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from engine.tasks.form_schemas import field_errors

TEXT = "Entered in validation's dry run"
LATER_DAYS = (0, 7, 30, 90)


def sample_answer(
    schema: dict[str, Any], chance: random.Random, now: datetime
) -> dict[str, Any] | None:
    """An answer that fits ``schema``, or None when none could be made."""
    answer = _value(schema, chance, now, depth=0)
    if not isinstance(answer, dict) or field_errors(schema, answer):
        return None
    return answer


def _choices(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return list(schema["enum"])
    one_of = schema.get("oneOf")
    if (
        isinstance(one_of, list)
        and one_of
        and all(isinstance(o, dict) and "const" in o for o in one_of)
    ):
        return [o["const"] for o in one_of]
    if schema.get("type") == "boolean":
        return [True, False]
    return None


def _value(schema: Any, chance: random.Random, now: datetime, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 8:
        return None
    choices = _choices(schema)
    if choices is not None:
        # The form's default is what most cases answer: taken most of the time, so that a walk
        # gets past a decision on many fields without some rare answer cutting it short.
        if "default" in schema and schema["default"] in choices and chance.random() < 0.75:
            return schema["default"]
        return chance.choice(choices)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return _object(schema, chance, now, depth)
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [_value(schema.get("items", {}), chance, now, depth + 1) for i in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum") or schema.get("exclusiveMinimum") or 0
        return int(low) + 1 if kind == "integer" else float(low) + 1
    if kind == "string":
        return _text(schema, chance, now)
    return None


def _text(schema: dict[str, Any], chance: random.Random, now: datetime) -> str:
    form = schema.get("format")
    # A date is today or some weeks ahead: a hearing set for later lets the clock move on to
    # it, where one set for today would come round again and again at the same instant.
    if form == "date":
        return (now + timedelta(days=chance.choice(LATER_DAYS))).date().isoformat()
    if form == "date-time":
        return now.isoformat()
    if form == "email":
        return "someone@example.org"
    if form == "time":
        return "09:00:00"
    text = TEXT
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = text.ljust(low, ".")
    return text[: int(high)] if high is not None else text


def _object(
    schema: dict[str, Any], chance: random.Random, now: datetime, depth: int
) -> dict[str, Any]:
    properties = dict(schema.get("properties") or {})
    required = set(schema.get("required") or [])
    answer: dict[str, Any] = {}
    for name, field in properties.items():
        if name not in required and chance.random() < 0.5:
            continue  # a field one may leave empty is left empty, some of the time
        value = _value(field, chance, now, depth + 1)
        if value is not None:
            answer[name] = value
    # Conditional parts (if/then/else, allOf of them) add their own fields and limits.
    for part in [schema, *(p for p in schema.get("allOf", []) if isinstance(p, dict))]:
        condition = part.get("if")
        if not isinstance(condition, dict):
            continue
        branch = part.get("then") if Draft202012Validator(condition).is_valid(answer) else None
        branch = branch if branch is not None else part.get("else")
        if not isinstance(branch, dict):
            continue
        limits = dict(branch.get("properties") or {})
        # A field the branch requires without restating it takes the form's own schema.
        limits.update({n: {} for n in branch.get("required") or [] if n not in answer | limits})
        for name, field in limits.items():
            merged = {**properties.get(name, {}), **field}
            value = _value(merged, chance, now, depth + 1)
            if value is not None:
                answer[name] = value
    return answer
