"""Jurisdiction profiles: a time zone, a holiday calendar and the profile's own data
(durations, windows) that processes read, kept as files in ``bpmn/profiles/`` so a second
jurisdiction is a set of files, not a fork."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from jsonschema import Draft202012Validator

from engine.calendars import BusinessCalendar
from engine.errors import Problem

DEFAULT_PROFILE_ID = "default"

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "time_zone"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "name": {"type": "string"},
        "time_zone": {"type": "string"},
        "holidays": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "country": {"type": "string"},
                "subdivision": {"type": "string"},
                "not_observed": {"type": "array", "items": {"type": "string"}},
                "extra_closures": {"type": "array", "items": {"type": "string", "format": "date"}},
            },
        },
        "data": {"type": "object"},
    },
}


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    calendar: BusinessCalendar
    data: dict[str, Any] = field(default_factory=dict)


DEFAULT_PROFILE = Profile(DEFAULT_PROFILE_ID, "Default (UTC, no holidays)", BusinessCalendar("UTC"))


def parse_profile(path: str, content: bytes) -> tuple[Profile | None, list[Problem]]:
    try:
        raw = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, [Problem(path, f"not valid JSON: {exc}")]
    errors = sorted(Draft202012Validator(PROFILE_SCHEMA).iter_errors(raw), key=str)
    if errors:
        return None, [
            Problem(path, f"{'/'.join(map(str, e.absolute_path)) or 'profile'}: {e.message}")
            for e in errors
        ]
    problems: list[Problem] = []
    try:
        ZoneInfo(raw["time_zone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(path, f"unknown time zone {raw['time_zone']!r}"))
    spec = raw.get("holidays", {})
    country = spec.get("country")
    if country is not None:
        try:
            holidays.country_holidays(country, subdiv=spec.get("subdivision"))
        except (NotImplementedError, KeyError) as exc:
            problems.append(Problem(path, f"unknown holiday calendar: {exc}"))
    closures: list[date] = []
    for text in spec.get("extra_closures", []):
        try:
            closures.append(date.fromisoformat(text))
        except ValueError:
            problems.append(Problem(path, f"extra_closures: {text!r} is not a date"))
    if problems:
        return None, problems
    calendar = BusinessCalendar(
        raw["time_zone"],
        country,
        spec.get("subdivision"),
        tuple(closures),
        tuple(spec.get("not_observed", [])),
    )
    return Profile(raw["id"], raw.get("name", raw["id"]), calendar, raw.get("data", {})), []
