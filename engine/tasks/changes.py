"""Changes to an open task short of completing it: claim, give back, (re)assign, comment, save
a draft. Only a holder of the lane's role, on a case they may see, takes or drafts a task;
supervisors assign within the case's team."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.identity.access import (
    only_through_a_grant,
    readable_case,
    supervises,
)
from engine.identity.users import Principal
from engine.notifications.queue import notify
from engine.statuses import TaskStatus
from engine.storage.tables import Case, HumanTask, TaskComment, User
from engine.storage.uow import UnitOfWork
from engine.tasks.worklists import task_json

# Changes to a task that other systems hear of (comments and drafts stay inside).
TASK_EVENTS = frozenset({"task.claimed", "task.unclaimed", "task.assigned"})


def _ready(task: HumanTask) -> None:
    if task.status != TaskStatus.READY:
        raise Conflict(f"task {task.id} is {task.status}")


def may_take(principal: Principal, task: HumanTask) -> None:
    """Only a holder of the lane's role takes, drafts or completes a task."""
    if task.role not in principal.roles:
        raise Forbidden(f"this task is for the {task.role} role")


def _may_hold(session: Session, principal: Principal, task: HumanTask, case: Case) -> None:
    """Taking a task (or drafting it, which keeps it) needs the lane's role and standing
    access: a task held is access, and one taken through an emergency grant would outlast it."""
    may_take(principal, task)
    if only_through_a_grant(session, principal, case.id):
        raise Forbidden(
            "work taken through emergency access would outlast it: ask the case's supervisor "
            "to assign the task"
        )


def _anyone(uow: UnitOfWork, task: HumanTask, case: Case) -> None:
    """Whoever may read the case (the access check already passed)."""


def _never(task: HumanTask) -> bool:
    return False


@dataclass(frozen=True)
class TaskChange:
    """A change to an open task, in the order it is checked: the reader may see the case
    (404), ``permit`` says they may make this change (403), the task is open and at the
    version they saw (409), and unless ``already_done`` says the task is as asked, ``apply``
    changes it and returns the audit entry's details."""

    action: str
    apply: Callable[[UnitOfWork, HumanTask, Case], dict[str, Any] | None]
    permit: Callable[[UnitOfWork, HumanTask, Case], None] = _anyone
    already_done: Callable[[HumanTask], bool] = _never


def _change(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    change: TaskChange,
    expected_version: int | None = None,
) -> dict[str, Any]:
    with UnitOfWork(ctx.db.writer) as uow:
        changed = _apply(ctx, uow, principal, task_id, change, expected_version)
        uow.commit()
        return changed


def _apply(
    ctx: EngineContext,
    uow: UnitOfWork,
    principal: Principal,
    task_id: uuid.UUID,
    change: TaskChange,
    expected_version: int | None,
) -> dict[str, Any]:
    """One task's change inside the caller's unit of work (committed, or not, by the caller)."""
    now = ctx.clock.now()
    session = uow.session
    found = session.execute(
        select(HumanTask)
        .where(HumanTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no task {task_id}")
    case = readable_case(session, principal, found.case_id, f"no task {task_id}")
    change.permit(uow, found, case)
    _ready(found)
    if expected_version is not None and found.version != expected_version:
        raise Conflict(f"task {task_id} is at version {found.version}, not {expected_version}")
    if change.already_done(found):
        return task_json(found, case.case_number, now)  # nothing to write, no event
    details = change.apply(uow, found, case) or {}
    found.version += 1
    uow.audit(
        at=now,
        actor_id=principal.id,
        actor_role=principal.actor.role,
        action=change.action,
        case_id=case.id,
        instance_id=found.instance_id,
        task_id=found.id,
        **details,
    )
    if change.action in TASK_EVENTS:
        uow.publish(
            change.action,
            now,
            case_id=case.id,
            task_id=found.id,
            process_id=found.process_id,
            element_id=found.bpmn_id,
            role=found.role,
            assignee=found.assignee,
            by=principal.id,
        )
    return task_json(found, case.case_number, now)


def claim(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Take a task. Taking one's own task again changes nothing and tells no one."""

    def apply(uow: UnitOfWork, task: HumanTask, case: Case) -> None:
        if task.assignee is not None:
            raise Conflict(f"task {task.id} is assigned to {task.assignee}")
        task.assignee = principal.id

    change = TaskChange(
        "task.claimed",
        apply,
        permit=lambda uow, task, case: _may_hold(uow.session, principal, task, case),
        already_done=lambda task: task.assignee == principal.id,
    )
    return _change(ctx, principal, task_id, change, expected_version)


def unclaim(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    expected_version: int | None = None,
) -> dict[str, Any]:
    def permit(uow: UnitOfWork, task: HumanTask, case: Case) -> None:
        if task.assignee != principal.id and not supervises(uow.session, principal, case):
            raise Forbidden("only the assignee or a supervisor can give a task back")

    def apply(uow: UnitOfWork, task: HumanTask, case: Case) -> None:
        task.assignee = None

    change = TaskChange("task.unclaimed", apply, permit=permit)
    return _change(ctx, principal, task_id, change, expected_version)


def assign(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    user_id: str,
    expected_version: int | None = None,
) -> dict[str, Any]:
    return _change(ctx, principal, task_id, _assignment(ctx, principal, user_id), expected_version)


def assign_many(
    ctx: EngineContext,
    principal: Principal,
    tasks: list[tuple[uuid.UUID, int | None]],
    user_id: str,
) -> list[dict[str, Any]]:
    """A supervisor hands several tasks (each at the version they saw) to one person: all of
    them, or, when one cannot be (stale, another role, another team), none."""
    if not tasks:
        raise InvalidInput("choose the tasks to assign")
    if len(tasks) > MAX_ASSIGNED_AT_ONCE:
        raise InvalidInput(f"assign at most {MAX_ASSIGNED_AT_ONCE} tasks at once")
    change = _assignment(ctx, principal, user_id)
    with UnitOfWork(ctx.db.writer) as uow:
        assigned = [_apply(ctx, uow, principal, task_id, change, v) for task_id, v in tasks]
        uow.commit()
        return assigned


MAX_ASSIGNED_AT_ONCE = 100


def _assignment(ctx: EngineContext, principal: Principal, user_id: str) -> TaskChange:
    def permit(uow: UnitOfWork, task: HumanTask, case: Case) -> None:
        if not supervises(uow.session, principal, case):
            raise Forbidden("assigning tasks is for the case's supervisor or program director")

    def apply(uow: UnitOfWork, task: HumanTask, case: Case) -> dict[str, Any]:
        user = uow.session.get(User, user_id)
        if user is None or not user.active:
            raise InvalidInput(f"no active user {user_id}")
        if task.role not in user.roles:
            raise InvalidInput(f"{user.display_name} does not hold the {task.role} role")
        if case.team is not None and user.team_id != case.team:
            # Work is handed within the case's team, never across teams.
            raise InvalidInput(f"{user.display_name} is not in team {case.team}, the case's team")
        previous = task.assignee
        # The task changes hands, the case does not: its primary worker changes only at a
        # stage transfer or by a supervisor's decision (engine.cases.primary_worker).
        task.assignee = user_id
        notify(
            uow.session, [user_id], "assigned", case, f"/tasks/{task.id}", ctx.clock.now(),
            acting=principal.id,
        )  # fmt: skip
        return {"from": previous, "to": user_id}

    return TaskChange("task.assigned", apply, permit=permit)


def comment(
    ctx: EngineContext, principal: Principal, task_id: uuid.UUID, text: str
) -> dict[str, Any]:
    if not text.strip() or len(text) > 8000:
        raise InvalidInput("a comment needs 1 to 8000 characters")

    def apply(uow: UnitOfWork, task: HumanTask, case: Case) -> None:
        uow.session.add(
            TaskComment(
                id=uuid.uuid4(),
                task_id=task.id,
                case_id=case.id,
                author=principal.id,
                at=ctx.clock.now(),
                text=text,
            )
        )

    return _change(ctx, principal, task_id, TaskChange("task.commented", apply))


def save_draft(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("a draft is a JSON object")

    def apply(uow: UnitOfWork, task: HumanTask, case: Case) -> dict[str, Any]:
        if task.assignee not in (None, principal.id):
            raise Conflict(f"task {task.id} is assigned to {task.assignee}")
        task.draft = data
        task.draft_saved_by = principal.id
        return {"fields": sorted(data)}

    change = TaskChange(
        "task.draft_saved",
        apply,
        permit=lambda uow, task, case: _may_hold(uow.session, principal, task, case),
        # A form saves itself as one types: the same text again writes nothing.
        already_done=lambda task: task.draft == data and task.draft_saved_by == principal.id,
    )
    return _change(ctx, principal, task_id, change, expected_version)
