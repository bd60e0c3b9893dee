"""Completing a human task: the use case a caseworker's *Complete* runs, top to bottom.

Load the task (locked) with its case → check the person may complete it → check it is still
open at the version they saw → validate the form → run the engine step → close the task and
record it → settle the step (``engine.instances.steps``) → commit. One unit of work: nothing
is written unless all of it is.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.cases import court_report, record, redaction
from engine.cases.subjects import form_for_case
from engine.context import Actor, EngineContext
from engine.deadlines.event_time import judge_by_event_time
from engine.errors import Conflict, NotFound
from engine.events.audit import changed_fields
from engine.identity.access import readable_case, reads_as_assignee
from engine.identity.users import Principal
from engine.instances import steps
from engine.statuses import TaskStatus
from engine.storage.tables import Case, HumanTask, ProcessInstance, User
from engine.storage.uow import UnitOfWork
from engine.tasks.changes import may_take
from engine.tasks.form_schemas import (
    CONFIRMATION_SCHEMA,
    spec_of,
    validate_task_data,
)
from engine.tasks.worklists import task_json

log = logging.getLogger(__name__)

# The caller's access rule: sees the task and its case first, and names the actor (or raises).
Authorize = Callable[[Session, HumanTask, Case], Actor]


def complete(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """A person completes a task: their role must hold the lane, the case be theirs to read,
    and the task be theirs or unassigned (it becomes theirs). Returns the task as its JSON."""
    numbers: list[str] = []

    def as_permitted(session: Session, task: HumanTask, case: Case) -> Actor:
        # Checked inside the completing unit of work: one transaction, not a read before it;
        # and for the task's or the case's own worker, without a query at all.
        if task.status != TaskStatus.READY and task.role in principal.roles:
            # Someone of the lane was quicker (and the case may have moved out of this
            # person's sight with it): say so, as the task's status only, nothing of its case.
            raise Conflict(f"task {task_id} is {task.status}: it was done meanwhile")
        if not reads_as_assignee(principal, case, task):
            readable_case(session, principal, case.id, f"no task {task_id}")
        may_take(principal, task)
        numbers.append(case.case_number)
        return principal.acting_as(task.role)

    done = complete_task(
        ctx,
        principal.actor,
        task_id,
        data,
        expected_version=expected_version,
        authorize=as_permitted,
    )
    # A report task's copy of the court report is printed once its recommendation is in the
    # record (so after that commit): printing holds no transaction open.
    answer = task_json(done, numbers[0], ctx.clock.now())
    try:
        kept = court_report.file_for_task(ctx, principal, done)
    except Exception:
        # Said to the person (and logged): the report can be kept from the case page.
        log.exception("the court report of task %s could not be kept", task_id)
        answer["court_report_not_kept"] = True
        return answer
    if kept is not None:
        answer["court_report_document_id"] = kept["id"]
    return answer


def complete_task(
    ctx: EngineContext,
    actor: Actor,
    task_id: uuid.UUID,
    data: dict[str, Any],
    *,
    expected_version: int | None = None,
    authorize: Authorize | None = None,
) -> HumanTask:
    """Complete a ready task with form data and run the process on. With ``authorize`` (the
    caller's access rule, which names the person acting) the task must be unassigned or that
    person's, and becomes theirs.

    Raises NotFound, Forbidden, Conflict (not ready, already done, stale ``expected_version``,
    or a concurrent completion won) or InvalidTaskData (field errors); nothing changes then.
    """
    with UnitOfWork(ctx.db.writer) as uow:
        # The case's worker comes too and is held here: they usually get the tasks this
        # completion makes, and assignment then finds them in the session.
        task, instance, case, _worker = _locked(uow.session, task_id)
        taker = None
        if authorize is not None:
            # Before the task's state says anything: a refused user learns nothing of it.
            actor = authorize(uow.session, task, case)
            taker = actor.id
        _check_open(task, expected_version, taker)
        loaded = steps.load(ctx, uow.session, instance, case)
        now = ctx.clock.now()
        form = loaded.compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA
        form = form_for_case(uow.session, form, case.id, loaded.profile, now)
        validate_task_data(form, data)
        rules, calendar = loaded.profile.records, loaded.profile.calendar
        spec = spec_of(form, task.bpmn_id)
        happened = record.event_time(spec, data, calendar, rules, now)
        redaction.note_reporter(uow.session, case.id, data.get("reporter"))
        before = ctx.runtime.task_data(loaded.workflow, task_id)
        ctx.runtime.complete_task(loaded.workflow, task_id, data)
        _close(uow, task, actor, case, now, changed_fields(before, data))
        entry = record.record_completion(
            uow,
            case=case,
            task=task,
            version_id=instance.version_id,
            spec=spec,
            data=data,
            event=happened,
            actor=actor,
            now=now,
            rules=rules,
        )
        steps.settle(
            steps.Run(ctx, uow, actor, case),
            loaded,
            completed=task.id,
            completed_late=task.overdue_since is not None,
        )
        # Only a task bounded by a timer can have deadlines hanging on it (and then it has a
        # due date, or went overdue): the others are not looked up.
        if task.due_at is not None or task.overdue_since is not None:
            judge_by_event_time(
                uow,
                task_id=task.id,
                happened_at=entry.occurred_at,
                happened_on=entry.occurred_on,
                entered_at=now,
                calendar=calendar,
                actor=actor,
                reason="the work was entered after its deadline" if entry.late_entry else "entered",
            )
        uow.commit()
    return task


# Built once: it runs on every completion.
_TASK_TO_COMPLETE = (
    select(HumanTask, ProcessInstance, Case, User)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .join(Case, Case.id == HumanTask.case_id)
    .outerjoin(User, User.id == Case.assigned_to)
    .where(HumanTask.id == bindparam("task_id"))
    .with_for_update(of=[HumanTask, ProcessInstance])
    .execution_options(populate_existing=True)
)


def _locked(
    session: Session, task_id: uuid.UUID
) -> tuple[HumanTask, ProcessInstance, Case, User | None]:
    """The task, its instance and its case in one read that locks the task and the instance
    (FOR UPDATE on PostgreSQL; the SQLite writer's BEGIN IMMEDIATE already serializes): a
    concurrent completion waits here and then sees the task completed."""
    found = session.execute(_TASK_TO_COMPLETE, {"task_id": task_id}).first()
    if found is None:
        raise NotFound(f"no task {task_id}")
    task, instance, case, worker = found
    return task, instance, case, worker


def _check_open(task: HumanTask, expected_version: int | None, taker: str | None) -> None:
    if task.status != TaskStatus.READY:
        raise Conflict(f"task {task.id} is {task.status}, not ready")
    if expected_version is not None and task.version != expected_version:
        raise Conflict(
            f"task {task.id} is at version {task.version}, not {expected_version}; reload it"
        )
    if taker is not None:
        if task.assignee not in (None, taker):
            raise Conflict(f"task {task.id} is assigned to {task.assignee}")
        task.assignee = taker


def _close(
    uow: UnitOfWork,
    task: HumanTask,
    actor: Actor,
    case: Case,
    now: datetime,
    changed: list[str],
) -> None:
    task.status = TaskStatus.COMPLETED
    task.completed_at = now
    task.completed_by = actor.id
    task.version += 1
    # The draft was a step towards what is now recorded: kept, it would be a second,
    # unchecked copy of the form (and the reporter's name with it).
    task.draft = None
    task.draft_saved_by = None
    uow.audit(
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="task.completed",
        case_id=case.id,
        instance_id=task.instance_id,
        task_id=task.id,
        task=task.bpmn_id,
        changed_fields=changed,
    )
    uow.publish(
        "task.completed",
        now,
        case_id=case.id,
        task_id=task.id,
        process_id=task.process_id,
        element_id=task.bpmn_id,
        role=task.role,
        completed_by=actor.id,
    )
