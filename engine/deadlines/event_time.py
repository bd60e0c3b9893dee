"""Deadlines judged by when the work happened, not when it was typed.

The clock fires a deadline's timer at its due instant; if the work is still not entered then,
the deadline is missed and its task goes overdue. When the work is entered, its record says
when it really happened (DESIGN: "the record keeps two clocks"): a contact made 30 minutes
before the deadline and typed an hour after it met the deadline, as a late entry. An amended
event time judges the deadline again. Either change is audited and published, so the case
page, the dashboard's measures and other systems agree and see why."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select

from engine.context import Actor
from engine.deadlines.calendars import BusinessCalendar
from engine.statuses import DeadlineStatus
from engine.storage.tables import Deadline
from engine.storage.uow import UnitOfWork


def judge_by_event_time(
    uow: UnitOfWork,
    *,
    task_id: uuid.UUID,
    happened_at: datetime,
    happened_on: date | None,
    entered_at: datetime,
    calendar: BusinessCalendar,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
) -> list[Deadline]:
    """Judge the deadlines the task's work answered by its event time; returns those whose
    outcome changed."""
    changed = []
    for deadline in uow.session.scalars(
        select(Deadline)
        .where(
            Deadline.task_id == task_id,
            Deadline.status.in_([DeadlineStatus.MET, DeadlineStatus.MISSED]),
        )
        # The step's own statements ended them a moment ago, behind the session's back.
        .execution_options(populate_existing=True)
    ):
        in_time = (
            happened_on <= calendar.local_date(deadline.due_at)
            if happened_on is not None
            else happened_at <= deadline.due_at
        )
        before = deadline.status
        deadline.status = DeadlineStatus.MET if in_time else DeadlineStatus.MISSED
        deadline.met_at = happened_at
        deadline.entered_at = entered_at
        if deadline.status == DeadlineStatus.MISSED and deadline.missed_at is None:
            deadline.missed_at = deadline.due_at
        if deadline.status != before:
            changed.append(deadline)
            _report(uow, deadline, before, actor, now or entered_at, reason)
    return changed


def _report(
    uow: UnitOfWork,
    deadline: Deadline,
    before: str,
    actor: Actor,
    now: datetime,
    reason: str,
) -> None:
    assert deadline.met_at is not None
    uow.audit(
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="deadline.recomputed",
        case_id=deadline.case_id,
        deadline=deadline.deadline_id,
        due_at=deadline.due_at.isoformat(),
        previous_status=before,
        status=deadline.status,
        happened_at=deadline.met_at.isoformat(),
        reason=reason,
    )
    uow.publish(
        "deadline.recomputed",
        now,
        case_id=deadline.case_id,
        deadline_id=deadline.deadline_id,
        due_at=deadline.due_at,
        status=deadline.status,
        met_at=deadline.met_at,
        previous_status=before,
        measure=deadline.measure,
    )
