"""Worklists: a person's tasks, soonest due first, in the views they work from (mine, my
roles' queue, my teams', overdue, all I may see), and all the tasks of one case; a task as its
JSON shows it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Bundle, Session

from engine.cases.reads import audit_listed, reading_case
from engine.context import EngineContext
from engine.errors import Forbidden, InvalidInput
from engine.identity.access import (
    visible_cases,
)
from engine.identity.users import Principal
from engine.statuses import TaskStatus
from engine.storage.tables import Case, CasePerson, HumanTask

VIEWS = ("mine", "queue", "team", "overdue", "all")


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
        "overdue": task.status == TaskStatus.READY
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
_WORKLIST_ROW: Bundle[Any] = Bundle(
    "task", *(getattr(HumanTask, field) for field in TaskFields.__annotations__)
)


def worklist(
    ctx: EngineContext, principal: Principal, wanted: Worklist
) -> tuple[list[dict[str, Any]], int]:
    """Ready tasks, soonest due first: ``mine`` (assigned to me), ``queue`` (unassigned, in my
    roles), ``team`` (my teams' — supervisors), ``overdue``, ``all`` (everything I may see)."""
    now = ctx.clock.now()
    query, apart = _view(principal, wanted, now)
    query = query.order_by(HumanTask.due_at.asc().nulls_last(), HumanTask.created_at, HumanTask.id)
    with ctx.db.reader() as session:
        if apart is None:
            rows, total = _page_counted_over(session, query, wanted)
        else:
            rows, total = _page_apart(session, query, wanted, apart)
        children = children_of(session, {t.case_id for t, *_ in rows})
    audit_listed(
        ctx, principal, [(t.case_id, sensitive) for t, _, sensitive, _ in rows], "worklist"
    )
    return [
        {
            **task_json(t, number, now),
            "children": children.get(t.case_id, []),
            "profile_id": profile_id,
        }
        for t, number, _, profile_id in rows
    ], total


def children_of(session: Session, case_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The children of each case by name: how workers tell their cases apart in a list."""
    found: dict[uuid.UUID, list[str]] = {}
    if not case_ids:
        return found
    for case_id, name in session.execute(
        select(CasePerson.case_id, CasePerson.name)
        .where(CasePerson.case_id.in_(case_ids), CasePerson.role == "child")
        .order_by(CasePerson.name)
    ):
        found.setdefault(case_id, []).append(name or "(no name yet)")
    return found


def _view(
    principal: Principal, wanted: Worklist, now: datetime
) -> tuple[Select[Any], list[ColumnElement[bool]] | None]:
    """The ready tasks of a view (unordered), and for a big view the conditions its count
    adds (see _page_apart)."""
    if wanted.view not in VIEWS:
        raise InvalidInput(f"view must be one of {', '.join(VIEWS)}")
    # A big view's total is counted in a statement of its own (see _page_apart).
    apart: list[ColumnElement[bool]] | None = None
    query: Select[Any] = (
        select(_WORKLIST_ROW, Case.case_number, Case.sensitive, Case.profile_id)
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.status == TaskStatus.READY, visible_cases(principal))
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
    return query, apart


def counts(
    ctx: EngineContext, principal: Principal, views: list[str], *, mine_due_by: datetime
) -> dict[str, int]:
    """How many tasks each view holds, and how many of mine are due by ``mine_due_by`` (the
    end of today) or overdue: the numbers on the tabs and in the header. Counts name no case,
    so reading them is not a read of any case."""
    now = ctx.clock.now()
    found: dict[str, int] = {}
    with ctx.db.reader() as session:
        for view in views:
            query, apart = _view(principal, Worklist(view=view), now)
            found[view] = _count(session, query.where(*(apart or [])))
        mine, _ = _view(principal, Worklist(view="mine"), now)
        found["mine_due_today"] = _count(
            session, mine.where(HumanTask.due_at >= now, HumanTask.due_at <= mine_due_by)
        )
        found["mine_overdue"] = _count(
            session,
            mine.where(or_(HumanTask.due_at < now, HumanTask.overdue_since.is_not(None))),
        )
    return found


def _page_counted_over(
    session: Session, query: Select[Any], wanted: Worklist
) -> tuple[list[Any], int]:
    """The page and the total in one statement (a window count): for views of one person's
    tasks, which are read whole to be sorted anyway."""
    rows = session.execute(
        query.add_columns(func.count().over()).offset(wanted.offset).limit(wanted.limit)
    ).all()
    if rows:
        return [row[:4] for row in rows], rows[0][4]
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
