"""Write the read-side tables from an engine snapshot, in the caller's transaction.

After every engine run the instance's human tasks, timers and awaited messages are made equal
to what the engine holds, so worklists, dashboards and the scheduler read indexed rows only.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.spiff.runtime import Snapshot
from engine.tables import AwaitedMessage, HumanTask, ProcessInstance, Timer

READY, COMPLETED, CANCELLED = "ready", "completed", "cancelled"
PENDING, FIRED = "pending", "fired"


def sync_human_tasks(
    session: Session, instance: ProcessInstance, snapshot: Snapshot, now: datetime
) -> list[HumanTask]:
    """Insert newly ready tasks; close the ones that left READY. Returns the new rows."""
    open_rows = {
        row.id: row
        for row in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == READY)
        )
    }
    created = []
    for task in snapshot.ready_tasks:
        row = open_rows.pop(task.id, None)
        if row is None:
            row = session.get(HumanTask, task.id)
        if row is None:
            row = HumanTask(
                id=task.id,
                instance_id=instance.id,
                case_id=instance.case_id,
                process_id=task.process_id,
                bpmn_id=task.bpmn_id,
                name=task.name,
                role=task.lane,
                status=READY,
                created_at=now,
                due_at=task.due_at,
                version=1,
            )
            session.add(row)
            created.append(row)
        elif row.due_at != task.due_at:
            row.due_at = task.due_at
            row.version += 1
    for row in open_rows.values():
        # It left READY without a completion by a user: an interrupting event or an end
        # event cancelled it.
        row.status = CANCELLED
        row.completed_at = now
        row.version += 1
    return created


def sync_timers(
    session: Session, instance: ProcessInstance, snapshot: Snapshot, now: datetime
) -> list[Timer]:
    """Make the pending timer rows equal to the timers the engine waits on.

    A pending row the engine no longer waits on fired if its time had come, and was cancelled
    otherwise (its task finished first). A cycle timer gets one row per occurrence.
    """
    pending = {
        (row.task_id, row.due_at): row
        for row in session.scalars(
            select(Timer).where(Timer.instance_id == instance.id, Timer.status == PENDING)
        )
    }
    created = []
    for timer in snapshot.timers:
        if pending.pop((timer.task_id, timer.due_at), None) is not None:
            continue
        row = Timer(
            id=uuid.uuid4(),
            instance_id=instance.id,
            case_id=instance.case_id,
            task_id=timer.task_id,
            bpmn_id=timer.bpmn_id,
            name=timer.name,
            kind=timer.kind,
            attached_to=timer.attached_to,
            interrupting=timer.interrupting,
            due_at=timer.due_at,
            status=PENDING,
            created_at=now,
        )
        session.add(row)
        created.append(row)
    for row in pending.values():
        if row.due_at <= now:
            row.status = FIRED
            row.fired_at = now
        else:
            row.status = CANCELLED
    return created


def sync_awaited_messages(session: Session, instance: ProcessInstance, snapshot: Snapshot) -> None:
    session.execute(delete(AwaitedMessage).where(AwaitedMessage.instance_id == instance.id))
    for name in snapshot.awaited_messages:
        session.add(
            AwaitedMessage(instance_id=instance.id, message_name=name, case_id=instance.case_id)
        )
