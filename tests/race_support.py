"""Code run in the child processes of the completion race (importable by name, as the
spawn start method requires)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from conftest import SCREENER
from engine.clock import ManualClock
from engine.context import EngineContext
from engine.db import connect
from engine.errors import Conflict
from engine.instances import complete_task
from engine.spiff.runtime import Runtime
from engine.versions import DefinitionRegistry

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
