"""User-task forms: a JSON Schema per task, and validation of submitted data against it.

A user task without a form is a confirmation: it accepts no fields.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from engine.errors import FieldError, InvalidTaskData

CONFIRMATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Confirm",
    "properties": {},
    "additionalProperties": False,
}


def schema_problems(content: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """Parse a form file; the schema and an empty list, or None and what is wrong."""
    try:
        schema = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, [f"not valid JSON: {exc}"]
    if not isinstance(schema, dict):
        return None, ["a form must be a JSON Schema object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "schema"
        return None, [f"not a valid JSON Schema at {where}: {exc.message}"]
    if schema.get("type") != "object":
        return None, ['a form schema must have "type": "object" at its top']
    return schema, []


def _pointer(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path)


def field_errors(schema: dict[str, Any], data: Any) -> list[FieldError]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        if error.validator == "required":
            # Point at the missing field itself, not at its parent object.
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = [*path, missing]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - allowed):
                errors.append(
                    FieldError(
                        _pointer([*path, extra]), "is not a field of this form", "additional"
                    )
                )
            continue
        errors.append(FieldError(_pointer(path), error.message, str(error.validator)))
    return errors


def validate_task_data(schema: dict[str, Any], data: Any) -> None:
    """Raises InvalidTaskData with one entry per field when ``data`` does not fit the form."""
    errors = field_errors(schema, data)
    if errors:
        raise InvalidTaskData("the submitted data does not fit the task's form", errors)
