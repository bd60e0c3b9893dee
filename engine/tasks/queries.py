"""The read side: plain rows for worklists and case views, from the projection tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.statuses import TaskStatus
from engine.storage.db import Database
from engine.storage.tables import HumanTask, ProcessInstance


@dataclass(frozen=True)
class TaskRow:
    id: uuid.UUID
    case_id: uuid.UUID
    instance_id: uuid.UUID
    process_id: str
    bpmn_id: str
    name: str
    role: str | None
    assignee: str | None
    status: str
    created_at: datetime
    due_at: datetime | None
    version: int


def _row(task: HumanTask) -> TaskRow:
    return TaskRow(
        task.id,
        task.case_id,
        task.instance_id,
        task.process_id,
        task.bpmn_id,
        task.name,
        task.role,
        task.assignee,
        task.status,
        task.created_at,
        task.due_at,
        task.version,
    )


def ready_tasks(
    db: Database,
    *,
    case_id: uuid.UUID | None = None,
    role: str | None = None,
    assignee: str | None = None,
) -> list[TaskRow]:
    query = select(HumanTask).where(HumanTask.status == TaskStatus.READY)
    if case_id is not None:
        query = query.where(HumanTask.case_id == case_id)
    if role is not None:
        query = query.where(HumanTask.role == role)
    if assignee is not None:
        query = query.where(HumanTask.assignee == assignee)
    query = query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
    with db.reader() as session:
        return [_row(t) for t in session.scalars(query)]


def task(db: Database, task_id: uuid.UUID) -> TaskRow | None:
    with db.reader() as session:
        found = session.get(HumanTask, task_id)
        return _row(found) if found is not None else None


@dataclass(frozen=True)
class InstanceRow:
    id: uuid.UUID
    process_id: str
    version_id: int
    status: str
    lock_version: int
    state_bytes: int
    next_timer_due_at: datetime | None


def instances_of_case(db: Database, case_id: uuid.UUID) -> list[InstanceRow]:
    with db.reader() as session:
        rows = session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.case_id == case_id)
            .order_by(ProcessInstance.created_at, ProcessInstance.id)
        )
        return [
            InstanceRow(
                r.id,
                r.process_id,
                r.version_id,
                r.status,
                r.lock_version,
                len(r.state.encode()),
                r.next_timer_due_at,
            )
            for r in rows
        ]
