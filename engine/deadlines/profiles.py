"""Jurisdiction profiles: a time zone, a holiday calendar, the statutory periods the diagrams
read by deadline id, the processes the jurisdiction runs, its names for casework's roles, how it
writes dates, and its own data, kept as files in ``bpmn/profiles/`` so a second jurisdiction is
a set of files, not a fork."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import isodate
from jsonschema import Draft202012Validator

from engine.deadlines.calendars import BusinessCalendar
from engine.errors import Problem

DEFAULT_PROFILE_ID = "default"

# A code list: short codes (what forms and records store) to the words people read.
_CODE_TITLES: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,64}$"},
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
}

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
        "default": {
            "type": "boolean",
            "description": "the jurisdiction of a report that names none (one profile at most)",
        },
        "periods": {
            "type": "object",
            "description": "Statutory periods by deadline id, read by the diagrams "
            '(due_after("U03", start)): an ISO 8601 duration, counted in working days when '
            'days is "working", elapsed when it has hours, else in local calendar dates.',
            "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,64}$"},
            "additionalProperties": {
                "type": "object",
                "required": ["duration"],
                "additionalProperties": False,
                "properties": {
                    "duration": {"type": "string"},
                    "days": {"enum": ["calendar", "working"]},
                    "within": {"type": "string"},
                    "note": {"type": "string"},
                },
            },
        },
        "processes": {
            "type": "array",
            "description": "The jurisdiction's own processes (those no profile names are shared); "
            "absent, every process of the bundle.",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
        },
        "intake": {
            "type": "string",
            "description": "The process a new report or referral starts.",
        },
        "roles": {
            "type": "object",
            "description": "The jurisdiction's names for casework's roles: a lane named "
            '"Social worker" is for the role social_worker stands for.',
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "additionalProperties": {
                "type": "object",
                "required": ["title", "role"],
                "additionalProperties": False,
                "properties": {"title": {"type": "string"}, "role": {"type": "string"}},
            },
        },
        "dates": {
            "type": "object",
            "additionalProperties": False,
            "description": "How the jurisdiction writes dates and times on its cases' pages "
            "(strftime layouts).",
            "properties": {"date": {"type": "string"}, "date_time": {"type": "string"}},
        },
        "data": {
            "type": "object",
            "description": "The jurisdiction's own data, read by its processes; the keys "
            "casework itself reads are checked here.",
            "properties": {
                "services": {**_CODE_TITLES, "description": "services providers offer"},
                "document_categories": {**_CODE_TITLES, "description": "kinds of document"},
                "code_labels": {**_CODE_TITLES, "description": "what people call each code"},
                "referral_answer_days": {"type": "integer", "minimum": 1, "maximum": 365},
                "court_report": {"type": "string", "pattern": "^reports/[^/]+\\.html$"},
            },
        },
        "records": {
            "type": "object",
            "additionalProperties": False,
            "description": "Records practice: an entry typed longer than late_entry_after after "
            "the event is marked late; an event time more than future_tolerance ahead of the "
            "clock is refused (ISO durations).",
            "properties": {
                "late_entry_after": {"type": "string"},
                "future_tolerance": {"type": "string"},
            },
        },
        "retention": {
            "type": "object",
            "additionalProperties": False,
            "description": "Records retention (ISO 8601 durations, counted from the case's "
            "closing): when a closed case's finished process instances give up their engine "
            "state (the record, its audit trail and documents stay), and when a closed case "
            "whose decision says its report was unsubstantiated is soft-expunged (kept for risk "
            "history, out of public and background-check use).",
            "properties": {
                "compact_engine_state_after": {"type": "string"},
                "expunction": {
                    "type": "object",
                    "required": ["after", "decision_output", "unsubstantiated"],
                    "additionalProperties": False,
                    "properties": {
                        "after": {"type": "string"},
                        "decision_output": {
                            "type": "string",
                            "minLength": 1,
                            "description": "the decision table output that holds the finding",
                        },
                        "unsubstantiated": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1},
                            "minItems": 1,
                            "uniqueItems": True,
                        },
                        "note": {"type": "string"},
                    },
                },
                "note": {"type": "string"},
            },
        },
        "ladders": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "reminders": {
                        "type": "array",
                        "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                    },
                    "reminders_from": {"type": "string"},
                    "reminder_to": {"type": "array", "items": {"type": "string"}},
                    "steps": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kind", "to"],
                            "additionalProperties": False,
                            "properties": {
                                "kind": {"enum": ["reminder", "due", "overdue", "escalation"]},
                                "after": {"type": "string"},
                                "to": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                            },
                        },
                    },
                },
            },
        },
        "deadlines": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["timer", "ladder", "title"],
                "additionalProperties": False,
                "properties": {
                    "timer": {"type": "string"},
                    "ladder": {"type": "string"},
                    "title": {"type": "string"},
                    "measure": {"type": "string"},
                    "clock_start": {"type": "string"},
                    "when": {"type": "object"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class LadderStep:
    kind: str
    after: timedelta
    to: tuple[str, ...]


@dataclass(frozen=True)
class Ladder:
    """DOMAIN §3's escalation ladder as data: reminders at fractions of the duration (for
    durations of at least ``reminders_from``), then steps relative to the due moment (a negative
    ``after`` is before it: a reminder five days ahead is ``{"kind": "reminder",
    "after": "-P5D"}``)."""

    reminders: tuple[float, ...] = ()
    reminders_from: timedelta = timedelta(0)
    reminder_to: tuple[str, ...] = ("assignee",)
    steps: tuple[LadderStep, ...] = ()


@dataclass(frozen=True)
class DeadlineRule:
    """Which BPMN timer is which statutory clock (T06, T13…), and how it escalates."""

    id: str
    timer: str
    ladder: str
    title: str
    measure: str | None = None
    clock_start: str | None = None
    when: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class RecordRules:
    """When an entry counts as late, and how far ahead of the clock an event may be dated
    (clocks of phones and laptops differ by minutes, not by days)."""

    late_entry_after: timedelta = timedelta(hours=24)
    future_tolerance: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class Expunction:
    """A closed case is soft-expunged ``after`` its closing when the newest decision that set
    ``decision_output`` gave one of the ``unsubstantiated`` values (DOMAIN §5 rule 5)."""

    after: str  # ISO 8601, months and years allowed
    decision_output: str
    unsubstantiated: frozenset[str]


@dataclass(frozen=True)
class Retention:
    """How long a closed case keeps what only running work needs: its finished instances'
    engine state (None: kept for good), and when an unsubstantiated one is expunged."""

    compact_engine_state_after: str | None = None  # ISO 8601, months and years allowed
    expunction: Expunction | None = None


@dataclass(frozen=True)
class Period:
    """A statutory period: ``duration`` (ISO 8601) counted in working days, in elapsed time
    (a duration with hours: 24 hours is 24 real hours) or in local calendar dates; ``within``
    is a window some counters take (15 months *within* 22)."""

    duration: str
    working_days: bool = False
    within: str | None = None

    @property
    def elapsed(self) -> bool:
        return "T" in self.duration


@dataclass(frozen=True)
class DateLayouts:
    """How a jurisdiction writes a date, and a date with its time (strftime layouts)."""

    date: str = "%a %d %b %Y"
    date_time: str = "%a %d %b %Y %H:%M"


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    calendar: BusinessCalendar
    data: dict[str, Any] = field(default_factory=dict)
    ladders: dict[str, Ladder] = field(default_factory=dict)
    deadlines: tuple[DeadlineRule, ...] = ()
    records: RecordRules = RecordRules()
    periods: tuple[tuple[str, Period], ...] = ()
    processes: tuple[str, ...] | None = None  # None: every process of the bundle
    intake: str | None = None
    roles: tuple[tuple[str, str, str], ...] = ()  # (name, title, casework role)
    dates: DateLayouts = DateLayouts()
    default: bool = False
    retention: Retention = Retention()

    @cached_property
    def period_by_id(self) -> dict[str, Period]:
        return dict(self.periods)

    def owns(self, process_id: str) -> bool:
        """Whether the jurisdiction names this process as its own (every process, when it
        names none; processes no profile names are shared, see the compiled bundle)."""
        return self.processes is None or process_id in self.processes

    def role_title(self, role: str) -> str | None:
        """What the jurisdiction calls one of casework's roles, if it names it."""
        return next((title for _, title, r in self.roles if r == role), None)

    def deadline_rules_for(self, timer_bpmn_id: str) -> list[DeadlineRule]:
        return [rule for rule in self.deadlines if rule.timer == timer_bpmn_id]

    @cached_property
    def deadline_timers(self) -> frozenset[str]:
        """The BPMN timers a statutory deadline may hang on."""
        return frozenset(rule.timer for rule in self.deadlines)

    def has_deadline_rules(self, timer_bpmn_id: str) -> bool:
        return timer_bpmn_id in self.deadline_timers


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
    ladders = _ladders(path, raw.get("ladders", {}), problems)
    periods = _periods(path, raw.get("periods", {}), problems)
    deadlines = _deadlines(path, raw.get("deadlines", {}), ladders, problems)
    records = _record_rules(path, raw.get("records", {}), problems)
    retention = _retention(path, raw.get("retention", {}), problems)
    if problems:
        return None, problems
    calendar = BusinessCalendar(
        raw["time_zone"],
        country,
        spec.get("subdivision"),
        tuple(closures),
        tuple(spec.get("not_observed", [])),
    )
    profile = Profile(
        raw["id"],
        raw.get("name", raw["id"]),
        calendar,
        raw.get("data", {}),
        ladders,
        deadlines,
        records,
        periods,
        tuple(raw["processes"]) if "processes" in raw else None,
        raw.get("intake"),
        tuple((name, spec["title"], spec["role"]) for name, spec in raw.get("roles", {}).items()),
        DateLayouts(**raw.get("dates", {})),
        bool(raw.get("default", False)),
        retention,
    )
    return profile, []


def _periods(
    path: str, raw: dict[str, Any], problems: list[Problem]
) -> tuple[tuple[str, Period], ...]:
    periods = []
    for deadline_id, spec in sorted(raw.items()):
        where = f"periods/{deadline_id}"
        text = spec["duration"]
        try:
            value = isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError):
            problems.append(Problem(path, f"{where}: {text!r} is not an ISO 8601 duration"))
            continue
        working = spec.get("days") == "working"
        only_days = isinstance(value, timedelta) and "T" not in text and "W" not in text
        if working and not only_days:
            problems.append(
                Problem(path, f"{where}: working days count whole days; write {text!r} in days")
            )
        if "T" in text and isinstance(value, isodate.Duration):
            problems.append(
                Problem(path, f"{where}: {text!r} mixes months and hours; use one or the other")
            )
        within = spec.get("within")
        if within is not None:
            try:
                isodate.parse_duration(within)
            except (isodate.ISO8601Error, ValueError):
                problems.append(Problem(path, f"{where}/within: {within!r} is not a duration"))
        periods.append((deadline_id, Period(text, working, within)))
    return tuple(periods)


def _record_rules(path: str, raw: dict[str, Any], problems: list[Problem]) -> RecordRules:
    default = RecordRules()
    return RecordRules(
        _duration(path, "records/late_entry_after", raw["late_entry_after"], problems)
        if "late_entry_after" in raw
        else default.late_entry_after,
        _duration(path, "records/future_tolerance", raw["future_tolerance"], problems)
        if "future_tolerance" in raw
        else default.future_tolerance,
    )


def _retention(path: str, raw: dict[str, Any], problems: list[Problem]) -> Retention:
    compact = raw.get("compact_engine_state_after")
    if compact is not None:
        _calendar_duration(path, "retention/compact_engine_state_after", compact, problems)
    spec = raw.get("expunction")
    expunction = None
    if spec is not None:
        _calendar_duration(path, "retention/expunction/after", spec["after"], problems)
        expunction = Expunction(
            spec["after"], spec["decision_output"], frozenset(spec["unsubstantiated"])
        )
    return Retention(compact, expunction)


def _calendar_duration(path: str, where: str, text: str, problems: list[Problem]) -> None:
    """A retention period: an ISO 8601 duration, zero or more, in years and months too."""
    try:
        value = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError):
        problems.append(Problem(path, f"{where}: {text!r} is not an ISO 8601 duration"))
        return
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    if origin + value < origin:
        problems.append(Problem(path, f"{where}: {text!r} is negative; a period runs forward"))


def _duration(path: str, where: str, text: str, problems: list[Problem]) -> timedelta:
    """A fixed-length ISO duration (hours, minutes, days of 24 h)."""
    try:
        value = isodate.parse_duration(text.lstrip("-"))
    except (isodate.ISO8601Error, ValueError):
        problems.append(Problem(path, f"{where}: {text!r} is not an ISO 8601 duration"))
        return timedelta(0)
    if isinstance(value, isodate.Duration):
        problems.append(Problem(path, f"{where}: {text!r} has months or years; use days"))
        return timedelta(0)
    return -value if text.startswith("-") else value


def _ladders(path: str, raw: dict[str, Any], problems: list[Problem]) -> dict[str, Ladder]:
    ladders = {}
    for name, spec in raw.items():
        steps = tuple(
            LadderStep(
                step["kind"],
                _duration(
                    path, f"ladders/{name}/steps/{i}/after", step.get("after", "PT0S"), problems
                ),
                tuple(step["to"]),
            )
            for i, step in enumerate(spec.get("steps", []))
        )
        ladders[name] = Ladder(
            tuple(spec.get("reminders", [])),
            _duration(
                path, f"ladders/{name}/reminders_from", spec.get("reminders_from", "PT0S"), problems
            ),
            tuple(spec.get("reminder_to", ["assignee"])),
            steps,
        )
    return ladders


def _deadlines(
    path: str, raw: dict[str, Any], ladders: dict[str, Ladder], problems: list[Problem]
) -> tuple[DeadlineRule, ...]:
    rules = []
    for deadline_id, spec in raw.items():
        if spec["ladder"] not in ladders:
            problems.append(Problem(path, f"deadlines/{deadline_id}: no ladder {spec['ladder']!r}"))
        rules.append(
            DeadlineRule(
                deadline_id,
                spec["timer"],
                spec["ladder"],
                spec["title"],
                spec.get("measure"),
                spec.get("clock_start"),
                tuple(sorted(spec.get("when", {}).items())),
            )
        )
    return tuple(rules)


def setting(profile: Profile | None, key: str, default: Any) -> Any:
    """A profile's ``data`` entry, or ``default`` when there is no profile or no such entry."""
    return profile.data.get(key, default) if profile is not None else default
