"""A form's data in words: each answer with its form's label, codes with their names ("Very
high", not ``VERY_HIGH``), lists of rows as rows. The case page, an approval and the API show
the record this way, so what a caseworker typed reads back as they typed it.

The form (its JSON Schema) is the only source of labels: a designer who titles a field or an
option titles it everywhere. A decision's codes, which no form titles, take the jurisdiction
profile's words (``data.code_labels``)."""

from __future__ import annotations

import re
from typing import Any

Fact = dict[str, Any]


def describe(schema: dict[str, Any], data: Any) -> list[Fact]:
    """The answers of ``data`` in the order of the form's fields; fields not answered are left
    out, and answers the form does not know (older data) are shown under their key."""
    if not isinstance(data, dict):
        return []
    properties: dict[str, Any] = schema.get("properties", {}) if isinstance(schema, dict) else {}
    keys = [k for k in properties if k in data] + [k for k in data if k not in properties]
    facts = []
    for key in keys:
        value = data[key]
        if value is None or value == "" or value == [] or value == {}:
            continue
        facts.append(_fact(key, properties.get(key, {}), value))
    return facts


def _fact(key: str, schema: dict[str, Any], value: Any) -> Fact:
    label = str(schema.get("title") or key.replace("_", " ").capitalize())
    fact: Fact = {"field": key, "label": label}
    if isinstance(value, dict):
        fact["facts"] = describe(schema, value)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        fact["rows"] = [describe(items, v) for v in value]
    elif isinstance(value, list):
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        fact["text"] = ", ".join(words(items, v) for v in value)
    else:
        fact["text"] = words(schema, value)
        if schema.get("format") in ("date", "date-time") and isinstance(value, str):
            fact["format"] = schema["format"]  # for the page to write in the agency's zone
    return fact


def words(schema: dict[str, Any], value: Any) -> str:
    """One answer as a person reads it: an option's title, yes/no, the text itself."""
    for option in schema.get("oneOf", []) or schema.get("anyOf", []):
        if isinstance(option, dict) and option.get("const") == value and option.get("title"):
            return str(option["title"])
    names = schema.get("x-enum-titles")
    if isinstance(names, dict) and str(value) in names:
        return str(names[str(value)])
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and value in schema.get("enum", []) and not value.isupper():
        return value.replace("_", " ").capitalize()  # child_residence → Child residence
    return str(value)


CODE = re.compile(r"[A-Z][A-Z0-9_]*")


def value_in_words(value: Any, code_labels: dict[str, str]) -> str:
    """A decision's value as people say it: yes or no, a code by the profile's words for it
    (``data.code_labels``), or else the code made readable ("SCREEN_IN": "Screen in")."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    text = str(value)
    if text in code_labels:
        return code_labels[text]
    if CODE.fullmatch(text):
        return text.replace("_", " ").capitalize()
    return text
