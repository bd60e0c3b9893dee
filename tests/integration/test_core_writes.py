"""Rows of several tables written together (one statement on PostgreSQL): every value kept,
even where rows carry different keys, column defaults filled in, and rows that refer to rows
of an earlier table in the same write accepted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import SCREENER
from engine.cases.opening import open_case
from engine.context import EngineContext
from engine.definitions.versions import Deployment
from engine.storage import statements
from engine.storage.tables import Deadline, ProcessInstance, ScheduledAlert, Timer
from engine.storage.uow import UnitOfWork

AT = datetime(2025, 3, 3, 15, 15, tzinfo=UTC)


def timer(instance: ProcessInstance, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "instance_id": instance.id,
        "case_id": instance.case_id,
        "task_id": uuid.uuid4(),
        "bpmn_id": name,
        "name": name,
        "kind": "duration",
        "attached_to": None,
        "due_at": AT + timedelta(hours=1),
        "status": "pending",
        "created_at": AT,
        **extra,
    }


@pytest.fixture
def instance(ctx: EngineContext, phases: Deployment) -> ProcessInstance:
    case = open_case(
        ctx, SCREENER, {"people": [{"ref": "c", "role": "child"}]}, start_process="intake"
    )
    with ctx.db.reader() as session:
        return session.scalars(
            select(ProcessInstance).where(ProcessInstance.case_id == case.id)
        ).one()


def test_rows_of_several_tables_keep_every_value(
    ctx: EngineContext, instance: ProcessInstance
) -> None:
    pending = timer(instance, "pending")
    fired = timer(instance, "fired", status="fired", fired_at=AT, interrupting=False)
    deadline_id = uuid.uuid4()
    inserts = statements.Inserts()
    inserts.add(Timer, [pending, fired])
    inserts.add(
        Deadline,
        [
            {
                "id": deadline_id,
                "case_id": instance.case_id,
                "instance_id": instance.id,
                "timer_id": fired["id"],
                "task_id": None,
                "deadline_id": "contact",
                "title": "First contact",
                "measure": None,
                "started_at": AT,
                "due_at": AT + timedelta(hours=24),
                "status": "open",
            }
        ],
    )
    inserts.add(
        ScheduledAlert,
        [
            {
                "id": uuid.uuid4(),
                "deadline_row_id": deadline_id,
                "kind": "due",
                "due_at": AT + timedelta(hours=24),
                "recipients": ["assignee", "supervisor"],
                "status": "pending",
            }
        ],
    )
    with UnitOfWork(ctx.db.writer) as uow:
        inserts.write(uow.session)
        uow.commit()

    with ctx.db.reader() as session:
        rows = {
            t.bpmn_id: t
            for t in session.scalars(select(Timer).where(Timer.instance_id == instance.id))
            if t.bpmn_id in ("pending", "fired")
        }
        deadline = session.get_one(Deadline, deadline_id)
        [alert] = session.scalars(
            select(ScheduledAlert).where(ScheduledAlert.deadline_row_id == deadline_id)
        )
    # The second row's extra keys survive, the first's absent ones are NULL or the default.
    assert (rows["fired"].status, rows["fired"].fired_at, rows["fired"].interrupting) == (
        "fired",
        AT,
        False,
    )
    assert (rows["pending"].status, rows["pending"].fired_at) == ("pending", None)
    assert (rows["pending"].interrupting, rows["pending"].attempts) == (True, 0)
    assert rows["pending"].due_at == AT + timedelta(hours=1)
    assert (deadline.timer_id, deadline.title, deadline.measure) == (
        fired["id"],
        "First contact",
        None,
    )
    assert (alert.kind, alert.recipients, alert.due_at) == (
        "due",
        ["assignee", "supervisor"],
        AT + timedelta(hours=24),
    )


def test_a_naive_instant_is_refused_and_nothing_is_written(
    ctx: EngineContext, instance: ProcessInstance
) -> None:
    inserts = statements.Inserts()
    inserts.add(Timer, [timer(instance, "naive", due_at=datetime(2025, 3, 3, 16))])
    with UnitOfWork(ctx.db.writer) as uow, pytest.raises(Exception, match="naive"):
        inserts.write(uow.session)
    with ctx.db.reader() as session:
        assert session.scalars(select(Timer).where(Timer.bpmn_id == "naive")).all() == []
