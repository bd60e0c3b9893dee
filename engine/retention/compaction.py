"""Giving up the engine state of a closed case's finished phases.

SpiffWorkflow's JSON is what a running instance needs to go on; a finished one never runs
again, and the record reads its tables (tasks, timers, deadlines, decisions, entries, audit,
documents), not that JSON. After the jurisdiction's ``compact_engine_state_after`` since the
case closed, each finished instance keeps only the path it took (engine.instances.compacted),
so that its diagram still shows it. An active instance is never touched, nor one of a case
still open, nor any of a case with a phase still running (a report screened out by a phase that
goes on, say): a case is compacted only once all its work has ended.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from engine.context import EngineContext
from engine.deadlines.profiles import Profile
from engine.instances import compacted, stored
from engine.retention.periods import due_before
from engine.statuses import CaseStatus, InstanceStatus
from engine.storage.tables import Case, ProcessInstance

FINISHED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
# A case whose work ended: closed, or a report screened out at intake.
ENDED = (CaseStatus.CLOSED, CaseStatus.SCREENED_OUT)
# When it ended: a closed case's closing; a screened-out report has no closing of its own,
# and its last change is when it was screened out (or later: never too early).
ENDED_AT = func.coalesce(Case.closed_at, Case.updated_at)
_OTHER = aliased(ProcessInstance)
# A phase of the case still runs: its work has not ended, whatever its status says.
RUNNING = exists().where(
    _OTHER.case_id == ProcessInstance.case_id, _OTHER.status == InstanceStatus.ACTIVE
)


@dataclass(frozen=True)
class Compacted:
    instance_id: uuid.UUID
    case_id: uuid.UUID
    path_kept: bool


def due(profiles: dict[str, Profile], now: datetime) -> Select[uuid.UUID] | None:
    """The finished instances whose engine state is due to go, by jurisdiction (None when no
    jurisdiction compacts)."""
    conditions = [
        (Case.profile_id == profile_id) & (ENDED_AT <= due_before(now, period))
        for profile_id, profile in sorted(profiles.items())
        if (period := profile.retention.compact_engine_state_after) is not None
    ]
    if not conditions:
        return None
    either = conditions[0]
    for condition in conditions[1:]:
        either = either | condition
    return (
        select(ProcessInstance.id)
        .join(Case, Case.id == ProcessInstance.case_id)
        .where(
            Case.status.in_(ENDED),
            ProcessInstance.status.in_(FINISHED),
            ProcessInstance.serializer_version != compacted.COMPACTED,
            ~RUNNING,
            either,
        )
    )


def count_due(session: Session, profiles: dict[str, Profile], now: datetime) -> int:
    query = due(profiles, now)
    if query is None:
        return 0
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def compact_batch(
    ctx: EngineContext, session: Session, profiles: dict[str, Profile], limit: int
) -> list[Compacted]:
    """Up to ``limit`` due instances, each locked and checked again before its state goes."""
    now = ctx.clock.now()
    query = due(profiles, now)
    if query is None:
        return []
    done = []
    for instance_id in session.scalars(query.order_by(ProcessInstance.id).limit(limit)).all():
        # FOR UPDATE on PostgreSQL; on SQLite the writer's BEGIN IMMEDIATE serializes.
        instance = session.get(
            ProcessInstance, instance_id, with_for_update=True, populate_existing=True
        )
        case = session.get(Case, instance.case_id) if instance is not None else None
        if (
            instance is None
            or case is None
            or instance.status not in FINISHED
            or case.status not in ENDED
            or compacted.is_compacted(instance)
            or _runs(session, instance)
        ):
            continue  # it changed meanwhile: left as it is
        completed, called = _path(ctx, session, instance, case)
        kept = completed is not None
        # Through the ORM: ``lock_version`` (its version column) goes up with the state, so a
        # workflow cached under the old version is never taken for this one.
        instance.state = compacted.marker(now, completed or [], called or [])
        instance.serializer_version = compacted.COMPACTED
        stored.forget_finished_tasks(session, instance.id)
        done.append(Compacted(instance.id, case.id, kept))
    session.flush()
    return done


def _runs(session: Session, instance: ProcessInstance) -> bool:
    """Whether a phase of the instance's case still runs (``RUNNING``, asked of one case)."""
    running = exists().where(
        ProcessInstance.case_id == instance.case_id,
        ProcessInstance.status == InstanceStatus.ACTIVE,
    )
    return bool(session.scalar(select(running)))


def _path(
    ctx: EngineContext, session: Session, instance: ProcessInstance, case: Case
) -> tuple[list[str] | None, list[dict[str, Any]] | None]:
    """Where the instance went, read from its state one last time (None: not readable, as
    when its version lost the process; its tables still tell the record)."""
    compiled = ctx.definitions.compiled(session, instance.version_id)
    definition = compiled.process(instance.process_id)
    profile = compiled.profile(case.profile_id)
    if definition is None or profile is None:
        return None, None
    try:
        workflow = stored.read_workflow(ctx, session, instance, definition, profile)
        completed = ctx.runtime.completed_elements(workflow)
        called = [asdict(c) for c in ctx.runtime.called_processes(workflow)]
    except Exception:
        # Whatever SpiffWorkflow raises on a state it cannot read: one such instance must not
        # fail every batch, every day, and hold back all the others (it is audited as a path
        # not kept).
        return None, None
    # What a finished call ran: the names the case page draws with.
    for c in called:
        c["name"] = c.pop("element_name", c.get("element_id", ""))
        c["active"] = []
    return completed, called
