"""Statutory deadlines: arm them when their BPMN timer is armed, follow how they end, and
raise the alerts of their escalation ladder at the moments it names.

The ladder is configuration (``bpmn/profiles/<id>.json``), not code. An overdue task stays
open; the deadline records when it was missed and when the work was done anyway, which is what
the federal timeliness measures count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, bindparam, column, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from engine import audit, core_writes, outbox
from engine.context import SYSTEM, EngineContext
from engine.profiles import DeadlineRule, Ladder, Profile
from engine.projections import FIRED, TimerEnding
from engine.tables import (
    Alert,
    AlertRecipient,
    Case,
    Deadline,
    HumanTask,
    ScheduledAlert,
    Team,
    Timer,
    User,
)
from engine.uow import UnitOfWork

OPEN, MET, MISSED, CANCELLED = "open", "met", "missed", "cancelled"
PENDING, RAISED, SKIPPED = "pending", "raised", "skipped"
LEASE = timedelta(seconds=60)


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


def arm(
    session: Session,
    profile: Profile,
    case_id: uuid.UUID,
    instance_id: uuid.UUID,
    timers: list[ArmedTimer],
    now: datetime,
    inserts: core_writes.Inserts,
) -> None:
    """Add deadline rows and their pending alerts to ``inserts`` for newly armed timers that a
    profile rule names. Rungs already in the past when armed (a late start) are not scheduled,
    except the due, overdue and escalation rungs, which are raised at the next poll."""
    deadline_rows: list[dict[str, Any]] = []
    alert_rows: list[dict[str, Any]] = []
    for timer in timers:
        rule = _rule_for(profile, timer)
        if rule is None:
            continue
        row = {
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
            "status": OPEN,
        }
        deadline_rows.append(row)
        alert_rows += _alert_rows(
            row["id"], row["started_at"], row["due_at"], profile, rule.ladder, now
        )
    inserts.add(Deadline, deadline_rows)
    inserts.add(ScheduledAlert, alert_rows)


def schedule(
    session: Session, row: Deadline, profile: Profile, ladder_name: str, now: datetime
) -> None:
    rows = _alert_rows(row.id, row.started_at, row.due_at, profile, ladder_name, now)
    if rows:
        core_writes.execute(session, _INSERT_ALERTS, rows)


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
            "status": PENDING,
        }
        for kind, when, recipients in ladder_moments(
            profile.ladders[ladder_name], started_at, due_at, profile.calendar.zone
        )
        if kind != "reminder" or when > now
    ]


_INSERT_ALERTS = insert(ScheduledAlert)


def end_timers(
    session: Session,
    instance_id: uuid.UUID,
    endings: list[TimerEnding],
    inserts: core_writes.Inserts,
    now: datetime,
) -> list[tuple[uuid.UUID, str]]:
    """Write an engine step's new rows (``inserts``) and end the timer rows the engine stopped
    waiting on. A timer cancelled because its work was done meets its deadline in time, and
    the deadline's pending alerts are cancelled. Returns the (id, element) of timers that
    fired, whose deadlines the caller follows (``timers_fired``).

    This runs on most completions, so on PostgreSQL it is one statement: the endings, the
    deadlines met, the alerts cancelled and the new rows (see ``core_writes.Inserts``).
    """
    if not endings:
        inserts.write(session)
        return []
    if core_writes.dialect(session) == "postgresql":
        rows = inserts.write(
            session,
            then=_END_AND_MEET,
            params={
                "instance": instance_id,
                "now": now,
                "endings": [core_writes.json_row(vars(e)) for e in endings],
            },
        )
        return [(row.id, row.bpmn_id) for row in rows if row.status == FIRED]
    inserts.write(session)
    ended = [
        (row.id, row.bpmn_id, ending.status)
        for ending in endings
        for row in core_writes.execute(
            session,
            _END_TIMER,
            {
                "instance": instance_id,
                "task": ending.task_id,
                "due": ending.due_at,
                "status": ending.status,
                "fired": ending.fired_at,
            },
        )
    ]
    met = [timer_id for timer_id, _, status in ended if status == CANCELLED]
    if met:
        rows_met = core_writes.execute(session, _MET, {"timers": met, "now": now}).scalars().all()
        if rows_met:
            core_writes.execute(session, _CANCEL_ALERTS, {"rows": list(rows_met)})
    return [(timer_id, bpmn_id) for timer_id, bpmn_id, status in ended if status == FIRED]


def timers_fired(session: Session, profile: Profile, fired: list[tuple[uuid.UUID, str]]) -> None:
    """Deadlines whose timer fired are missed."""
    for timer_id, bpmn_id in fired:
        if not profile.deadline_rules_for(bpmn_id):
            continue  # no deadline can hang on a timer no rule names: no need to look
        deadline_row = session.scalar(select(Deadline).where(Deadline.timer_id == timer_id))
        if deadline_row is not None and deadline_row.status == OPEN:
            _miss(session, deadline_row)


# The statements of ``end_timers``, built once (compiled once, not rebuilt per call).
_END_TIMER = (
    update(Timer)
    .where(
        Timer.instance_id == bindparam("instance"),
        Timer.task_id == bindparam("task"),
        Timer.due_at == bindparam("due"),
        Timer.status == PENDING,
    )
    .values(status=bindparam("status"), fired_at=bindparam("fired"), claimed_until=None)
    .returning(Timer.id, Timer.bpmn_id)
)
_MET = (
    update(Deadline)
    .where(Deadline.timer_id.in_(bindparam("timers", expanding=True)), Deadline.status == OPEN)
    .values(status=MET, met_at=bindparam("now"))
    .returning(Deadline.id)
)
_CANCEL_ALERTS = (
    update(ScheduledAlert)
    .where(
        ScheduledAlert.deadline_row_id.in_(bindparam("rows", expanding=True)),
        ScheduledAlert.status == PENDING,
    )
    .values(status=CANCELLED)
)


def _end_and_meet() -> Select[Any]:
    """PostgreSQL's one statement: the endings come as one JSON parameter, so the statement
    is the same whatever their number."""
    endings = (
        func.jsonb_to_recordset(bindparam("endings", type_=JSONB))
        .table_valued(
            column("task_id", Timer.task_id.type),
            column("due_at", Timer.due_at.type),
            column("status", Timer.status.type),
            column("fired_at", Timer.fired_at.type),
        )
        .render_derived(with_types=True)
    )
    ended = (
        update(Timer)
        .where(
            Timer.instance_id == bindparam("instance"),
            Timer.task_id == endings.c.task_id,
            Timer.due_at == endings.c.due_at,
            Timer.status == PENDING,
        )
        .values(status=endings.c.status, fired_at=endings.c.fired_at, claimed_until=None)
        .returning(Timer.id, Timer.bpmn_id, Timer.status)
        .cte("ended")
    )
    met = (
        update(Deadline)
        .where(
            Deadline.timer_id.in_(select(ended.c.id).where(ended.c.status == CANCELLED)),
            Deadline.status == OPEN,
        )
        .values(status=MET, met_at=bindparam("now"))
        .returning(Deadline.id)
        .cte("met")
    )
    alerts = (
        update(ScheduledAlert)
        .where(
            ScheduledAlert.deadline_row_id.in_(select(met.c.id)),
            ScheduledAlert.status == PENDING,
        )
        .values(status=CANCELLED)
        .returning(ScheduledAlert.id)
        .cte("alerts")
    )
    return select(ended.c.id, ended.c.bpmn_id, ended.c.status).add_cte(met).add_cte(alerts)


_END_AND_MEET = _end_and_meet()


def instance_cancelled(session: Session, instance_id: uuid.UUID) -> None:
    """The instance was ended from outside (its case closed): nothing of it is due any more."""
    open_rows = select(Deadline.id).where(
        Deadline.instance_id == instance_id, Deadline.status == OPEN
    )
    session.execute(
        update(ScheduledAlert)
        .where(ScheduledAlert.deadline_row_id.in_(open_rows), ScheduledAlert.status == PENDING)
        .values(status=CANCELLED)
    )
    session.execute(
        update(Deadline)
        .where(Deadline.instance_id == instance_id, Deadline.status == OPEN)
        .values(status=CANCELLED)
    )


def task_completed(session: Session, task_id: uuid.UUID, now: datetime) -> None:
    """A task bounded by a missed deadline was done late: record when."""
    session.execute(
        update(Deadline)
        .where(Deadline.task_id == task_id, Deadline.status == MISSED, Deadline.met_at.is_(None))
        .values(met_at=now)
    )


def _miss(session: Session, deadline_row: Deadline) -> None:
    deadline_row.status = MISSED
    deadline_row.missed_at = deadline_row.due_at
    outbox.publish(
        session,
        "deadline.missed",
        deadline_row.due_at,
        case_id=deadline_row.case_id,
        deadline_id=deadline_row.deadline_id,
        due_at=deadline_row.due_at,
        measure=deadline_row.measure,
    )
    if deadline_row.task_id is not None:
        session.execute(
            update(HumanTask)
            .where(HumanTask.id == deadline_row.task_id, HumanTask.overdue_since.is_(None))
            .values(overdue_since=deadline_row.due_at)
        )


def raise_due_alerts(ctx: EngineContext, *, worker: str, batch: int = 100) -> int:
    """Raise every ladder alert whose moment has come; one unit of work per alert."""
    raised = 0
    while True:
        claimed = _claim_alerts(ctx, batch)
        if not claimed:
            return raised
        for alert_id in claimed:
            raised += _raise_one(ctx, alert_id)


def _claim_alerts(ctx: EngineContext, batch: int) -> list[uuid.UUID]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        due = (
            select(ScheduledAlert.id)
            .where(
                ScheduledAlert.status == PENDING,
                ScheduledAlert.due_at <= now,
                (ScheduledAlert.claimed_until.is_(None)) | (ScheduledAlert.claimed_until < now),
            )
            .order_by(ScheduledAlert.due_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        ids = list(
            uow.session.scalars(
                update(ScheduledAlert)
                .where(ScheduledAlert.id.in_(due.scalar_subquery()))
                .values(claimed_until=now + LEASE)
                .returning(ScheduledAlert.id)
            )
        )
        uow.commit()
    return ids


def _raise_one(ctx: EngineContext, alert_id: uuid.UUID) -> int:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        scheduled = session.get(ScheduledAlert, alert_id, with_for_update=True)
        if scheduled is None or scheduled.status != PENDING:
            return 0
        deadline_row = session.get(Deadline, scheduled.deadline_row_id)
        assert deadline_row is not None
        task = session.get(HumanTask, deadline_row.task_id) if deadline_row.task_id else None
        # Done means completed; a task an interrupting deadline cancelled is the lateness itself.
        work_done = deadline_row.status == MET or (task is not None and task.status == "completed")
        if work_done:
            scheduled.status = SKIPPED
            uow.commit()
            return 0
        if scheduled.kind in ("overdue", "escalation") and deadline_row.status == OPEN:
            _miss(session, deadline_row)
        case = session.get(Case, deadline_row.case_id)
        assert case is not None
        alert = Alert(
            id=uuid.uuid4(),
            kind=scheduled.kind,
            case_id=deadline_row.case_id,
            task_id=deadline_row.task_id,
            deadline_id=deadline_row.deadline_id,
            message=_message(scheduled.kind, deadline_row, case),
            due_at=deadline_row.due_at,
            raised_at=now,
        )
        session.add(alert)
        session.flush()
        for role in scheduled.recipients:
            session.add(
                AlertRecipient(
                    alert_id=alert.id, role=role, user_id=_resolve(session, role, case, task)
                )
            )
        scheduled.status = RAISED
        audit.record(
            session,
            at=now,
            actor_id=SYSTEM.id,
            actor_role=SYSTEM.role,
            action="alert.raised",
            case_id=case.id,
            task_id=deadline_row.task_id,
            kind=scheduled.kind,
            deadline=deadline_row.deadline_id,
            recipients=list(scheduled.recipients),
        )
        outbox.publish(
            session,
            "alert.raised",
            now,
            case_id=case.id,
            alert_id=alert.id,
            kind=scheduled.kind,
            deadline_id=deadline_row.deadline_id,
            due_at=deadline_row.due_at,
            recipients=list(scheduled.recipients),
        )
        uow.commit()
    return 1


def _message(kind: str, deadline_row: Deadline, case: Case) -> str:
    due = deadline_row.due_at.isoformat()
    return {
        "reminder": f"Reminder: {deadline_row.title} for case {case.case_number} is due {due}",
        "due": f"Due now: {deadline_row.title} for case {case.case_number} ({due})",
        "overdue": f"OVERDUE: {deadline_row.title} for case {case.case_number} was due {due}",
        "escalation": (
            f"ESCALATION: {deadline_row.title} for case {case.case_number} is still not done "
            f"(due {due})"
        ),
    }.get(kind, f"{deadline_row.title} ({case.case_number})")


def _resolve(session: Session, role: str, case: Case, task: HumanTask | None) -> str | None:
    """The user a ladder role means for this case: the task's assignee or the case worker, the
    team's supervisor, the unit's program director, the team's attorney."""
    if role == "assignee":
        return (task.assignee if task is not None else None) or case.assigned_to
    team = session.get(Team, case.team) if case.team else None
    if team is None:
        return None
    if role == "supervisor":
        return team.supervisor_id
    candidates = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    for user in candidates:
        if role not in user.roles:
            continue
        if role == "program_director" and user.unit == team.unit:
            return user.id
        if role != "program_director" and user.team_id == team.id:
            return user.id
    return None
