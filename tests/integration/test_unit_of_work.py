"""The unit of work keeps the record of what happened: audit entries and outbox events wait in
it and are written by its commit, all of them, in order, with their values intact; none if it
rolls back; a savepoint that rolls back takes its own. No session listener is involved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.context import EngineContext
from engine.storage.tables import AuditEvent, OutboxEvent
from engine.storage.uow import UnitOfWork

AT = datetime(2025, 3, 3, 15, 15, tzinfo=UTC)


def record(uow: UnitOfWork, action: str, **details: Any) -> None:
    uow.audit(at=AT, actor_id="ivy", actor_role="investigator", action=action, **details)


def written(ctx: EngineContext) -> tuple[list[AuditEvent], list[OutboxEvent]]:
    with ctx.db.reader() as session:
        return (
            list(session.scalars(select(AuditEvent).order_by(AuditEvent.id))),
            list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.occurred_at))),
        )


def test_the_commit_writes_every_queued_row_in_order_with_its_values(ctx: EngineContext) -> None:
    case_id, task_id = uuid.uuid4(), uuid.uuid4()
    with UnitOfWork(ctx.db.writer) as uow:
        record(uow, "first", fields=["a", "b"], nested={"n": 1})
        uow.audit(
            at=AT + timedelta(minutes=5),
            actor_id="sue",
            actor_role=None,
            action="second",
            case_id=case_id,
            task_id=task_id,
        )
        uow.publish("case.closed", AT, case_id=case_id, status="closed")
        uow.publish("task.completed", AT + timedelta(seconds=1), task_id=task_id)
        assert written(ctx) == ([], [])  # nothing before the commit
        uow.commit()

    rows, events = written(ctx)
    assert [(r.action, r.actor, r.actor_role, r.at) for r in rows] == [
        ("first", "ivy", "investigator", AT),
        ("second", "sue", None, AT + timedelta(minutes=5)),
    ]
    assert rows[0].details == {"fields": ["a", "b"], "nested": {"n": 1}}
    assert (rows[1].case_id, rows[1].task_id, rows[1].instance_id) == (case_id, task_id, None)
    assert [(e.topic, e.case_id, e.occurred_at) for e in events] == [
        ("case.closed", case_id, AT),
        ("task.completed", None, AT + timedelta(seconds=1)),
    ]
    assert events[0].payload["data"] == {"status": "closed", "case_id": str(case_id)}


def test_a_unit_that_does_not_commit_writes_nothing(ctx: EngineContext) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(ctx.db.writer) as uow:
        record(uow, "lost")
        uow.publish("case.closed", AT)
        raise RuntimeError("the use case failed")
    with UnitOfWork(ctx.db.writer) as uow:
        record(uow, "kept")
        uow.commit()

    rows, events = written(ctx)
    assert [r.action for r in rows] == ["kept"]
    assert events == []


def test_a_savepoint_that_rolls_back_takes_its_own_rows_only(ctx: EngineContext) -> None:
    with UnitOfWork(ctx.db.writer) as uow:
        record(uow, "before")
        with pytest.raises(ValueError), uow.savepoint():
            record(uow, "inside")
            uow.publish("case.closed", AT)
            raise ValueError("refused")
        record(uow, "after")
        uow.commit()

    rows, events = written(ctx)
    assert [r.action for r in rows] == ["before", "after"]
    assert events == []


def test_savepoints_within_savepoints_keep_and_take_back_the_right_rows(
    ctx: EngineContext,
) -> None:
    with UnitOfWork(ctx.db.writer) as uow:
        record(uow, "before")
        with pytest.raises(ValueError), uow.savepoint():
            record(uow, "outer")
            with uow.savepoint():  # released: its rows wait with the outer one's
                record(uow, "inner, released")
            with pytest.raises(KeyError), uow.savepoint():
                record(uow, "inner, rolled back")
                raise KeyError("inner")
            record(uow, "outer, later")
            raise ValueError("outer")
        with uow.savepoint():
            record(uow, "second, released")
            with pytest.raises(KeyError), uow.savepoint():
                record(uow, "second's inner, rolled back")
                raise KeyError("inner")
        record(uow, "after")
        uow.commit()

    rows, _ = written(ctx)
    assert [r.action for r in rows] == ["before", "second, released", "after"]


def test_an_unknown_topic_is_refused_when_published(ctx: EngineContext) -> None:
    with UnitOfWork(ctx.db.writer) as uow, pytest.raises(ValueError, match="unknown event topic"):
        uow.publish("case.teleported", AT)
