"""A workflow kept in memory between steps is only ever used while the instance row is still
as its last step left it: another process's step, or a step that rolled back, means reading
the row again. Two engine contexts on one database stand for two server processes, each with
its own cache."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from conftest import DESIGNER, FIXTURES
from engine.cases.opening import open_case
from engine.clock import ManualClock
from engine.context import Actor, EngineContext
from engine.definitions.bundle import read_bundle
from engine.definitions.deployments import deploy_bundle
from engine.definitions.versions import DefinitionRegistry
from engine.errors import InvalidTaskData
from engine.instances import stored
from engine.spiff.runtime import Runtime
from engine.storage.db import Database
from engine.storage.tables import FinishedTask, ProcessInstance
from engine.tasks import queries
from engine.tasks.completion import complete_task

CASEWORKER = Actor("cal.caseworker", "ongoing_caseworker")
VISIT = {"seen_at": "2025-03-04T10:00:00Z", "more": True}


@pytest.fixture
def visits(ctx: EngineContext) -> None:

    deploy_bundle(ctx, DESIGNER, read_bundle([FIXTURES / "long_running"]))


def _open(ctx: EngineContext, past_checks: int = 3) -> object:
    people = {"people": [{"ref": "a", "role": "child", "name": "Ana"}]}
    return open_case(
        ctx, CASEWORKER, people, start_process="visits", start_data={"past_checks": past_checks}
    ).id


def _visit(ctx: EngineContext, case_id: object, notes: str) -> None:
    task = queries.ready_tasks(ctx.db, case_id=case_id)[0]
    complete_task(ctx, CASEWORKER, task.id, {**VISIT, "notes": notes})


def _other_process(db: Database, clock: ManualClock) -> EngineContext:
    return EngineContext(db, Runtime(clock, cpu_seconds=1.0), DefinitionRegistry(), clock)


def _notes(ctx: EngineContext, case_id: object) -> list[str]:
    """The notes of every visit the instance holds, read from what is stored."""
    with ctx.db.reader() as session:
        instance = session.scalars(
            select(ProcessInstance).where(ProcessInstance.case_id == case_id)
        ).one()
        rows = stored.finished_rows(session, instance.id)
    texts = [instance.state, *(row.body for row in rows)]
    return sorted({n for t in texts for n in _find_notes(json.loads(t))})


def _find_notes(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["notes"]] if isinstance(value.get("notes"), str) else []
        return found + [n for v in value.values() for n in _find_notes(v)]
    if isinstance(value, list):
        return [n for v in value for n in _find_notes(v)]
    return []


def test_the_next_step_takes_the_kept_workflow(ctx: EngineContext, visits: None) -> None:
    case_id = _open(ctx)
    hits = ctx.runtime.workflows.hits
    _visit(ctx, case_id, "first")
    _visit(ctx, case_id, "second")
    assert ctx.runtime.workflows.hits == hits + 2
    assert _notes(ctx, case_id) == ["first", "second"]


def test_a_step_elsewhere_makes_the_kept_copy_stale_and_it_is_not_used(
    ctx: EngineContext, visits: None, db: Database, clock: ManualClock
) -> None:
    case_id = _open(ctx)
    _visit(ctx, case_id, "here")  # this process keeps the workflow
    elsewhere = _other_process(db, clock)
    _visit(elsewhere, case_id, "elsewhere")  # another process moves the instance on
    misses = ctx.runtime.workflows.misses
    _visit(ctx, case_id, "here again")
    # The kept copy did not have the other process's visit: it was passed over for the row.
    assert ctx.runtime.workflows.misses == misses + 1
    assert _notes(ctx, case_id) == ["elsewhere", "here", "here again"]
    _visit(elsewhere, case_id, "and elsewhere")
    assert _notes(ctx, case_id) == ["and elsewhere", "elsewhere", "here", "here again"]


def test_a_step_that_fails_leaves_no_kept_copy(ctx: EngineContext, visits: None) -> None:
    case_id = _open(ctx)
    _visit(ctx, case_id, "first")
    task = queries.ready_tasks(ctx.db, case_id=case_id)[0]
    with pytest.raises(InvalidTaskData):
        complete_task(ctx, CASEWORKER, task.id, {"seen_at": "not a time", "more": True})
    misses = ctx.runtime.workflows.misses
    _visit(ctx, case_id, "second")
    assert ctx.runtime.workflows.misses == misses + 1  # read from the row
    assert _notes(ctx, case_id) == ["first", "second"]


def test_a_step_writes_only_the_tasks_it_finished(ctx: EngineContext, visits: None) -> None:
    case_id = _open(ctx, past_checks=200)
    with ctx.db.reader() as session:
        instance = session.scalars(
            select(ProcessInstance).where(ProcessInstance.case_id == case_id)
        ).one()
        before = len(stored.finished_rows(session, instance.id))
        head_before = len(instance.state)
    _visit(ctx, case_id, "one more")
    with ctx.db.reader() as session:
        rows = session.scalars(
            select(FinishedTask).where(FinishedTask.instance_id == instance.id)
        ).all()
        head_after = len(session.get(ProcessInstance, instance.id).state)  # type: ignore[union-attr]
    assert before > 200  # the past checks, each finished and stored once
    assert len(rows) - before <= 4  # the visit and the gateways around it
    assert head_after < head_before * 1.5 and head_after < 20_000
