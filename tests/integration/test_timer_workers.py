"""Two worker processes against one PostgreSQL database fire 3,000 due timers: each exactly
once, none missed."""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from child_processes import fire_in_child
from conftest import DESIGNER, FIXTURES, POSTGRES_URL, SCREENER
from engine.cases.opening import open_case
from engine.context import EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.instances import stored
from engine.instances.lifecycle import start_instance
from engine.spiff import state_json
from engine.storage.tables import AuditEvent, ProcessInstance, Timer

TIMERS = 3_000

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="several workers need PostgreSQL's row locks; SQLite runs a single poller by design",
)


def clone_instances(ctx: EngineContext, count: int) -> None:
    """``count`` instances waiting on a one-minute timer, copied from one started normally."""
    deploy_bundle(ctx, DESIGNER, read_bundle([FIXTURES / "clocks"]))
    case = open_case(ctx, SCREENER, {"people": [{"ref": "c", "role": "child"}]})
    started = start_instance(ctx, SCREENER, case.id, "ticker")
    with ctx.db.writer() as session:
        instance = session.get(ProcessInstance, started.id)
        timer = session.scalar(select(Timer).where(Timer.instance_id == started.id))
        assert instance is not None and timer is not None
        columns = {c.key: getattr(instance, c.key) for c in ProcessInstance.__table__.columns}
        # The copies hold their whole state in their row (no finished-task rows of their own).
        columns["state"] = state_json.self_contained(
            instance.state, stored.finished_rows(session, started.id)
        )
        timer_columns = {c.key: getattr(timer, c.key) for c in Timer.__table__.columns}
        ids = [uuid.uuid4() for _ in range(count - 1)]
        session.execute(insert(ProcessInstance), [{**columns, "id": i} for i in ids])
        session.execute(
            insert(Timer),
            [{**timer_columns, "id": uuid.uuid4(), "instance_id": i} for i in ids],
        )
        session.commit()


def test_two_workers_fire_thousands_of_timers_once_each(
    ctx: EngineContext, database_url: str
) -> None:
    clone_instances(ctx, TIMERS)
    now = ctx.clock.now() + timedelta(minutes=1, seconds=1)
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    workers = [
        spawn.Process(target=fire_in_child, args=(database_url, now, name, barrier, results))
        for name in ("worker-a", "worker-b")
    ]

    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert [w.exitcode for w in workers] == [0, 0]
    assert all(errors == [] for _, _, errors in outcomes)
    fired_by = {name: fired for name, fired, _ in outcomes}
    assert sum(fired_by.values()) == TIMERS
    assert min(fired_by.values()) > 0, fired_by  # both took a share
    with ctx.db.reader() as session:
        statuses = dict(
            session.execute(select(Timer.status, func.count()).group_by(Timer.status)).all()
        )
        audited = session.scalar(
            select(func.count(func.distinct(AuditEvent.instance_id))).where(
                AuditEvent.action == "timer.fired"
            )
        )
        firings = session.scalar(select(func.count()).where(AuditEvent.action == "timer.fired"))
        versions = dict(
            session.execute(
                select(ProcessInstance.lock_version, func.count()).group_by(
                    ProcessInstance.lock_version
                )
            ).all()
        )
    assert statuses == {"fired": TIMERS}
    assert audited == firings == TIMERS
    assert versions == {2: TIMERS}  # every instance advanced exactly once
