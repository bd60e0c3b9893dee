"""Tasks as caseworkers and supervisors handle them: worklists, a task with its form, claim,
unclaim, (re)assign, comment, save a draft, complete. Only a holder of the lane's role, on a
case they may see, takes or completes a task; supervisors assign within their teams."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Bundle, Session

from engine import audit, outbox, redaction
from engine.access import (
    only_through_a_grant,
    readable_case,
    reads_as_assignee,
    supervises,
    visible_cases,
)
from engine.assignment import CASE_OWNING_LANES
from engine.case_reads import audit_listed, reading_case, reading_task
from engine.context import Actor, EngineContext
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.forms import CONFIRMATION_SCHEMA
from engine.identity import Principal
from engine.instances import complete_task
from engine.tables import Case, Deadline, HumanTask, ProcessInstance, TaskComment, User
from engine.uow import UnitOfWork

VIEWS = ("mine", "queue", "team", "overdue", "all")

# Changes to a task that other systems hear of (comments and drafts stay inside).
TASK_EVENTS = frozenset({"task.claimed", "task.unclaimed", "task.assigned"})


class TaskFields(Protocol):
    """What a task's JSON is made of: a HumanTask, or a worklist row of just these columns."""

    id: uuid.UUID
    case_id: uuid.UUID
    process_id: str
    bpmn_id: str
    name: str
    role: str | None
    assignee: str | None
    status: str
    created_at: datetime
    due_at: datetime | None
    overdue_since: datetime | None
    version: int


def task_json(task: TaskFields, case_number: str, now: datetime) -> dict[str, Any]:
    return {
        "id": str(task.id),
        "case_id": str(task.case_id),
        "case_number": case_number,
        "process_id": task.process_id,
        "element_id": task.bpmn_id,
        "name": task.name,
        "role": task.role,
        "assignee": task.assignee,
        "status": task.status,
        "created_at": task.created_at.isoformat(),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "overdue": task.status == "ready"
        and (task.overdue_since is not None or (task.due_at is not None and task.due_at < now)),
        "version": task.version,
    }


@dataclass(frozen=True)
class Worklist:
    view: str = "mine"
    due_within_days: int | None = None
    case_id: uuid.UUID | None = None
    offset: int = 0
    limit: int = 50


# Only what a worklist row shows (the TaskFields), as plain rows: no ORM objects to build for
# every line.
_WORKLIST_ROW = Bundle("task", *(getattr(HumanTask, field) for field in TaskFields.__annotations__))


def worklist(
    ctx: EngineContext, principal: Principal, wanted: Worklist
) -> tuple[list[dict[str, Any]], int]:
    """Ready tasks, soonest due first: ``mine`` (assigned to me), ``queue`` (unassigned, in my
    roles), ``team`` (my teams' — supervisors), ``overdue``, ``all`` (everything I may see)."""
    if wanted.view not in VIEWS:
        raise InvalidInput(f"view must be one of {', '.join(VIEWS)}")
    now = ctx.clock.now()
    # A big view's total is counted in a statement of its own (see _page_apart).
    apart: list[ColumnElement[bool]] | None = None
    query: Select[Any] = (
        select(_WORKLIST_ROW, Case.case_number, Case.sensitive)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.status == "ready", visible_cases(principal))
    )
    if wanted.view == "mine":
        query = query.where(HumanTask.assignee == principal.id)
    elif wanted.view == "queue":
        query = query.where(
            HumanTask.assignee.is_(None), HumanTask.role.in_(sorted(principal.roles))
        )
    elif wanted.view == "team":
        if not principal.supervised_teams and not principal.has("program_director"):
            raise Forbidden("the team view is for supervisors and program directors")
        apart = []
        if principal.supervised_teams:
            teams = sorted(principal.supervised_teams)
            query = query.where(HumanTask.team.in_(teams))
            # The same condition said of the case (a task's team is a copy of its case's):
            # the count then joins the two team indexes instead of looking each case up. Not
            # on the page: it leads the planner's estimate astray, to reading every row.
            apart.append(Case.team.in_(teams))
    elif wanted.view == "overdue":
        query = query.where(or_(HumanTask.due_at < now, HumanTask.overdue_since.is_not(None)))
    if wanted.due_within_days is not None:
        query = query.where(HumanTask.due_at <= now + timedelta(days=wanted.due_within_days))
    if wanted.case_id is not None:
        query = query.where(HumanTask.case_id == wanted.case_id)
    query = query.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)
    with ctx.db.reader() as session:
        if apart is None:
            rows, total = _page_counted_over(session, query, wanted)
        else:
            rows, total = _page_apart(session, query, wanted, apart)
    audit_listed(ctx, principal, [(t.case_id, sensitive) for t, _, sensitive in rows], "worklist")
    return [task_json(t, number, now) for t, number, _ in rows], total


def _page_counted_over(
    session: Session, query: Select[Any], wanted: Worklist
) -> tuple[list[Any], int]:
    """The page and the total in one statement (a window count): for views of one person's
    tasks, which are read whole to be sorted anyway."""
    rows = session.execute(
        query.add_columns(func.count().over()).offset(wanted.offset).limit(wanted.limit)
    ).all()
    if rows:
        return [row[:3] for row in rows], rows[0][3]
    if wanted.offset == 0:
        return [], 0
    return [], _count(session, query)


def _page_apart(
    session: Session, query: Select[Any], wanted: Worklist, count_also: list[ColumnElement[bool]]
) -> tuple[list[Any], int]:
    """The page, then the total in a statement of its own: a team's thousands of tasks are
    not read in full. The page is read from the due-order index and stops when full; the
    count reads indexes only (on PostgreSQL, which carry the columns it needs)."""
    rows = session.execute(query.offset(wanted.offset).limit(wanted.limit)).all()
    if 0 < len(rows) < wanted.limit or (not rows and wanted.offset == 0):
        return list(rows), wanted.offset + len(rows)
    return list(rows), _count(session, query.where(*count_also))


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(query.order_by(None).with_only_columns(func.count())) or 0


def task_detail(ctx: EngineContext, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    """A task with its form, current data, deadline, draft and comments, the reporter
    redacted for this reader; reading a sensitive case's task is audited."""
    with reading_task(ctx, principal, task_id, "task") as (session, task, case):
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        compiled = ctx.definitions.compiled(session, instance.version_id)
        result = task_json(task, case.case_number, ctx.clock.now())
        result["form"] = _form(compiled, task)
        data: dict[str, Any] = {}
        if task.status == "ready" and instance.status == "active":
            definition = compiled.process(instance.process_id)
            profile = compiled.profile(case.profile_id)
            if definition is not None and profile is not None:
                workflow = ctx.runtime.load(definition, profile, instance.state)
                data = ctx.runtime.task_data(workflow, task.id)
        redactor = redaction.for_case(session, principal, case.id)
        fields = set(result["form"].get("properties", {}))
        result["data"] = redactor.value(
            {k: v for k, v in data.items() if k in fields or k == "reporter"}
        )
        result["context"] = redactor.value(
            {k: v for k, v in data.items() if k not in fields and _plain(v)}
        )
        result["draft"] = redactor.value(task.draft)
        deadline = session.scalar(
            select(Deadline).where(Deadline.task_id == task.id).order_by(Deadline.due_at)
        )
        result["deadline"] = (
            {
                "id": deadline.deadline_id,
                "title": deadline.title,
                "due_at": deadline.due_at.isoformat(),
                "status": deadline.status,
            }
            if deadline
            else None
        )
        result["comments"] = [
            {"author": c.author, "at": c.at.isoformat(), "text": redactor.text(c.text)}
            for c in session.scalars(
                select(TaskComment).where(TaskComment.task_id == task.id).order_by(TaskComment.at)
            )
        ]
    return result


def task_form(ctx: EngineContext, principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    """The task's form alone: what a submission is read against (no instance is loaded)."""
    with reading_task(ctx, principal, task_id, "task form") as (session, task, _):
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        return _form(ctx.definitions.compiled(session, instance.version_id), task)


def _form(compiled: Any, task: HumanTask) -> dict[str, Any]:
    return compiled.form(task.bpmn_id) or CONFIRMATION_SCHEMA


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _ready(task: HumanTask) -> None:
    if task.status != "ready":
        raise Conflict(f"task {task.id} is {task.status}")


def _may_take(principal: Principal, task: HumanTask) -> None:
    if task.role not in principal.roles:
        raise Forbidden(f"this task is for the {task.role} role")


def _may_hold(session: Session, principal: Principal, task: HumanTask, case: Case) -> None:
    """Taking a task (or drafting it, which keeps it) needs the lane's role and standing
    access: a task held is access, and one taken through an emergency grant would outlast it."""
    _may_take(principal, task)
    if only_through_a_grant(session, principal, case.id):
        raise Forbidden(
            "work taken through emergency access would outlast it: ask the case's supervisor "
            "to assign the task"
        )


def _anyone(session: Session, task: HumanTask, case: Case) -> None:
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
    apply: Callable[[Session, HumanTask, Case], dict[str, Any] | None]
    permit: Callable[[Session, HumanTask, Case], None] = _anyone
    already_done: Callable[[HumanTask], bool] = _never


def _change(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    change: TaskChange,
    expected_version: int | None = None,
) -> dict[str, Any]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
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
        change.permit(session, found, case)
        _ready(found)
        if expected_version is not None and found.version != expected_version:
            raise Conflict(f"task {task_id} is at version {found.version}, not {expected_version}")
        if change.already_done(found):
            return task_json(found, case.case_number, now)  # nothing to write, no event
        details = change.apply(session, found, case) or {}
        found.version += 1
        audit.record(
            session,
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
            outbox.publish(
                session,
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
        uow.commit()
        return task_json(found, case.case_number, now)


def claim(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Take a task. Taking one's own task again changes nothing and tells no one."""

    def apply(session: Session, task: HumanTask, case: Case) -> None:
        if task.assignee is not None:
            raise Conflict(f"task {task.id} is assigned to {task.assignee}")
        task.assignee = principal.id

    change = TaskChange(
        "task.claimed",
        apply,
        permit=lambda session, task, case: _may_hold(session, principal, task, case),
        already_done=lambda task: task.assignee == principal.id,
    )
    return _change(ctx, principal, task_id, change, expected_version)


def unclaim(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    expected_version: int | None = None,
) -> dict[str, Any]:
    def permit(session: Session, task: HumanTask, case: Case) -> None:
        if task.assignee != principal.id and not supervises(session, principal, case):
            raise Forbidden("only the assignee or a supervisor can give a task back")

    def apply(session: Session, task: HumanTask, case: Case) -> None:
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
    def permit(session: Session, task: HumanTask, case: Case) -> None:
        if not supervises(session, principal, case):
            raise Forbidden("assigning tasks is for the case's supervisor or program director")

    def apply(session: Session, task: HumanTask, case: Case) -> dict[str, Any]:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise InvalidInput(f"no active user {user_id}")
        if task.role not in user.roles:
            raise InvalidInput(f"{user_id} does not hold the {task.role} role")
        if case.team is not None and user.team_id != case.team:
            # Handing the work over hands the case over: within its team, never across teams.
            raise InvalidInput(f"{user_id} is not in team {case.team}, the case's team")
        previous = task.assignee
        task.assignee = user_id
        if task.role in CASE_OWNING_LANES and case.assigned_to != user_id:
            outbox.publish(
                session,
                "case.assigned",
                ctx.clock.now(),
                case_id=case.id,
                case_number=case.case_number,
                assigned_to=user_id,
                previous=case.assigned_to,
                team=case.team,
            )
            case.assigned_to = user_id  # the case follows its worker
        return {"from": previous, "to": user_id}

    change = TaskChange("task.assigned", apply, permit=permit)
    return _change(ctx, principal, task_id, change, expected_version)


def comment(
    ctx: EngineContext, principal: Principal, task_id: uuid.UUID, text: str
) -> dict[str, Any]:
    if not text.strip() or len(text) > 8000:
        raise InvalidInput("a comment needs 1 to 8000 characters")

    def apply(session: Session, task: HumanTask, case: Case) -> None:
        session.add(
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

    def apply(session: Session, task: HumanTask, case: Case) -> dict[str, Any]:
        if task.assignee not in (None, principal.id):
            raise Conflict(f"task {task.id} is assigned to {task.assignee}")
        task.draft = data
        task.draft_saved_by = principal.id
        return {"fields": sorted(data)}

    change = TaskChange(
        "task.draft_saved",
        apply,
        permit=lambda session, task, case: _may_hold(session, principal, task, case),
    )
    return _change(ctx, principal, task_id, change, expected_version)


def complete(
    ctx: EngineContext,
    principal: Principal,
    task_id: uuid.UUID,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Complete a task as this principal: their role must hold the lane, the case be visible,
    and the task be theirs or unassigned."""
    cases: list[Case] = []

    def as_permitted(session: Session, task: HumanTask, case: Case) -> Actor:
        # Checked inside the completing unit of work: one transaction, not a read before it;
        # and for the task's or the case's own worker, without a query at all.
        if task.status != "ready" and task.role in principal.roles:
            # Someone of the lane was quicker (and the case may have moved out of this
            # person's sight with it): say so, as the task's status only, nothing of its case.
            raise Conflict(f"task {task_id} is {task.status}: it was done meanwhile")
        if not reads_as_assignee(principal, case, task):
            case = readable_case(session, principal, case.id, f"no task {task_id}")
        cases.append(case)
        _may_take(principal, task)
        return principal.acting_as(task.role)

    done = complete_task(
        ctx,
        principal.actor,
        task_id,
        data,
        expected_version=expected_version,
        taker=principal.id,
        authorize=as_permitted,
    )
    return task_json(done, cases[0].case_number, ctx.clock.now())


def case_tasks(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID
) -> list[dict[str, Any]]:
    with reading_case(ctx, principal, case_id, "tasks") as (session, case):
        return case_task_rows(session, case, ctx.clock.now())


def case_task_rows(session: Session, case: Case, now: datetime) -> list[dict[str, Any]]:
    """Every task of a case, oldest first (the caller has checked access)."""
    rows = session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.created_at)
    )
    return [task_json(t, case.case_number, now) for t in rows]
