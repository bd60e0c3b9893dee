"""Two processes complete the same task at the same moment: exactly one wins, the other gets
a conflict, and the instance advanced once."""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from conftest import SCREENER
from engine import queries
from engine.cases import open_case
from engine.clock import ManualClock
from engine.context import EngineContext
from engine.db import connect
from engine.errors import Conflict
from engine.instances import complete_task
from engine.spiff.runtime import Runtime
from engine.tables import AuditEvent
from engine.versions import DefinitionRegistry, Deployment

REPORT = {"received_at": "2025-03-03T15:15:00Z", "severity": "serious", "youngest_age": 3}
RACES = 4


def _complete_in_child(
    url: str, now: datetime, task_ids: list[str], barrier: Any, results: Any
) -> None:
    db = connect(url)
    clock = ManualClock(now)
    ctx = EngineContext(db, Runtime(clock), DefinitionRegistry(), clock)
    with db.reader() as session:  # warm the spec cache so both sides race on the commit
        ctx.definitions.compiled(session, 1)
    for task_id in task_ids:
        barrier.wait(timeout=60)
        try:
            complete_task(ctx, SCREENER, uuid.UUID(task_id), REPORT)
            results.put((task_id, "won"))
        except Conflict:
            results.put((task_id, "conflict"))
    db.dispose()


def test_concurrent_completions_of_one_task_advance_it_once(
    ctx: EngineContext, phases: Deployment, database_url: str
) -> None:
    people = {"people": [{"ref": "c", "role": "child", "name": "Ana"}]}
    cases = [open_case(ctx, SCREENER, people, start_process="intake") for _ in range(RACES)]
    task_ids = [str(queries.ready_tasks(ctx.db, case_id=c.id)[0].id) for c in cases]
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    args = (database_url, ctx.clock.now(), task_ids, barrier, results)
    workers = [spawn.Process(target=_complete_in_child, args=args) for _ in range(2)]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert [w.exitcode for w in workers] == [0, 0]
    outcomes: dict[str, list[str]] = {}
    for _ in range(2 * RACES):
        task_id, outcome = results.get(timeout=5)
        outcomes.setdefault(task_id, []).append(outcome)
    assert {k: sorted(v) for k, v in outcomes.items()} == {t: ["conflict", "won"] for t in task_ids}
    for case in cases:
        instances = {i.process_id: i for i in queries.instances_of_case(ctx.db, case.id)}
        assert sorted(instances) == ["intake", "investigation"]
        assert instances["intake"].lock_version == 2  # stored at 1, advanced exactly once
    with ctx.db.reader() as session:
        completions = session.scalar(
            select(func.count()).where(AuditEvent.action == "task.completed")
        )
    assert completions == RACES
