"""Moving running phases to another version: a corrected decision table, a renamed task, a fixed
timer reach the cases already under way, not only the new ones.

Each running instance of the version (of one process, or all) is read onto the other version's
definition: its tasks find their elements by id, or by the id a mapping gives a renamed one.
An instance moves whole or not at all, in its own transaction: its task history, the people
its tasks are assigned to and its deadlines stay; what the new version no longer waits for is
cancelled and what it newly waits for is created, as any step would. A dry run says, instance
by instance, what would move, what would be cancelled or created, and what cannot move and
why, and changes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.cases.subjects import LABEL_LENGTH
from engine.context import EngineContext
from engine.errors import Conflict, EngineError, NotFound
from engine.identity.access import require
from engine.identity.users import Principal
from engine.instances import steps, stored
from engine.statuses import InstanceStatus, TaskStatus
from engine.storage.tables import HumanTask, ProcessInstance
from engine.storage.uow import UnitOfWork

DESIGNERS = ("process_designer", "administrator")


@dataclass(frozen=True)
class Migration:
    from_version: int
    to_version: int
    process_id: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)  # old element id -> new one
    dry_run: bool = False


def migrate(ctx: EngineContext, principal: Principal, asked: Migration) -> list[dict[str, Any]]:
    """Each running instance of ``from_version`` (of ``process_id``), moved to ``to_version``
    or said why not; a dry run moves nothing."""
    require(principal, *DESIGNERS)
    if asked.from_version == asked.to_version:
        raise Conflict(f"the instances are on version {asked.to_version} already")
    with ctx.db.reader() as session:
        ctx.definitions.compiled(session, asked.to_version)  # NotFound for no such version
        query = select(ProcessInstance.id).where(
            ProcessInstance.version_id == asked.from_version,
            ProcessInstance.status == InstanceStatus.ACTIVE,
        )
        if asked.process_id:
            query = query.where(ProcessInstance.process_id == asked.process_id)
        instance_ids = list(session.scalars(query.order_by(ProcessInstance.created_at)))
    return [_one(ctx, principal, asked, instance_id) for instance_id in instance_ids]


def _one(
    ctx: EngineContext, principal: Principal, asked: Migration, instance_id: uuid.UUID
) -> dict[str, Any]:
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        instance = steps.lock_instance(session, instance_id)
        case = steps.case_of(session, instance.case_id)
        said: dict[str, Any] = {
            "instance_id": str(instance.id),
            "case_number": case.case_number,
            "process_id": instance.process_id,
        }
        if instance.version_id != asked.from_version or instance.status != InstanceStatus.ACTIVE:
            return {**said, "moves": False, "why": "it moved or ended meanwhile"}
        try:
            before = steps.load(ctx, session, instance, case)
            target = ctx.definitions.compiled(session, asked.to_version)
            definition = target.process(instance.process_id)
            if definition is None:
                raise NotFound(f"version {asked.to_version} has no process {instance.process_id}")
            profile = steps.profile_of(target, case)
            workflow = ctx.runtime.load_onto(
                definition,
                profile,
                instance.state,
                asked.renamed,
                lambda: stored.finished_rows(session, instance.id),
            )
        except EngineError as exc:
            return {**said, "moves": False, "why": exc.message}
        waiting_before = sorted(t.bpmn_id for t in before.before.ready_tasks)
        waiting_after = sorted(t.bpmn_id for t in ctx.runtime.snapshot(workflow).ready_tasks)
        said |= {
            "moves": True,
            "waiting": waiting_after,
            "cancelled": sorted(set(waiting_before) - set(waiting_after) - set(asked.renamed)),
            "created": sorted(
                set(waiting_after) - set(waiting_before) - set(asked.renamed.values())
            ),
        }
        if asked.dry_run:
            return said  # the unit of work rolls back: nothing was written
        instance.version_id = asked.to_version
        moved = steps.Loaded(instance, workflow, target, profile, before.before)
        steps.settle(steps.Run(ctx, uow, principal.actor, case), moved)
        _follow_renames(session, instance, asked.renamed, definition)
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="instance.migrated",
            case_id=case.id,
            instance_id=instance.id,
            process_id=instance.process_id,
            from_version=asked.from_version,
            to_version=asked.to_version,
            renamed=asked.renamed,
        )
        uow.commit()
        return said


def _follow_renames(
    session: Any, instance: ProcessInstance, renamed: dict[str, str], definition: Any
) -> None:
    """Open tasks take their element's id and name in the new version (a renamed element, or a
    task given a clearer name); their history, assignee and due date stay."""
    for task in session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.READY
        )
    ):
        task.bpmn_id = renamed.get(task.bpmn_id, task.bpmn_id)
        spec = definition.spec.task_specs.get(task.bpmn_id)
        if spec is not None and getattr(spec, "bpmn_name", None):
            name = str(spec.bpmn_name)
            task.name = (f"{name} — {task.subject}" if task.subject else name)[:LABEL_LENGTH]
