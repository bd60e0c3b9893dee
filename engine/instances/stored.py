"""An instance's workflow as stored: the head in its row and its finished tasks' rows
(engine.spiff.state_json), read back together, and the rows a dump adds or removes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.deadlines.profiles import Profile
from engine.spiff.definitions import ProcessDefinition
from engine.spiff.runtime import Workflow
from engine.spiff.state_json import StoredState
from engine.storage.tables import FinishedTask, ProcessInstance


def finished_rows(session: Session, instance_id: uuid.UUID) -> list[Row[Any]]:
    return list(
        session.execute(
            select(
                FinishedTask.task_id, FinishedTask.tree, FinishedTask.seq, FinishedTask.body
            ).where(FinishedTask.instance_id == instance_id)
        )
    )


def forget_finished_tasks(session: Session, instance_id: uuid.UUID) -> None:
    """An instance whose engine state is gone (compacted) keeps no finished-task rows."""
    session.execute(delete(FinishedTask).where(FinishedTask.instance_id == instance_id))


def read_workflow(
    ctx: EngineContext,
    session: Session,
    instance: ProcessInstance,
    definition: ProcessDefinition,
    profile: Profile,
) -> Workflow:
    """The instance's workflow read from the database, to look at (not to step)."""
    return ctx.runtime.load(
        definition, profile, instance.state, lambda: finished_rows(session, instance.id)
    )


def row_changes(
    instance: ProcessInstance, stored: StoredState
) -> tuple[list[dict[str, Any]], list[uuid.UUID], bool]:
    """The finished-task rows a dump adds, those it removes, and whether it replaces all."""
    added = [
        {
            "instance_id": instance.id,
            "task_id": row.task_id,
            "case_id": instance.case_id,
            "tree": row.tree,
            "seq": row.seq,
            "body": row.body,
        }
        for row in stored.finished
    ]
    return added, stored.removed, stored.replace_all
