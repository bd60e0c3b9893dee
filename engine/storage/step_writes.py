"""Every statement of an engine step, in one place: the rows a step creates (tasks, timers,
deadlines and the rungs of their ladders), the tasks it moves or cancels, the timers it ends
(a timer ended because its work was done meets its deadline, and cancels what is left of the
deadline's ladder; one that fired misses it), and the messages its instance now awaits.

A step runs on every completion, so its round trips are kept down: on PostgreSQL the new rows
and the endings (with the deadlines met and the alerts cancelled) are one statement, a chain of
data-modifying CTEs; elsewhere they are plain statements, one each. This is the only module
with a path of its own per database (besides ``statements``, which it builds on); the
integration tests run both, CI on PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, column, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from engine.spiff.steps import TimerEnding
from engine.statuses import (
    AlertStatus,
    DeadlineStatus,
    InstanceStatus,
    TaskStatus,
    TimerStatus,
)
from engine.storage import statements
from engine.storage.tables import (
    AwaitedMessage,
    Deadline,
    FinishedTask,
    HumanTask,
    ProcessInstance,
    ScheduledAlert,
    Timer,
)
from engine.storage.uow import UnitOfWork


@dataclass
class StepRows:
    """What one step writes, as rows and ids (planned by ``engine.instances.settling``)."""

    instance_id: uuid.UUID
    case_id: uuid.UUID
    tasks: list[dict[str, Any]] = field(default_factory=list)
    task_dues: list[tuple[uuid.UUID, datetime | None]] = field(default_factory=list)
    tasks_cancelled: list[uuid.UUID] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)  # pending, or born fired
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    scheduled_alerts: list[dict[str, Any]] = field(default_factory=list)
    timers_ended: list[TimerEnding] = field(default_factory=list)
    messages_awaited: list[str] = field(default_factory=list)
    messages_no_longer_awaited: list[str] = field(default_factory=list)
    # The instance's finished tasks (engine.spiff.state_json): rows to add, and to remove
    # first (all of them when ``finished_replaced``).
    finished_tasks: list[dict[str, Any]] = field(default_factory=list)
    finished_removed: list[uuid.UUID] = field(default_factory=list)
    finished_replaced: bool = False
    # The elements whose timers a deadline may hang on: only their firing is looked up.
    deadline_timers: frozenset[str] = frozenset()
    # A task done after its deadline was missed: the deadline records when it was done.
    completed_late: uuid.UUID | None = None


@dataclass(frozen=True)
class MissedDeadline:
    id: uuid.UUID
    case_id: uuid.UUID
    deadline_id: str
    due_at: datetime
    measure: str | None
    task_id: uuid.UUID | None


def write_step(uow: UnitOfWork, rows: StepRows, now: datetime) -> list[MissedDeadline]:
    """Write a step; returns the deadlines it missed (their events are the caller's)."""
    session = uow.session
    session.flush()  # the instance row first: everything below refers to it
    _remove_finished(session, rows.instance_id, rows.finished_removed, rows.finished_replaced)
    for task_id, due_at in rows.task_dues:
        session.execute(_MOVE_TASK, {"task": task_id, "due": due_at})
    if rows.tasks_cancelled:
        session.execute(_CANCEL_TASKS, {"tasks": rows.tasks_cancelled, "now": now})
    inserts = statements.Inserts()
    inserts.add(FinishedTask, rows.finished_tasks)
    inserts.add(HumanTask, rows.tasks)
    inserts.add(Timer, rows.timers)
    inserts.add(Deadline, rows.deadlines)
    inserts.add(ScheduledAlert, rows.scheduled_alerts)
    fired = _write_and_end(uow, inserts, rows.instance_id, rows.timers_ended, now)
    fired += [
        (row["id"], row["bpmn_id"]) for row in rows.timers if row["status"] == TimerStatus.FIRED
    ]
    _follow_messages(uow, rows)
    if rows.completed_late is not None:
        session.execute(_DONE_LATE, {"task": rows.completed_late, "now": now})
    watched = [timer_id for timer_id, bpmn_id in fired if bpmn_id in rows.deadline_timers]
    return miss_deadlines(uow, Deadline.timer_id.in_(watched)) if watched else []


def write_finished_tasks(
    uow: UnitOfWork,
    instance_id: uuid.UUID,
    added: list[dict[str, Any]],
    removed: list[uuid.UUID],
    replaced: bool,
) -> None:
    """An instance's finished-task rows changed outside a step (a timer moved)."""
    _remove_finished(uow.session, instance_id, removed, replaced)
    if added:
        statements.execute(uow.session, insert(FinishedTask), added)


def _remove_finished(
    session: Session, instance_id: uuid.UUID, removed: list[uuid.UUID], replaced: bool
) -> None:
    if replaced:
        session.execute(delete(FinishedTask).where(FinishedTask.instance_id == instance_id))
    elif removed:
        session.execute(
            delete(FinishedTask).where(
                FinishedTask.instance_id == instance_id, FinishedTask.task_id.in_(removed)
            )
        )


def miss_deadlines(uow: UnitOfWork, which: Any) -> list[MissedDeadline]:
    """Open deadlines (``which``) missed: their tasks stay open, overdue since the deadline."""
    missed = [
        MissedDeadline(*row)
        for row in uow.session.execute(
            update(Deadline)
            .where(which, Deadline.status == DeadlineStatus.OPEN)
            .values(status=DeadlineStatus.MISSED, missed_at=Deadline.due_at)
            .returning(
                Deadline.id,
                Deadline.case_id,
                Deadline.deadline_id,
                Deadline.due_at,
                Deadline.measure,
                Deadline.task_id,
            )
            .execution_options(synchronize_session=False)
        )
    ]
    overdue = [{"task": m.task_id, "since": m.due_at} for m in missed if m.task_id is not None]
    if overdue:
        statements.execute(uow.session, _OVERDUE, overdue)
    return missed


def cancel_instance(uow: UnitOfWork, instance_id: uuid.UUID, now: datetime) -> None:
    """An instance ended from outside (its case closed): its open tasks, timers, awaited
    messages and the deadlines hanging on them end where they stand."""
    session = uow.session
    session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .values(
            status=InstanceStatus.CANCELLED,
            completed_at=now,
            updated_at=now,
            next_timer_due_at=None,
        )
    )
    session.execute(
        update(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.status == TaskStatus.READY)
        .values(
            status=TaskStatus.CANCELLED,
            completed_at=now,
            version=HumanTask.version + 1,
            draft=None,
            draft_saved_by=None,
        )
    )
    session.execute(
        update(Timer)
        .where(Timer.instance_id == instance_id, Timer.status == TimerStatus.PENDING)
        .values(status=TimerStatus.CANCELLED, claimed_until=None)
    )
    session.execute(delete(AwaitedMessage).where(AwaitedMessage.instance_id == instance_id))
    open_rows = select(Deadline.id).where(
        Deadline.instance_id == instance_id, Deadline.status == DeadlineStatus.OPEN
    )
    session.execute(
        update(ScheduledAlert)
        .where(
            ScheduledAlert.deadline_row_id.in_(open_rows),
            ScheduledAlert.status == AlertStatus.PENDING,
        )
        .values(status=AlertStatus.CANCELLED)
    )
    session.execute(
        update(Deadline)
        .where(Deadline.instance_id == instance_id, Deadline.status == DeadlineStatus.OPEN)
        .values(status=DeadlineStatus.CANCELLED)
    )


# -- internals ----------------------------------------------------------------------------


def _write_and_end(
    uow: UnitOfWork,
    inserts: statements.Inserts,
    instance_id: uuid.UUID,
    endings: list[TimerEnding],
    now: datetime,
) -> list[tuple[uuid.UUID, str]]:
    """The new rows, then the endings; returns the (id, element) of the timers that fired."""
    session = uow.session
    if not endings:
        inserts.write(session)
        return []
    if uow.dialect == "postgresql":
        rows = inserts.write(
            session,
            then=_END_AND_MEET,
            params={
                "instance": instance_id,
                "now": now,
                "endings": [statements.json_row(vars(e)) for e in endings],
            },
        )
        return [(row.id, row.bpmn_id) for row in rows if row.status == TimerStatus.FIRED]
    inserts.write(session)
    ended = [
        (row.id, row.bpmn_id, ending.status)
        for ending in endings
        for row in statements.execute(
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
    met = [timer_id for timer_id, _, status in ended if status == TimerStatus.CANCELLED]
    if met:
        rows_met = statements.execute(session, _MET, {"timers": met, "now": now}).scalars().all()
        if rows_met:
            statements.execute(session, _CANCEL_ALERTS, {"rows": list(rows_met)})
    return [(t, bpmn_id) for t, bpmn_id, status in ended if status == TimerStatus.FIRED]


def _follow_messages(uow: UnitOfWork, rows: StepRows) -> None:
    session = uow.session
    if rows.messages_no_longer_awaited:
        session.execute(
            delete(AwaitedMessage).where(
                AwaitedMessage.instance_id == rows.instance_id,
                AwaitedMessage.message_name.in_(rows.messages_no_longer_awaited),
            )
        )
    if rows.messages_awaited:
        session.execute(
            insert(AwaitedMessage),
            [
                {"instance_id": rows.instance_id, "message_name": name, "case_id": rows.case_id}
                for name in rows.messages_awaited
            ],
        )


# The statements, built once (compiled once, not rebuilt per call).
_MOVE_TASK = (
    update(HumanTask)
    .where(HumanTask.id == bindparam("task"))
    .values(due_at=bindparam("due"), version=HumanTask.version + 1)
    .execution_options(synchronize_session=False)
)
_CANCEL_TASKS = (
    update(HumanTask)
    .where(
        HumanTask.id.in_(bindparam("tasks", expanding=True)),
        HumanTask.status == TaskStatus.READY,
    )
    # A draft lives only while its task is open (it may hold what the record redacts, and
    # nobody will finish it now).
    .values(
        status=TaskStatus.CANCELLED,
        completed_at=bindparam("now"),
        version=HumanTask.version + 1,
        draft=None,
        draft_saved_by=None,
    )
    .execution_options(synchronize_session=False)
)
_DONE_LATE = (
    update(Deadline)
    .where(
        Deadline.task_id == bindparam("task"),
        Deadline.status == DeadlineStatus.MISSED,
        Deadline.met_at.is_(None),
    )
    .values(met_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)
_OVERDUE = (
    update(HumanTask)
    .where(HumanTask.id == bindparam("task"), HumanTask.overdue_since.is_(None))
    .values(overdue_since=bindparam("since"))
)
_END_TIMER = (
    update(Timer)
    .where(
        Timer.instance_id == bindparam("instance"),
        Timer.task_id == bindparam("task"),
        Timer.due_at == bindparam("due"),
        Timer.status == TimerStatus.PENDING,
    )
    .values(status=bindparam("status"), fired_at=bindparam("fired"), claimed_until=None)
    .returning(Timer.id, Timer.bpmn_id)
)
_MET = (
    update(Deadline)
    .where(
        Deadline.timer_id.in_(bindparam("timers", expanding=True)),
        Deadline.status == DeadlineStatus.OPEN,
    )
    .values(status=DeadlineStatus.MET, met_at=bindparam("now"))
    .returning(Deadline.id)
)
_CANCEL_ALERTS = (
    update(ScheduledAlert)
    .where(
        ScheduledAlert.deadline_row_id.in_(bindparam("rows", expanding=True)),
        ScheduledAlert.status == AlertStatus.PENDING,
    )
    .values(status=AlertStatus.CANCELLED)
)


def _end_and_meet() -> Select[Any]:
    """PostgreSQL's one statement for the endings: they come as one JSON parameter, so the
    statement is the same whatever their number (and the new rows ride in its WITH clause)."""
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
            Timer.status == TimerStatus.PENDING,
        )
        .values(status=endings.c.status, fired_at=endings.c.fired_at, claimed_until=None)
        .returning(Timer.id, Timer.bpmn_id, Timer.status)
        .cte("ended")
    )
    met = (
        update(Deadline)
        .where(
            Deadline.timer_id.in_(
                select(ended.c.id).where(ended.c.status == TimerStatus.CANCELLED)
            ),
            Deadline.status == DeadlineStatus.OPEN,
        )
        .values(status=DeadlineStatus.MET, met_at=bindparam("now"))
        .returning(Deadline.id)
        .cte("met")
    )
    alerts = (
        update(ScheduledAlert)
        .where(
            ScheduledAlert.deadline_row_id.in_(select(met.c.id)),
            ScheduledAlert.status == AlertStatus.PENDING,
        )
        .values(status=AlertStatus.CANCELLED)
        .returning(ScheduledAlert.id)
        .cte("alerts")
    )
    return select(ended.c.id, ended.c.bpmn_id, ended.c.status).add_cte(met).add_cte(alerts)


_END_AND_MEET = _end_and_meet()
