"""Write the read-side tables from engine snapshots, in the caller's transaction.

After every engine run the instance's human tasks, timers and awaited messages are made equal
to what the engine holds, so worklists, dashboards and the scheduler read indexed rows only.
The change is computed by comparing the snapshot taken before the run with the one after, so
a step costs inserts and updates of what changed, and no reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from engine import core_writes, outbox
from engine.assignment import assign_new_tasks
from engine.spiff.runtime import Snapshot, TimerView
from engine.tables import AwaitedMessage, Case, HumanTask, ProcessInstance, Timer

READY, COMPLETED, CANCELLED = "ready", "completed", "cancelled"
PENDING, FIRED = "pending", "fired"

EMPTY = Snapshot([], [], [], False, [])


def sync_human_tasks(
    session: Session,
    case: Case,
    instance: ProcessInstance,
    before: Snapshot,
    after: Snapshot,
    now: datetime,
    inserts: core_writes.Inserts,
    *,
    completed: uuid.UUID | None = None,
) -> list[dict[str, object]]:
    """Add the newly ready tasks to ``inserts``, close the ones that left READY. Returns the
    new rows.

    ``completed`` is the task a user just completed (its row was closed by the caller).
    """
    was_ready = {t.id: t for t in before.ready_tasks}
    is_ready = {t.id: t for t in after.ready_tasks}
    created: list[dict[str, object]] = []
    for task in after.ready_tasks:
        if task.id in was_ready:
            if was_ready[task.id].due_at != task.due_at:
                session.execute(
                    update(HumanTask)
                    .where(HumanTask.id == task.id)
                    .values(due_at=task.due_at, version=HumanTask.version + 1)
                )
            continue
        created.append(
            {
                "id": task.id,
                "instance_id": instance.id,
                "case_id": instance.case_id,
                "process_id": task.process_id,
                "bpmn_id": task.bpmn_id,
                "name": task.name,
                "role": task.lane,
                "assignee": None,
                "team": case.team,
                "status": READY,
                "created_at": now,
                "due_at": task.due_at,
                "version": 1,
            }
        )
    if created:
        assign_new_tasks(session, case, created)
        # Plain rows, not one ORM object per row: this runs on every engine step.
        inserts.add(HumanTask, created)
        for row in created:
            outbox.publish(
                session,
                "task.created",
                now,
                case_id=instance.case_id,
                task_id=row["id"],
                process_id=row["process_id"],
                element_id=row["bpmn_id"],
                name=row["name"],
                role=row["role"],
                assignee=row["assignee"],
                due_at=row["due_at"],
            )
    # Left READY without a user completing it: an interrupting event or an end event
    # cancelled it.
    gone = [task_id for task_id in was_ready if task_id not in is_ready and task_id != completed]
    if gone:
        session.execute(
            update(HumanTask)
            .where(HumanTask.id.in_(gone), HumanTask.status == READY)
            # A draft lives only while its task is open (it may hold what the record
            # redacts, and nobody will finish it now).
            .values(
                status=CANCELLED,
                completed_at=now,
                version=HumanTask.version + 1,
                draft=None,
                draft_saved_by=None,
            )
        )
    return created


@dataclass(frozen=True)
class TimerEnding:
    """A pending timer row the engine no longer waits on: it fired if its time had come, and
    was cancelled otherwise (its task finished first)."""

    task_id: uuid.UUID
    due_at: datetime
    status: str
    fired_at: datetime | None


def sync_timers(
    session: Session,
    instance: ProcessInstance,
    before: Snapshot,
    after: Snapshot,
    now: datetime,
    inserts: core_writes.Inserts,
) -> tuple[list[dict[str, Any]], list[tuple[uuid.UUID, str]], list[TimerEnding]]:
    """Make the timer rows follow the timers the engine waits on. New rows go to ``inserts``;
    returns them, the (id, element) of those born fired, and the endings of pending rows, which
    the caller writes (deadlines.end_timers) with what hangs on them. A cycle timer gets one
    row per occurrence.
    """
    was = {(t.task_id, t.due_at) for t in before.timers}
    now_waiting = {(t.task_id, t.due_at) for t in after.timers}
    created: list[dict[str, Any]] = [
        _timer_row(instance, timer, now)
        for timer in after.timers
        if (timer.task_id, timer.due_at) not in was
    ]
    # Timers armed already past due fired in the run that armed them: recorded as fired, so
    # their deadlines are armed and missed like any other.
    seen = {t.task_id for t in before.timers} | {t.task_id for t in before.fired_timers}
    born_fired = [
        {**_timer_row(instance, timer, now), "status": FIRED, "fired_at": now}
        for timer in after.fired_timers
        if timer.task_id not in seen
    ]
    inserts.add(Timer, created + born_fired)
    for row in born_fired:
        outbox.publish(
            session,
            "timer.fired",
            now,
            case_id=instance.case_id,
            instance_id=instance.id,
            element_id=row["bpmn_id"],
            due_at=row["due_at"],
        )
    endings = [
        TimerEnding(task_id, due_at, FIRED, now)
        if due_at <= now
        else TimerEnding(task_id, due_at, CANCELLED, None)
        for task_id, due_at in was - now_waiting
    ]
    return created + born_fired, [(row["id"], row["bpmn_id"]) for row in born_fired], endings


def _timer_row(instance: ProcessInstance, timer: TimerView, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "instance_id": instance.id,
        "case_id": instance.case_id,
        "task_id": timer.task_id,
        "bpmn_id": timer.bpmn_id,
        "name": timer.name,
        "kind": timer.kind,
        "attached_to": timer.attached_to,
        "interrupting": timer.interrupting,
        "due_at": timer.due_at,
        "status": PENDING,
        "created_at": now,
    }


def sync_awaited_messages(
    session: Session, instance: ProcessInstance, before: Snapshot, after: Snapshot
) -> None:
    old, new = set(before.awaited_messages), set(after.awaited_messages)
    if old - new:
        session.execute(
            delete(AwaitedMessage).where(
                AwaitedMessage.instance_id == instance.id,
                AwaitedMessage.message_name.in_(old - new),
            )
        )
    if new - old:
        session.execute(
            insert(AwaitedMessage),
            [
                {"instance_id": instance.id, "message_name": name, "case_id": instance.case_id}
                for name in sorted(new - old)
            ],
        )
