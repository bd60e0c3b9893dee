"""The engine step pipeline, inside a caller's unit of work: load an instance, let SpiffWorkflow
run (a start, a completion, a message, timers come due), and settle the step it returns into
the record — the instance's new state, the rows the step creates and ends, the events and
audit entries it implies — then hand the messages it threw to the instances of the same case
that wait for them (or start the process that catches them).

Reading order: ``load`` → (the caller runs the workflow) → ``settle`` → ``_plan`` (rows) →
``step_writes.write_step`` (statements) → ``_publish`` (events) → ``route`` (thrown messages).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases import record
from engine.cases.subjects import subject_of, titled
from engine.context import Actor, EngineContext
from engine.deadlines import ladders
from engine.deadlines.profiles import Profile
from engine.errors import Conflict, NotFound
from engine.instances import commands, stored
from engine.notifications.queue import notify
from engine.spiff.definitions import CompiledBundle, ProcessDefinition
from engine.spiff.runtime import Workflow
from engine.spiff.steps import Step
from engine.spiff.views import EMPTY, Snapshot, TimerView
from engine.spiff.workflow_cache import StoredAt
from engine.statuses import CaseStatus, InstanceStatus, TaskStatus, TimerStatus
from engine.storage import step_writes
from engine.storage.tables import (
    Allegation,
    AwaitedMessage,
    Case,
    CasePerson,
    ProcessInstance,
    Timer,
)
from engine.storage.uow import UnitOfWork
from engine.tasks.assignment import assign_new_tasks

# A message that starts or resumes an instance that throws again, and so on: a chain longer
# than this is a loop in the design, not a case.
MAX_MESSAGE_HOPS = 25
# Intake's end is where a report is screened in or out (DOMAIN S1-S2).


@dataclass(frozen=True)
class Run:
    """What every step of one use case shares: the engine, its unit of work, who acts, and the
    case they act on."""

    ctx: EngineContext
    uow: UnitOfWork
    actor: Actor
    case: Case


@dataclass(frozen=True)
class Loaded:
    """An instance's workflow, ready to run, with what its version and case say of it."""

    instance: ProcessInstance
    workflow: Workflow
    compiled: CompiledBundle
    profile: Profile
    before: Snapshot


def load(ctx: EngineContext, session: Session, instance: ProcessInstance, case: Case) -> Loaded:
    if instance.status != InstanceStatus.ACTIVE:
        raise Conflict(f"process instance {instance.id} is {instance.status}")
    compiled = ctx.definitions.compiled(session, instance.version_id)
    profile = profile_of(compiled, case)
    definition = _definition(compiled, instance.process_id)
    workflow = ctx.runtime.resume(
        instance.id,
        _stored_at(instance),
        definition,
        profile,
        instance.state,
        lambda: stored.finished_rows(session, instance.id),
    )
    return Loaded(instance, workflow, compiled, profile, ctx.runtime.snapshot(workflow))


def _stored_at(instance: ProcessInstance) -> StoredAt:
    return StoredAt(instance.lock_version, instance.version_id)


def _keep_once_committed(
    ctx: EngineContext, uow: UnitOfWork, instance: ProcessInstance, workflow: Workflow
) -> None:
    """The workflow stays deserialized in this process for the instance's next step, tagged
    with the row version its commit leaves (``engine.spiff.workflow_cache``)."""
    uow.after_commit(
        ("workflow", instance.id),
        lambda: ctx.runtime.keep(instance.id, _stored_at(instance), workflow),
    )


def settle(
    run: Run,
    loaded: Loaded,
    *,
    completed: uuid.UUID | None = None,
    completed_late: bool = False,
    hops: int = 0,
) -> None:
    """Store what the run made of the instance, and hand its thrown messages on."""
    ctx, uow, actor, case = run.ctx, run.uow, run.actor, run.case
    now = ctx.clock.now()
    step = ctx.runtime.step(
        loaded.workflow,
        loaded.before,
        now,
        completed=completed,
        data_for=loaded.profile.has_deadline_rules,
    )
    instance = loaded.instance
    _store_state(instance, step, now)
    if not step.finished:
        _keep_once_committed(ctx, uow, instance, loaded.workflow)
    _publish_outcome(uow, actor, case, instance, step, now)
    rows = _plan(uow, case, instance, loaded.profile, step, now)
    if completed_late:
        rows.completed_late = completed
    missed = step_writes.write_step(uow, rows, now)
    _publish_rows(uow, case, instance, rows, now, actor)
    ladders.publish_missed(uow, missed)
    for message in step.thrown:
        route(run, message.name, message.payload, hops + 1)


def start_in(
    run: Run,
    process_id: str,
    data: dict[str, Any],
    *,
    message: tuple[str, Any] | None = None,
    version_id: int | None = None,
    hops: int = 0,
    opens_case: bool = False,
) -> ProcessInstance:
    """Start a process for a case (on the version its jurisdiction's new work starts on,
    unless one is given); ``opens_case`` for the process the case opens with."""
    ctx, uow, actor, case = run.ctx, run.uow, run.actor, run.case
    session = uow.session
    if version_id is None:
        version_id = ctx.definitions.newest_version_of(session, process_id, case.profile_id)
    compiled = ctx.definitions.compiled(session, version_id)
    definition = _definition(compiled, process_id)
    if message is None and not definition.has_plain_start:
        raise Conflict(f"process {process_id!r} is started by a message, not directly")
    profile = profile_of(compiled, case)
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
        status=InstanceStatus.ACTIVE,
        state="",
        serializer_version="",
        created_at=now,
        updated_at=now,
        opens_case=opens_case,
    )
    uow.audit(
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
    settle(run, Loaded(instance, workflow, compiled, profile, EMPTY), hops=hops)
    return instance


def route(
    run: Run,
    name: str,
    payload: Any,
    hops: int = 0,
    *,
    require_waiting: bool = False,
    origin: uuid.UUID | None = None,
) -> uuid.UUID:
    """A message for a case: casework's own command, or the instance waiting for it, or (unless
    ``require_waiting``) a new instance of the process it starts. Returns the instance."""
    ctx, uow, actor, case = run.ctx, run.uow, run.actor, run.case
    command = commands.HOST_COMMANDS.get(name)
    if command is not None:
        command(run, payload, origin)
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
    if waiting is not None:
        loaded = load(ctx, session, lock_instance(session, waiting), case)
        ctx.runtime.deliver_message(loaded.workflow, name, payload)
        uow.audit(
            at=ctx.clock.now(),
            actor_id=actor.id,
            actor_role=actor.role,
            action="message.delivered",
            case_id=case.id,
            instance_id=waiting,
            message=name,
        )
        settle(run, loaded, hops=hops)
        return waiting
    start = (
        None
        if require_waiting
        else ctx.definitions.newest_start_route(session, name, case.profile_id)
    )
    if start is None:
        raise Conflict(
            f"no process of case {case.case_number} is waiting for message {name!r}, "
            "and no deployed process starts on it"
        )
    started = start_in(
        run,
        start.process_id,
        {},
        message=(name, payload),
        version_id=start.version_id,
        hops=hops,
    )
    return started.id


def fire_timers_in(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    instance_id: uuid.UUID,
    *,
    expect: tuple[uuid.UUID, datetime] | None = None,
) -> str:
    """Run an instance whose timers may have come due. Returns ``fired``; ``not yet`` when the
    engine still waits on ``expect`` (its clock says the timer is not due; nothing is
    written); or ``ended`` when the instance is no longer active."""
    instance = lock_instance(uow.session, instance_id)
    if instance.status != InstanceStatus.ACTIVE:
        return "ended"
    return fire_timers_on(
        ctx, uow, actor, instance, case_of(uow.session, instance.case_id), expect=expect
    )


def fire_timers_on(
    ctx: EngineContext,
    uow: UnitOfWork,
    actor: Actor,
    instance: ProcessInstance,
    case: Case,
    *,
    expect: tuple[uuid.UUID, datetime] | None = None,
) -> str:
    """``fire_timers_in`` on an active instance the caller has locked, with its case."""
    loaded = load(ctx, uow.session, instance, case)
    ctx.runtime.fire_timers(loaded.workflow)
    if expect is not None:
        waiting = {(t.task_id, t.due_at) for t in ctx.runtime.snapshot(loaded.workflow).timers}
        if expect in waiting:
            return "not yet"
    settle(Run(ctx, uow, actor, case), loaded)
    return "fired"


def reschedule(
    ctx: EngineContext,
    uow: UnitOfWork,
    instance_id: uuid.UUID,
    timer_id: uuid.UUID,
    due_at: datetime,
) -> Profile:
    """Move one pending timer of an instance. Returns the instance's jurisdiction profile."""
    session = uow.session
    instance = lock_instance(session, instance_id)
    timer = session.get(Timer, timer_id, with_for_update=True)
    if timer is None or timer.status != TimerStatus.PENDING:
        raise Conflict("the deadline's timer is no longer pending")
    loaded = load(ctx, session, instance, case_of(session, instance.case_id))
    ctx.runtime.reschedule_timer(loaded.workflow, timer.task_id, due_at)
    dumped = ctx.runtime.dump(loaded.workflow)
    instance.state = dumped.head
    step_writes.write_finished_tasks(uow, instance.id, *stored.row_changes(instance, dumped))
    _keep_once_committed(ctx, uow, instance, loaded.workflow)
    instance.updated_at = ctx.clock.now()
    timer.due_at = due_at
    timer.next_attempt_at = None
    pending = ctx.runtime.snapshot(loaded.workflow).timers
    instance.next_timer_due_at = min((t.due_at for t in pending), default=None)
    return loaded.profile


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
    names = {child.id: child.name for child in children}
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
                "victim_name": names.get(a.victim_id),
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


def lock_instance(session: Session, instance_id: uuid.UUID) -> ProcessInstance:
    # FOR UPDATE on PostgreSQL; on SQLite the writer's BEGIN IMMEDIATE already serializes.
    instance = session.get(
        ProcessInstance, instance_id, with_for_update=True, populate_existing=True
    )
    if instance is None:
        raise NotFound(f"no process instance {instance_id}")
    return instance


def case_of(session: Session, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def profile_of(compiled: CompiledBundle, case: Case) -> Profile:
    profile = compiled.profile(case.profile_id)
    if profile is None:
        raise Conflict(
            f"case {case.case_number} uses jurisdiction profile {case.profile_id!r}, "
            "which the deployed definitions do not have"
        )
    return profile


# -- settling a step ----------------------------------------------------------------------


def _definition(compiled: CompiledBundle, process_id: str) -> ProcessDefinition:
    definition = compiled.process(process_id)
    if definition is None:
        raise NotFound(f"no process {process_id!r} in this version")
    return definition


def _store_state(instance: ProcessInstance, step: Step, now: datetime) -> None:
    # Every field is set before anything flushes: one engine run is one INSERT or one UPDATE
    # of the instance (one version step).
    instance.state = step.state.head
    instance.serializer_version = step.serializer_version
    instance.updated_at = now
    instance.next_timer_due_at = step.next_timer_due_at
    if step.finished:
        instance.status = InstanceStatus.COMPLETED
        instance.completed_at = now


def _plan(
    uow: UnitOfWork,
    case: Case,
    instance: ProcessInstance,
    profile: Profile,
    step: Step,
    now: datetime,
) -> step_writes.StepRows:
    """The rows a step writes: its new tasks (assigned), timers, deadlines and their ladders."""
    changes = step.changes
    today = profile.calendar.local_date(now)
    titles = profile.data.get("maltreatment_types", {})
    subjects = {task.id: subject_of(task.item, today, titles) for task in changes.tasks_created}
    tasks = [
        {
            "id": task.id,
            "instance_id": instance.id,
            "case_id": case.id,
            "process_id": task.process_id,
            "bpmn_id": task.bpmn_id,
            "name": titled(task.name, subject := subjects[task.id]),
            "subject_id": subject.id if subject else None,
            "subject": subject.label if subject else None,
            "role": task.lane,
            "assignee": None,
            "team": case.team,
            "status": TaskStatus.READY,
            "created_at": now,
            "due_at": task.due_at,
            "version": 1,
        }
        for task in changes.tasks_created
    ]
    if tasks:
        assign_new_tasks(uow, case, tasks)
    timers = [_timer_row(instance, t, now, TimerStatus.PENDING) for t in changes.timers_armed]
    timers += [_timer_row(instance, t, now, TimerStatus.FIRED) for t in changes.timers_born_fired]
    armed = [
        ladders.ArmedTimer(
            row["id"], row["bpmn_id"], row["due_at"], row["attached_to"], step.timer_data[key]
        )
        for row in timers
        if (key := row["task_id"]) in step.timer_data
    ]
    deadlines, alerts = ladders.plan(profile, case.id, instance.id, armed, now)
    finished_added, finished_removed, finished_replaced = stored.row_changes(instance, step.state)
    return step_writes.StepRows(
        instance_id=instance.id,
        case_id=case.id,
        finished_tasks=finished_added,
        finished_removed=finished_removed,
        finished_replaced=finished_replaced,
        tasks=tasks,
        task_dues=[(t.id, t.due_at) for t in changes.tasks_moved],
        tasks_cancelled=changes.tasks_cancelled,
        timers=timers,
        deadlines=deadlines,
        scheduled_alerts=alerts,
        timers_ended=changes.timers_ended,
        messages_awaited=changes.messages_awaited,
        messages_no_longer_awaited=changes.messages_no_longer_awaited,
        deadline_timers=profile.deadline_timers,
    )


def _timer_row(
    instance: ProcessInstance, timer: TimerView, now: datetime, status: TimerStatus
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "instance_id": instance.id,
        "case_id": instance.case_id,
        "task_id": timer.task_id,
        "bpmn_id": timer.bpmn_id,
        "name": timer.name,
        "kind": timer.kind,
        "attached_to": timer.attached_to,
        "interrupting": timer.interrupting,
        "due_at": timer.due_at,
        "status": status,
        "created_at": now,
        **({"fired_at": now} if status == TimerStatus.FIRED else {}),
    }


def _publish_outcome(
    uow: UnitOfWork, actor: Actor, case: Case, instance: ProcessInstance, step: Step, now: datetime
) -> None:
    """What the run decided, and whether it ended the instance (a report screened)."""
    for decision in step.changes.decisions:
        record.record_decision(
            uow, case=case, version_id=instance.version_id, decision=decision, actor=actor, now=now
        )
        uow.publish(
            "decision.made",
            now,
            case_id=case.id,
            process_id=decision.process_id,
            element_id=decision.bpmn_id,
            outputs=decision.outputs,
        )
    if not step.finished:
        return
    uow.audit(
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="instance.completed",
        case_id=case.id,
        instance_id=instance.id,
        process_id=instance.process_id,
    )
    if instance.opens_case:
        screened_out = case.status == CaseStatus.SCREENED_OUT
        uow.publish(
            "case.screened",
            now,
            case_id=case.id,
            case_number=case.case_number,
            decision="screened_out" if screened_out else "screened_in",
        )


def _publish_rows(
    uow: UnitOfWork,
    case: Case,
    instance: ProcessInstance,
    rows: step_writes.StepRows,
    now: datetime,
    actor: Actor,
) -> None:
    """The tasks now waiting (their assignees told), and the timers that fired as they were
    armed."""
    for task in rows.tasks:
        # Events carry no one's name: the task's name without the child it is for.
        subject = task.get("subject")
        name = task["name"].removesuffix(f" — {subject}") if subject else task["name"]
        uow.publish(
            "task.created",
            now,
            case_id=case.id,
            task_id=task["id"],
            process_id=task["process_id"],
            element_id=task["bpmn_id"],
            name=name,
            role=task["role"],
            assignee=task["assignee"],
            due_at=task["due_at"],
        )
        if task["assignee"] is not None:
            path = f"/tasks/{task['id']}"
            notify(uow.session, [task["assignee"]], "assigned", case, path, now, acting=actor.id)
    for timer in rows.timers:
        if timer["status"] == TimerStatus.FIRED:
            uow.publish(
                "timer.fired",
                now,
                case_id=case.id,
                instance_id=instance.id,
                element_id=timer["bpmn_id"],
                due_at=timer["due_at"],
            )
