"""Process instances of a case: start one, complete a human task, deliver a message.

Each public function is one use case and one transaction: the engine state and its version,
the human-task, timer and awaited-message projections, the audit events and every instance
that a thrown message starts or resumes in the same case are committed together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine import audit, core_writes, deadlines, outbox, projections, redaction
from engine.context import Actor, EngineContext
from engine.errors import Conflict, NotFound
from engine.forms import CONFIRMATION_SCHEMA, validate_task_data
from engine.profiles import Profile
from engine.spiff.definitions import HOST_MESSAGES, CompiledBundle, ProcessDefinition
from engine.spiff.runtime import Snapshot, Workflow
from engine.tables import (
    Allegation,
    AwaitedMessage,
    Case,
    CasePerson,
    HumanTask,
    ProcessInstance,
    Timer,
    User,
)
from engine.uow import UnitOfWork

ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"
# A message that starts or resumes an instance that throws again, and so on: a chain longer
# than this is a loop in the design, not a case.
MAX_MESSAGE_HOPS = 25

# Intake's end is where a report is screened in or out (DOMAIN S1-S2).
INTAKE_PROCESS = "intake"


@dataclass(frozen=True)
class StartedInstance:
    id: uuid.UUID
    case_id: uuid.UUID
    process_id: str
    version_id: int


def start_instance(
    ctx: EngineContext,
    actor: Actor,
    case_id: uuid.UUID,
    process_id: str,
    data: dict[str, Any] | None = None,
) -> StartedInstance:
    with UnitOfWork(ctx.db.writer) as uow:
        case = uow.session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        instance = start_instance_in(ctx, uow, actor, case, process_id, data or {})
        uow.commit()
    return StartedInstance(instance.id, case.id, instance.process_id, instance.version_id)


def start_instance_in(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    process_id: str,
    data: dict[str, Any],
    *,
    message: tuple[str, Any] | None = None,
    version_id: int | None = None,
    hops: int = 0,
) -> ProcessInstance:
    """Start a process for a case inside the caller's unit of work (on the newest version
    that has the process, unless a version is given)."""
    session = uow.session
    if version_id is None:
        version_id = ctx.definitions.newest_version_of(session, process_id)
    compiled = ctx.definitions.compiled(session, version_id)
    definition = _definition(compiled, process_id)
    if message is None and not definition.has_plain_start:
        raise Conflict(f"process {process_id!r} is started by a message, not directly")
    profile = _profile(compiled, case)
    start_data = {**case_start_data(session, case), "profile": profile.data, **data}
    workflow = ctx.runtime.start(definition, profile, start_data)
    if message is not None:
        ctx.runtime.deliver_message(workflow, message[0], message[1])
    now = ctx.clock.now()
    instance = ProcessInstance(
        id=uuid.uuid4(),
        case_id=case.id,
        version_id=version_id,
        process_id=process_id,
        status=ACTIVE,
        state="",
        serializer_version="",
        created_at=now,
        updated_at=now,
    )
    # Audit first: its INSERT autoflushes, and the instance must be written once, complete.
    audit.record(
        session,
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="instance.started",
        case_id=case.id,
        instance_id=instance.id,
        process_id=process_id,
        version_id=version_id,
        by_message=message[0] if message else None,
    )
    session.add(instance)
    _settle(ctx, uow, actor, case, instance, workflow, projections.EMPTY, hops, profile=profile)
    return instance


# Built once: it runs on every completion.
_TASK_TO_COMPLETE = (
    select(HumanTask, ProcessInstance, Case, User)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .join(Case, Case.id == HumanTask.case_id)
    # The case's worker, who usually gets the tasks the completion makes: assignment finds
    # them in the session instead of reading them again.
    .outerjoin(User, User.id == Case.assigned_to)
    .where(HumanTask.id == bindparam("task_id"))
    .with_for_update(of=[HumanTask, ProcessInstance])
    .execution_options(populate_existing=True)
)


def complete_task(
    ctx: EngineContext,
    actor: Actor,
    task_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None = None,
    taker: str | None = None,
    authorize: Callable[[Session, HumanTask, Case], Actor] | None = None,
) -> HumanTask:
    """Complete a ready human task with form data and run the process on. With ``taker``,
    the task must be unassigned or assigned to that user (it becomes theirs). ``authorize``,
    the caller's access rule, sees the task and its case first, in this unit of work, and
    names the actor (or raises).

    Raises NotFound, Conflict (not ready, already done, stale ``expected_version``, or a
    concurrent completion won) or InvalidTaskData (field errors); nothing changes then.
    """
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        # One read that also locks the task and its instance (FOR UPDATE on PostgreSQL; the
        # SQLite writer's BEGIN IMMEDIATE already serializes): a concurrent completion waits
        # here and then sees the task completed.
        found = session.execute(_TASK_TO_COMPLETE, {"task_id": task_id}).first()
        if found is None:
            raise NotFound(f"no task {task_id}")
        task, instance, case, _worker = found  # _worker: held, so the session keeps it
        if authorize is not None:
            # Before the task's state says anything: a refused user learns nothing of it
            # (except, by the caller's rule, a holder of its lane that it is no longer open).
            actor = authorize(session, task, case)
        if task.status != projections.READY:
            raise Conflict(f"task {task_id} is {task.status}, not ready")
        if expected_version is not None and task.version != expected_version:
            raise Conflict(
                f"task {task_id} is at version {task.version}, not {expected_version}; reload it"
            )
        if taker is not None:
            if task.assignee not in (None, taker):
                raise Conflict(f"task {task_id} is assigned to {task.assignee}")
            task.assignee = taker
        compiled = ctx.definitions.compiled(session, instance.version_id)
        validate_task_data(compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA, data)
        redaction.note_reporter(session, case.id, data.get("reporter"))
        workflow = _load(ctx, compiled, instance, case)
        before = ctx.runtime.snapshot(workflow)
        previous = ctx.runtime.task_data(workflow, task_id)
        ctx.runtime.complete_task(workflow, task_id, data)
        now = ctx.clock.now()
        task.status = projections.COMPLETED
        task.completed_at = now
        task.completed_by = actor.id
        task.version += 1
        # The draft was a step towards what is now recorded: kept, it would be a second,
        # unchecked copy of the form (and the reporter's name with it).
        task.draft = None
        task.draft_saved_by = None
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="task.completed",
            case_id=case.id,
            instance_id=instance.id,
            task_id=task.id,
            task=task.bpmn_id,
            changed_fields=audit.changed_fields(previous, data),
        )
        outbox.publish(
            session,
            "task.completed",
            now,
            case_id=case.id,
            task_id=task.id,
            process_id=task.process_id,
            element_id=task.bpmn_id,
            role=task.role,
            completed_by=actor.id,
        )
        if task.overdue_since is not None:
            deadlines.task_completed(session, task_id, now)
        _settle(
            ctx,
            uow,
            actor,
            case,
            instance,
            workflow,
            before,
            0,
            profile=_profile(compiled, case),
            completed=task_id,
        )
        uow.commit()
    return task


def deliver_message(
    ctx: EngineContext,
    actor: Actor,
    case_id: uuid.UUID,
    name: str,
    payload: Any,
    *,
    may_start: bool = True,
) -> uuid.UUID:
    """Deliver a message to the instance of a case that awaits it or, when ``may_start``, start
    the process whose message start event catches it. Returns the instance that received it.

    Raises NotFound for an unknown case and Conflict when nothing takes the message.
    """
    with UnitOfWork(ctx.db.writer) as uow:
        instance_id = deliver_message_in(ctx, uow, actor, case_id, name, payload, may_start)
        uow.commit()
    return instance_id


def deliver_message_in(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case_id: uuid.UUID,
    name: str,
    payload: Any,
    may_start: bool = False,
) -> uuid.UUID:
    """``deliver_message`` as part of the caller's unit of work."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return _route(ctx, uow, actor, case, name, payload, hops=0, require_waiting=not may_start)


def fire_instance_timers(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    instance_id: uuid.UUID,
    *,
    expect: tuple[uuid.UUID, datetime] | None = None,
) -> str:
    """Run an instance whose timers may have come due, inside the caller's unit of work.

    Returns ``fired``; ``not yet`` when the engine still waits on ``expect`` (its clock says
    the timer is not due; nothing is written); or ``ended`` when the instance is no longer
    active.
    """
    session = uow.session
    instance = _lock_instance(session, instance_id)
    if instance.status != ACTIVE:
        return "ended"
    case = _case(session, instance.case_id)
    compiled = ctx.definitions.compiled(session, instance.version_id)
    workflow = _load(ctx, compiled, instance, case)
    before = ctx.runtime.snapshot(workflow)
    ctx.runtime.fire_timers(workflow)
    if expect is not None:
        waiting = {(t.task_id, t.due_at) for t in ctx.runtime.snapshot(workflow).timers}
        if expect in waiting:
            return "not yet"
    _settle(ctx, uow, actor, case, instance, workflow, before, 0, profile=_profile(compiled, case))
    return "fired"


def reschedule(
    ctx: EngineContext,
    uow: UnitOfWork,
    instance_id: uuid.UUID,
    timer_id: uuid.UUID,
    due_at: datetime,
) -> Profile:
    """Move one pending timer of an instance, in the caller's unit of work. Returns the
    instance's jurisdiction profile."""
    session = uow.session
    instance = _lock_instance(session, instance_id)
    timer = session.get(Timer, timer_id, with_for_update=True)
    if timer is None or timer.status != projections.PENDING:
        raise Conflict("the deadline's timer is no longer pending")
    case = _case(session, instance.case_id)
    compiled = ctx.definitions.compiled(session, instance.version_id)
    workflow = _load(ctx, compiled, instance, case)
    ctx.runtime.reschedule_timer(workflow, timer.task_id, due_at)
    instance.state = ctx.runtime.dump(workflow)
    instance.updated_at = ctx.clock.now()
    timer.due_at = due_at
    timer.next_attempt_at = None
    pending = ctx.runtime.snapshot(workflow).timers
    instance.next_timer_due_at = min((t.due_at for t in pending), default=None)
    return _profile(compiled, case)


def case_start_data(session: Session, case: Case) -> dict[str, Any]:
    """What every instance of a case starts with: its ids and its children (for per-child
    work). Other case facts stay in the case record and are not copied."""
    children = session.scalars(
        select(CasePerson)
        .where(CasePerson.case_id == case.id, CasePerson.role == "child")
        .order_by(CasePerson.name, CasePerson.id)
    ).all()
    allegations = session.scalars(
        select(Allegation).where(Allegation.case_id == case.id).order_by(Allegation.id)
    ).all()
    return {
        "case_id": str(case.id),
        "case_number": case.case_number,
        "profile_id": case.profile_id,
        "allegations": [
            {
                "allegation_id": str(a.id),
                "victim_id": str(a.victim_id),
                "perpetrator_id": str(a.perpetrator_id) if a.perpetrator_id else None,
                "type": a.maltreatment_type,
            }
            for a in allegations
        ],
        "children": [
            {
                "person_id": str(child.id),
                "name": child.name,
                "birth_date": child.birth_date.isoformat() if child.birth_date else None,
            }
            for child in children
        ],
    }


# -- internals --------------------------------------------------------------------------------


def _lock_instance(session: Session, instance_id: uuid.UUID) -> ProcessInstance:
    # FOR UPDATE on PostgreSQL; on SQLite the writer's BEGIN IMMEDIATE already serializes.
    instance = session.get(
        ProcessInstance, instance_id, with_for_update=True, populate_existing=True
    )
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    return instance


def _case(session: Session, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def _definition(compiled: CompiledBundle, process_id: str) -> ProcessDefinition:
    definition = compiled.process(process_id)
    if definition is None:
        raise NotFound(f"no process {process_id!r} in this version")
    return definition


def _profile(compiled: CompiledBundle, case: Case) -> Profile:
    profile = compiled.profile(case.profile_id)
    if profile is None:
        raise Conflict(
            f"case {case.case_number} uses jurisdiction profile {case.profile_id!r}, "
            "which the deployed definitions do not have"
        )
    return profile


def _load(
    ctx: EngineContext, compiled: CompiledBundle, instance: ProcessInstance, case: Case
) -> Workflow:
    if instance.status != ACTIVE:
        raise Conflict(f"process instance {instance.id} is {instance.status}")
    definition = _definition(compiled, instance.process_id)
    return ctx.runtime.load(definition, _profile(compiled, case), instance.state)


def _settle(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    instance: ProcessInstance,
    workflow: Workflow,
    before: Snapshot,
    hops: int,
    *,
    profile: Profile,
    completed: uuid.UUID | None = None,
) -> None:
    """Store the instance after an engine run, project it, and hand its thrown messages on.

    ``before`` is the snapshot taken when the instance was loaded (EMPTY for a new one)."""
    session = uow.session
    now = ctx.clock.now()
    snapshot = ctx.runtime.snapshot(workflow)
    thrown = ctx.runtime.take_thrown_messages(workflow)
    instance.state = ctx.runtime.dump(workflow)
    instance.serializer_version = ctx.runtime.serializer_version
    instance.updated_at = now
    # Every instance field is set before the projection queries autoflush, so that one engine
    # run is one INSERT or one UPDATE of the instance (one version step).
    instance.next_timer_due_at = min((t.due_at for t in snapshot.timers), default=None)
    if snapshot.completed:
        instance.status = COMPLETED
        instance.completed_at = now
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="instance.completed",
            case_id=case.id,
            instance_id=instance.id,
            process_id=instance.process_id,
        )
        if instance.process_id == INTAKE_PROCESS:
            outbox.publish(
                session,
                "case.screened",
                now,
                case_id=case.id,
                case_number=case.case_number,
                decision="screened_out" if case.status == "screened_out" else "screened_in",
            )
    already_decided = {d.task_id for d in before.decisions}
    for decision in snapshot.decisions:
        if decision.task_id not in already_decided:
            outbox.publish(
                session,
                "decision.made",
                now,
                case_id=case.id,
                process_id=decision.process_id,
                element_id=decision.bpmn_id,
                outputs=decision.outputs,
            )
    # The instance row first: projection rows refer to it.
    session.flush()
    # The step's new tasks, timers, deadlines and alerts are written together with the
    # timers it ended and the deadlines they met: one round trip on PostgreSQL.
    inserts = core_writes.Inserts()
    projections.sync_human_tasks(
        session, case, instance, before, snapshot, now, inserts, completed=completed
    )
    new_timers, born_fired, endings = projections.sync_timers(
        session, instance, before, snapshot, now, inserts
    )
    armed = [
        deadlines.ArmedTimer(
            row["id"],
            row["bpmn_id"],
            row["due_at"],
            row["attached_to"],
            ctx.runtime.task_data(workflow, row["task_id"]),
        )
        for row in new_timers
        if profile.deadline_rules_for(row["bpmn_id"])
    ]
    deadlines.arm(session, profile, case.id, instance.id, armed, now, inserts)
    fired = deadlines.end_timers(session, instance.id, endings, inserts, now)
    deadlines.timers_fired(session, profile, born_fired + fired)
    projections.sync_awaited_messages(session, instance, before, snapshot)
    for message in thrown:
        _route(
            ctx, uow, actor, case, message.name, message.payload, hops + 1, require_waiting=False
        )


def _route(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    name: str,
    payload: Any,
    hops: int,
    *,
    require_waiting: bool,
    origin: uuid.UUID | None = None,
) -> uuid.UUID:
    command = HOST_COMMANDS.get(name)
    if command is not None:
        command(ctx, uow, actor, case, payload, origin)
        return origin or case.id
    if hops > MAX_MESSAGE_HOPS:
        raise Conflict(
            f"message {name!r} passed {MAX_MESSAGE_HOPS} instances: a loop in the design"
        )
    session = uow.session
    waiting = session.scalars(
        select(AwaitedMessage.instance_id)
        .join(ProcessInstance, ProcessInstance.id == AwaitedMessage.instance_id)
        .where(AwaitedMessage.case_id == case.id, AwaitedMessage.message_name == name)
        .order_by(ProcessInstance.created_at, ProcessInstance.id)
        .limit(1)
    ).first()
    now = ctx.clock.now()
    if waiting is not None:
        instance = _lock_instance(session, waiting)
        compiled = ctx.definitions.compiled(session, instance.version_id)
        workflow = _load(ctx, compiled, instance, case)
        before = ctx.runtime.snapshot(workflow)
        ctx.runtime.deliver_message(workflow, name, payload)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="message.delivered",
            case_id=case.id,
            instance_id=instance.id,
            message=name,
        )
        _settle(
            ctx,
            uow,
            actor,
            case,
            instance,
            workflow,
            before,
            hops,
            profile=_profile(compiled, case),
        )
        return instance.id
    route = None if require_waiting else ctx.definitions.newest_start_route(session, name)
    if route is None:
        raise Conflict(
            f"no process of case {case.case_number} is waiting for message {name!r}, "
            "and no deployed process starts on it"
        )
    started = start_instance_in(
        ctx,
        uow,
        actor,
        case,
        route.process_id,
        {},
        message=(name, payload),
        version_id=route.version_id,
        hops=hops,
    )
    return started.id


# -- messages addressed to casework itself -----------------------------------------------------


def _close_case(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    payload: Any,
    origin: uuid.UUID | None,
) -> None:
    """``casework.close_case``: the case is closed and every other phase still running ends."""
    session = uow.session
    now = ctx.clock.now()
    case.status = "closed"
    case.closed_at = now
    case.updated_at = now
    others = session.scalars(
        select(ProcessInstance.id).where(
            ProcessInstance.case_id == case.id,
            ProcessInstance.status == ACTIVE,
            ProcessInstance.id != origin,
        )
    ).all()
    for instance_id in others:
        cancel_instance(session, instance_id, now)
    reason = payload.get("reason") if isinstance(payload, dict) else None
    audit.record(
        session,
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="case.closed",
        case_id=case.id,
        instance_id=origin,
        reason=reason,
        cancelled_instances=[str(i) for i in others],
    )
    outbox.publish(session, "case.closed", now, case_id=case.id, case_number=case.case_number)


def _mark_sensitive(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    payload: Any,
    origin: uuid.UUID | None,
) -> None:
    """``casework.mark_sensitive``: access to the case narrows to its assignees and the
    security group (DOMAIN §5)."""
    now = ctx.clock.now()
    case.sensitive = True
    case.updated_at = now
    reason = payload.get("reason") if isinstance(payload, dict) else None
    audit.record(
        uow.session,
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="case.marked_sensitive",
        case_id=case.id,
        instance_id=origin,
        reason=reason,
    )


SETTABLE_STATUSES = frozenset({"screened_out"})


def _set_status(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    payload: Any,
    origin: uuid.UUID | None,
) -> None:
    """``casework.set_status``: a process records where the case stands (a report screened out
    at intake is then visible to intake staff only)."""
    status = payload.get("status") if isinstance(payload, dict) else None
    if status not in SETTABLE_STATUSES:
        raise Conflict(f"casework.set_status: {status!r} is not one of {sorted(SETTABLE_STATUSES)}")
    now = ctx.clock.now()
    case.status = status
    case.updated_at = now
    audit.record(
        uow.session,
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="case.status_set",
        case_id=case.id,
        instance_id=origin,
        status=status,
        reason=payload.get("reason"),
    )


HOST_COMMANDS = {
    "casework.set_status": _set_status,
    "casework.close_case": _close_case,
    "casework.mark_sensitive": _mark_sensitive,
}
assert set(HOST_COMMANDS) == HOST_MESSAGES


def cancel_instance(session: Session, instance_id: uuid.UUID, now: datetime) -> None:
    """End an instance where it stands: its open tasks, timers, awaited messages and the
    deadlines hanging on them are cancelled; its state is kept for the record."""
    session.execute(
        update(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .values(status=CANCELLED, completed_at=now, updated_at=now, next_timer_due_at=None)
    )
    session.execute(
        update(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.status == projections.READY)
        .values(
            status=projections.CANCELLED,
            completed_at=now,
            version=HumanTask.version + 1,
            draft=None,
            draft_saved_by=None,
        )
    )
    session.execute(
        update(Timer)
        .where(Timer.instance_id == instance_id, Timer.status == projections.PENDING)
        .values(status=projections.CANCELLED, claimed_until=None)
    )
    session.execute(delete(AwaitedMessage).where(AwaitedMessage.instance_id == instance_id))
    deadlines.instance_cancelled(session, instance_id)
