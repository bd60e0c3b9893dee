"""User-task forms: a JSON Schema per task, and validation of submitted data against it.

A user task without a form is a confirmation: it accepts no fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
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
    problems = spec_problems(schema)
    return (None, problems) if problems else (schema, [])


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
        message = error.message
        if error.validator == "oneOf" and isinstance(error.schema, dict):
            listed = error.schema.get(CHOICES_KEY)
            if listed:
                message = f"names none of this case's {listed}"
        errors.append(FieldError(_pointer(path), message, str(error.validator)))
    return errors


def validate_task_data(schema: dict[str, Any], data: Any) -> None:
    """Raises InvalidTaskData with one entry per field when ``data`` does not fit the form."""
    errors = field_errors(schema, data)
    if errors:
        raise InvalidTaskData("the submitted data does not fit the task's form", errors)


# -- what a form records (engine.cases.record keeps it) --------------------------------------

RECORD_KEY = "x-casework-record"
KIND_LENGTH = 64  # the record's column
# On an approval's form: the kinds of entry the approval decides on, shown to the approver.
REVIEWS_KEY = "x-casework-reviews"


@dataclass(frozen=True)
class RecordSpec:
    kind: str
    title: str
    occurred: tuple[str, ...] = ()  # the event-time field's path; () for the time of entry


def spec_of(schema: dict[str, Any], element_id: str) -> RecordSpec:
    declared = schema.get(RECORD_KEY) or {}
    occurred = declared.get("occurred")
    return RecordSpec(
        kind=str(declared.get("kind") or element_id)[:KIND_LENGTH],
        title=str(declared.get("title") or schema.get("title") or element_id)[:300],
        occurred=tuple(occurred.split(".")) if occurred else (),
    )


# A court hearing the form stands for: the task itself (the hearing is held by its due date)
# or, with "on", the date a field of the form sets it for. People's calendars show them.
HEARING_KEY = "x-casework-hearing"


@dataclass(frozen=True)
class HearingSpec:
    title: str
    on: tuple[str, ...] = ()  # the field giving the hearing's date; () for the task's due date


def hearing_of(schema: dict[str, Any] | None) -> HearingSpec | None:
    declared = (schema or {}).get(HEARING_KEY)
    if not isinstance(declared, dict):
        return None
    on = declared.get("on")
    return HearingSpec(
        str(declared.get("title") or "Hearing")[:300], tuple(on.split(".")) if on else ()
    )


def _hearing_problems(schema: dict[str, Any]) -> list[str]:
    declared = schema.get(HEARING_KEY)
    if declared is None:
        return []
    if not isinstance(declared, dict) or not isinstance(declared.get("title"), str):
        return [f'{HEARING_KEY} needs a "title"']
    on = declared.get("on")
    if on is None:
        return []
    field = _field_schema(schema, tuple(str(on).split(".")))
    if field is None or field.get("format") not in ("date", "date-time"):
        return [
            f"{HEARING_KEY}: on names {on!r}, which is not a date or date-time field of the form"
        ]
    return []


# On a plan's form: the case's referrals are made from it ("make") or followed on it ("follow").
REFERRALS_KEY = "x-casework-referrals"
REFERRAL_MODES = ("make", "follow")


def referrals_mode(schema: dict[str, Any] | None) -> str | None:
    mode = (schema or {}).get(REFERRALS_KEY)
    return mode if mode in REFERRAL_MODES else None


# On a report task's form: completing it keeps the court report, as the record then makes it
# (the form's answers are the worker's recommendation), on the case as a document.
COURT_REPORT_KEY = "x-casework-court-report"


def files_court_report(schema: dict[str, Any] | None) -> bool:
    return (schema or {}).get(COURT_REPORT_KEY) == "file"


def reviewed_kinds(schema: dict[str, Any]) -> list[str]:
    return [str(kind) for kind in schema.get(REVIEWS_KEY, [])]


# A field whose answer is one of the case's own children, allegations or people: the form says
# which list ("x-casework-choices": "children"); the case fills in the options when the form
# is shown or checked, so an answer names someone of this case or is refused.
CHOICES_KEY = "x-casework-choices"
CHOICE_LISTS = ("children", "allegations", "people")


def with_choices(schema: Any, choices: Mapping[str, list[tuple[str, str]]]) -> Any:
    """A copy of the form with each choice field's options: (value, title) pairs."""
    if isinstance(schema, list):
        return [with_choices(item, choices) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: with_choices(value, choices) for key, value in schema.items()}
    listed = schema.get(CHOICES_KEY)
    if isinstance(listed, str):
        options = choices.get(listed, [])
        copy["oneOf"] = [{"const": value, "title": title} for value, title in options] or [
            {"const": None, "title": f"(no {listed} on this case)"}
        ]
    return copy


def _choice_problems(schema: Any) -> list[str]:
    if isinstance(schema, list):
        return [p for item in schema for p in _choice_problems(item)]
    if not isinstance(schema, dict):
        return []
    problems = [p for value in schema.values() for p in _choice_problems(value)]
    listed = schema.get(CHOICES_KEY)
    if listed is not None and listed not in CHOICE_LISTS:
        problems.append(f"{CHOICES_KEY} must be one of {', '.join(CHOICE_LISTS)}, not {listed!r}")
    return problems


def spec_problems(schema: dict[str, Any]) -> list[str]:
    """What is wrong with a form's record declaration (for validation before deploy)."""
    declared = schema.get(RECORD_KEY)
    problems: list[str] = _choice_problems(schema) + _hearing_problems(schema)
    if REFERRALS_KEY in schema and schema[REFERRALS_KEY] not in REFERRAL_MODES:
        problems.append(f'{REFERRALS_KEY} is "make" or "follow"')
    if COURT_REPORT_KEY in schema and not files_court_report(schema):
        problems.append(f'{COURT_REPORT_KEY} is "file" (the report is kept when the task is done)')
    if declared is None:
        return problems
    if not isinstance(declared, dict) or not str(declared.get("kind", "")).isidentifier():
        return [f'{RECORD_KEY} needs a "kind" that is a name (letters, digits, _)']
    if len(str(declared["kind"])) > KIND_LENGTH or len(str(declared.get("title", ""))) > 300:
        problems.append(f"{RECORD_KEY}: kind at most {KIND_LENGTH} characters, title at most 300")
    occurred = declared.get("occurred")
    if occurred is not None:
        field = _field_schema(schema, tuple(str(occurred).split(".")))
        if field is None or field.get("format") not in ("date", "date-time"):
            problems.append(
                f"{RECORD_KEY}: occurred names {occurred!r}, which is not a date or date-time "
                "field of the form"
            )
    reviews = schema.get(REVIEWS_KEY)
    if reviews is not None and not (
        isinstance(reviews, list) and all(str(k).isidentifier() for k in reviews)
    ):
        problems.append(f"{REVIEWS_KEY} must be a list of record kinds")
    return problems


def _field_schema(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    found: Any = schema
    for part in path:
        found = (found.get("properties") or {}).get(part)
        if not isinstance(found, dict):
            return None
    return dict(found)
