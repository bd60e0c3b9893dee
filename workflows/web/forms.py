"""HTML forms from a task's JSON Schema, and the submitted fields back into JSON.

The same schema the engine validates against drives the page, so a designer who adds a field to
``forms/<task>.schema.json`` sees it on the task page without touching a template. Values the
browser cannot express as their JSON type (a number that is not one, a date-time without a zone)
are passed through as text: the engine's validation then names the field, as the API would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

LONG_TEXT = 500  # strings allowed to be longer than this get a text area
SEPARATOR = "."


@dataclass
class Field:
    name: str  # the HTML name: dotted path, rows numbered ("actions.0.responsible")
    pointer: str  # the JSON pointer the engine's field errors use
    title: str
    kind: str  # text textarea date datetime integer number checkbox select choices lines group rows
    required: bool = False
    description: str = ""
    value: Any = None
    options: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # option -> what the page shows
    # A number counting the entries of another list of the form ("x-person-of": "children"):
    # the page offers those entries by name.
    person_of: str = ""
    children: list[Field] = field(default_factory=list)  # a group's fields
    rows: list[list[Field]] = field(default_factory=list)  # an array of objects: one per item
    blank: list[Field] = field(default_factory=list)  # the row "add another" copies
    errors: list[str] = field(default_factory=list)


def _options(schema: dict[str, Any]) -> list[Any] | None:
    """The values a field may take: its ``enum``, or the ``const`` of each ``oneOf`` branch
    (JSON Schema's way to give each value a title), or None when it is open."""
    if "enum" in schema:
        return list(schema["enum"])
    branches = schema.get("oneOf")
    if branches and all(isinstance(b, dict) and "const" in b for b in branches):
        return [b["const"] for b in branches]
    return None


def _labels(schema: dict[str, Any]) -> dict[str, str]:
    return {
        str(b["const"]): str(b["title"])
        for b in schema.get("oneOf", [])
        if isinstance(b, dict) and "const" in b and "title" in b
    }


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        return "group"
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "object":
            return "rows"
        return "choices" if _options(items) is not None else "lines"
    if _options(schema) is not None:
        return "select"
    if kind in ("integer", "number"):
        return str(kind)
    if kind == "boolean":
        return "checkbox"
    fmt = schema.get("format")
    if fmt == "date":
        return "date"
    if fmt == "date-time":
        return "datetime"
    if schema.get("maxLength", 0) > LONG_TEXT:
        return "textarea"
    return "text"


def _title(key: str, schema: dict[str, Any]) -> str:
    return str(schema.get("title") or key.replace("_", " ").capitalize())


def in_zone(value: Any, zone: ZoneInfo, layout: str) -> str:
    """An ISO instant written with ``layout`` in the agency's zone; text that is not one is
    given back as it is (to be shown, and refused by validation)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime(layout)


def local_input(value: Any, zone: ZoneInfo) -> str:
    """An ISO instant as a ``datetime-local`` input shows it, in the agency's zone."""
    return in_zone(value, zone, "%Y-%m-%dT%H:%M")


def build(
    schema: dict[str, Any],
    values: dict[str, Any] | None,
    errors: dict[str, list[str]],
    zone: ZoneInfo,
    prefix: str = "",
    pointer: str = "",
) -> list[Field]:
    """The fields of an object schema, filled from ``values``, with errors by JSON pointer."""
    values = values if isinstance(values, dict) else {}
    required = set(schema.get("required", []))
    fields = []
    for key, sub in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        here = f"{pointer}/{key}"
        kind = _kind(sub)
        made = Field(
            name=name,
            pointer=here,
            title=_title(key, sub),
            kind=kind,
            required=key in required,
            description=str(sub.get("description", "")),
            person_of=str(sub.get("x-person-of", "")),
            errors=errors.get(here, []),
        )
        value = values.get(key, sub.get("default"))
        if kind == "group":
            made.children = build(sub, value, errors, zone, f"{name}{SEPARATOR}", here)
        elif kind == "rows":
            items = sub.get("items", {})
            made.rows = [
                build(items, item, errors, zone, f"{name}{SEPARATOR}{i}{SEPARATOR}", f"{here}/{i}")
                for i, item in enumerate(value if isinstance(value, list) else [])
            ]
            made.blank = build(items, {}, {}, zone, f"{name}{SEPARATOR}__row__{SEPARATOR}", "")
        elif kind == "choices":
            made.options = [str(o) for o in _options(sub["items"]) or []]
            made.labels = _labels(sub["items"])
            made.value = [str(v) for v in value] if isinstance(value, list) else []
        elif kind == "lines":
            made.value = "\n".join(map(str, value)) if isinstance(value, list) else ""
        elif kind == "select":
            made.options = [str(o) for o in _options(sub) or []]
            made.labels = _labels(sub)
            made.value = "" if value is None else str(value)
        elif kind == "datetime":
            made.value = local_input(value, zone)
        elif kind == "checkbox":
            made.value = bool(value)
        else:
            made.value = "" if value is None else value
        fields.append(made)
    return fields


def _number(raw: str, kind: str) -> Any:
    try:
        return int(raw) if kind == "integer" else float(raw) if "." in raw else int(raw)
    except ValueError:
        return raw  # the engine's validation names the field


def _instant(raw: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def _enum_value(raw: str, options: list[Any]) -> Any:
    # Enums may hold numbers or booleans; give back the option whose text was chosen.
    return next((o for o in options if str(o) == raw), raw)


def parse(
    schema: dict[str, Any], form: MultiDict[str, str], zone: ZoneInfo, prefix: str = ""
) -> dict[str, Any]:
    """The JSON object a submitted form stands for; empty inputs are left out."""
    data: dict[str, Any] = {}
    for key, sub in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        kind = _kind(sub)
        if kind == "group":
            nested = parse(sub, form, zone, f"{name}{SEPARATOR}")
            if nested:
                data[key] = nested
        elif kind == "rows":
            data_rows = _rows(sub.get("items", {}), form, zone, f"{name}{SEPARATOR}")
            if data_rows or key in form:
                data[key] = data_rows
        elif kind == "choices":
            options = _options(sub["items"]) or []
            chosen = [_enum_value(v, options) for v in form.getlist(name)]
            if chosen or f"{name}{SEPARATOR}__present__" in form:
                data[key] = chosen
        elif kind == "lines":
            if name in form:
                data[key] = [line.strip() for line in form[name].splitlines() if line.strip()]
        elif kind == "checkbox":
            if name in form or f"{name}{SEPARATOR}__present__" in form:
                data[key] = form.get(name) in ("on", "true", "1")
        else:
            raw = form.get(name, "").strip()
            if not raw:
                continue
            if kind in ("integer", "number"):
                data[key] = _number(raw, kind)
            elif kind == "datetime":
                data[key] = _instant(raw, zone)
            elif kind == "select":
                data[key] = _enum_value(raw, _options(sub) or [])
            else:
                data[key] = raw
    return data


def _rows(
    items: dict[str, Any], form: MultiDict[str, str], zone: ZoneInfo, prefix: str
) -> list[dict[str, Any]]:
    indexes = sorted(
        {
            int(part)
            for name in form
            if name.startswith(prefix)
            and (part := name[len(prefix) :].split(SEPARATOR, 1)[0]).isdigit()
        }
    )
    rows = [parse(items, form, zone, f"{prefix}{i}{SEPARATOR}") for i in indexes]
    return [row for row in rows if any(v not in ("", [], False) for v in row.values())]


# The engine's messages name JSON properties; a person filling a form reads these instead.
PLAIN_MESSAGES = {
    "required": "This is required.",
    "format": "Enter a valid value (dates as shown by the field).",
    "type": "Enter a value of the right kind (a number where a number is asked).",
    "enum": "Choose one of the options.",
    "oneOf": "Choose one of the options.",
    "minLength": "This is too short: write a little more.",
    "additional": "This is not a field of this form.",
}


def errors_by_pointer(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        message = PLAIN_MESSAGES.get(error.get("validator", ""), error["message"])
        found.setdefault(error["field"], []).append(message)
    return found


def unplaced(fields: list[Field], errors: dict[str, list[str]]) -> list[str]:
    """Errors no field shows (a rule on the whole form): the page lists them on top."""
    shown: set[str] = set()

    def walk(group: list[Field]) -> None:
        for f in group:
            shown.add(f.pointer)
            walk(f.children)
            for row in f.rows:
                walk(row)

    walk(fields)
    return [m for pointer, messages in errors.items() if pointer not in shown for m in messages]
