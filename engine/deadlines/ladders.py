"""Statutory deadlines armed with their BPMN timers: which profile rule a timer carries, when
its statutory clock started, and the rungs of its escalation ladder (reminders, due, overdue,
escalation) as rows to write with the step that armed it.

The ladder is configuration (``bpmn/profiles/<id>.json``), not code. How deadlines end is
written with each step (``engine.storage.step_writes``); the rungs are raised when their
moment comes (``engine.deadlines.alerts``). An overdue task stays open; the deadline records
when it was missed and when the work was done anyway, which is what the federal timeliness
measures count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.deadlines.profiles import DeadlineRule, Ladder, Profile
from engine.statuses import AlertStatus, DeadlineStatus
from engine.storage import statements
from engine.storage.step_writes import MissedDeadline
from engine.storage.tables import Deadline, ScheduledAlert
from engine.storage.uow import UnitOfWork


@dataclass(frozen=True)
class ArmedTimer:
    """What the deadline machinery needs of a newly armed engine timer."""

    timer_id: uuid.UUID
    bpmn_id: str
    due_at: datetime
    attached_to: uuid.UUID | None
    data: dict[str, Any]


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _rule_for(profile: Profile, timer: ArmedTimer) -> DeadlineRule | None:
    for rule in profile.deadline_rules_for(timer.bpmn_id):
        if all(_lookup(timer.data, field) == expected for field, expected in rule.when):
            return rule
    return None


def _clock_start(rule: DeadlineRule, timer: ArmedTimer, armed_at: datetime) -> datetime:
    if rule.clock_start:
        value = _lookup(timer.data, rule.clock_start)
        if isinstance(value, str):
            try:
                started = datetime.fromisoformat(value)
            except ValueError:
                return armed_at
            if started.tzinfo is not None:
                return started
    return armed_at


def _offset(due_at: datetime, after: timedelta, zone: tzinfo) -> datetime:
    # Whole days count local calendar days (five days before 23:59 is 23:59, across a
    # daylight-saving change too); hours and minutes are elapsed time.
    if after % timedelta(days=1) == timedelta(0):
        return (due_at.astimezone(zone) + after).astimezone(UTC)
    return due_at + after


def ladder_moments(
    ladder: Ladder, started_at: datetime, due_at: datetime, zone: tzinfo = UTC
) -> list[tuple[str, datetime, tuple[str, ...]]]:
    """The ladder's rungs as (kind, when, recipient roles)."""
    span = due_at - started_at
    moments = []
    if ladder.reminders and span >= ladder.reminders_from and span > timedelta(0):
        moments += [
            ("reminder", started_at + span * fraction, ladder.reminder_to)
            for fraction in ladder.reminders
        ]
    moments += [(step.kind, _offset(due_at, step.after, zone), step.to) for step in ladder.steps]
    return moments


def plan(
    profile: Profile,
    case_id: uuid.UUID,
    instance_id: uuid.UUID,
    timers: list[ArmedTimer],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The deadline rows, and the rungs of their ladders, for newly armed timers that a
    profile rule names. Rungs already in the past when armed (a late start) are not scheduled,
    except the due, overdue and escalation rungs, which are raised at the next poll."""
    deadline_rows: list[dict[str, Any]] = []
    alert_rows: list[dict[str, Any]] = []
    for timer in timers:
        rule = _rule_for(profile, timer)
        if rule is None:
            continue
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "case_id": case_id,
            "instance_id": instance_id,
            "timer_id": timer.timer_id,
            "task_id": timer.attached_to,
            "deadline_id": rule.id,
            "title": rule.title,
            "measure": rule.measure,
            "started_at": _clock_start(rule, timer, now),
            "due_at": timer.due_at,
            "status": DeadlineStatus.OPEN,
        }
        deadline_rows.append(row)
        alert_rows += _alert_rows(
            row["id"], row["started_at"], row["due_at"], profile, rule.ladder, now
        )
    return deadline_rows, alert_rows


def schedule(
    session: Session, row: Deadline, profile: Profile, ladder_name: str, now: datetime
) -> None:
    """The ladder of a deadline moved (an extension): its rungs from now on."""
    rows = _alert_rows(row.id, row.started_at, row.due_at, profile, ladder_name, now)
    if rows:
        statements.execute(session, _INSERT_ALERTS, rows)


def _alert_rows(
    deadline_row_id: uuid.UUID,
    started_at: datetime,
    due_at: datetime,
    profile: Profile,
    ladder_name: str,
    now: datetime,
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "deadline_row_id": deadline_row_id,
            "kind": kind,
            "due_at": when,
            "recipients": list(recipients),
            "status": AlertStatus.PENDING,
        }
        for kind, when, recipients in ladder_moments(
            profile.ladders[ladder_name], started_at, due_at, profile.calendar.zone
        )
        if kind != "reminder" or when > now
    ]


_INSERT_ALERTS = insert(ScheduledAlert)


def publish_missed(uow: UnitOfWork, missed: list[MissedDeadline]) -> None:
    """Other systems hear of each deadline missed, as of when it was due."""
    for deadline in missed:
        uow.publish(
            "deadline.missed",
            deadline.due_at,
            case_id=deadline.case_id,
            deadline_id=deadline.deadline_id,
            due_at=deadline.due_at,
            measure=deadline.measure,
        )
