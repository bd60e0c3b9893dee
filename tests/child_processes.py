"""Code run in child processes by the race and worker tests (importable by name, as the
spawn start method requires)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from conftest import SCREENER
from engine.clock import ManualClock
from engine.context import EngineContext
from engine.definitions.versions import DefinitionRegistry
from engine.errors import Conflict
from engine.spiff.runtime import Runtime
from engine.storage.db import connect
from engine.tasks.completion import complete_task

REPORT = {"received_at": "2025-03-03T15:15:00Z", "severity": "serious", "youngest_age": 3}


def complete_in_child(
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


def fire_in_child(url: str, now: datetime, worker: str, barrier: Any, results: Any) -> None:
    """A worker process: fire due timers until none is left."""
    from engine.deadlines.timers import TimerPolicy, fire_due_timers

    db = connect(url)
    clock = ManualClock(now)
    ctx = EngineContext(db, Runtime(clock), DefinitionRegistry(), clock)
    barrier.wait(timeout=60)
    fired = 0
    while True:
        report = fire_due_timers(ctx, worker=worker, policy=TimerPolicy(batch=100))
        fired += report.fired
        if report.fired == 0 and report.skipped == 0 and report.not_yet == 0:
            break
    results.put((worker, fired, report.errors))
    db.dispose()


def deliver_in_child(url: str, now: datetime, worker: str) -> None:
    """A webhook worker that the test kills while it posts."""
    from webhooks.delivery import deliver_due

    db = connect(url)
    clock = ManualClock(now)
    deliver_due(EngineContext(db, Runtime(clock), DefinitionRegistry(), clock), worker=worker)
    db.dispose()
