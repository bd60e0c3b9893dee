"""Record-level access (DOMAIN §5): who may see which case, and what of it.

- intake staff see the cases in intake, the screened-out reports and the intakes they opened;
- investigators, caseworkers and attorneys see the cases assigned to them or where a task is,
  and their team's cases with a task waiting unassigned in their role (their queue);
- supervisors see their teams' cases, program directors their unit's;
- a sensitive case only its assignees and the security group;
- the reporter's identity only intake staff and supervisors.

A case someone may not see does not exist for them: reads answer "not found".
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.errors import Forbidden, NotFound
from engine.identity import INTAKE_ROLES, SUPERVISING_ROLES, WORKER_ROLES, Principal
from engine.tables import Case, HumanTask, ProcessInstance, Team

SCREENED_OUT = "screened_out"
REDACTED = "[redacted]"


# Aliased and correlated to Case only: the filter is also used in queries over tasks. Made
# once: building an alias costs more than running the worklist query it sits in.
_ASSIGNED_TASK = aliased(HumanTask, name="assigned_task")
_QUEUED_TASK = aliased(HumanTask, name="queued_task")


def _has_task_of(principal: Principal) -> ColumnElement[bool]:
    task = _ASSIGNED_TASK
    return (
        select(task.id)
        .where(task.case_id == Case.id, task.assignee == principal.id)
        .correlate(Case)
        .exists()
    )


def _queued_for(principal: Principal) -> ColumnElement[bool]:
    """Cases of the worker's own team with a ready task waiting, unassigned, in one of their
    roles (an attorney's court task, say): they must read the case to take the task."""
    task = _QUEUED_TASK
    return and_(
        Case.team == principal.team_id,
        select(task.id)
        .where(
            task.case_id == Case.id,
            task.status == "ready",
            task.assignee.is_(None),
            task.role.in_(sorted(principal.roles & WORKER_ROLES)),
        )
        .correlate(Case)
        .exists(),
    )


@lru_cache(maxsize=1024)  # about 15 kB each
def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """A filter on ``Case`` rows: the cases this principal may read.

    Built once per principal (a frozen value: a change of roles or teams is another key) and
    kept: building it cost about as much as the database's work for a worklist page.

    The tests on the case row come before the ones that search its tasks. SQL promises no
    order, but PostgreSQL's executor tries an OR's terms as written and stops at the first
    that holds: with this order, EXPLAIN ANALYZE of a supervisor's team view shows the task
    lookups "never executed" (before, one per row).
    """
    on_row: list[ColumnElement[bool]] = []
    searched: list[ColumnElement[bool]] = []
    not_screened_out = Case.status != SCREENED_OUT
    if principal.roles & INTAKE_ROLES:
        on_row += [Case.status == SCREENED_OUT, Case.opened_by == principal.id]
        searched.append(
            select(ProcessInstance.id)
            .where(
                ProcessInstance.case_id == Case.id,
                ProcessInstance.process_id == "intake",
                ProcessInstance.status == "active",
            )
            .correlate(Case)
            .exists()
        )
    if principal.roles & (WORKER_ROLES | SUPERVISING_ROLES):
        on_row.append(and_(not_screened_out, Case.assigned_to == principal.id))
        searched.append(and_(not_screened_out, _has_task_of(principal)))
    if principal.roles & WORKER_ROLES and principal.team_id:
        searched.append(and_(not_screened_out, _queued_for(principal)))
    if principal.has("supervisor", "intake_supervisor") and principal.supervised_teams:
        on_row.append(and_(not_screened_out, Case.team.in_(sorted(principal.supervised_teams))))
    if principal.has("program_director") and principal.unit:
        unit_teams = select(Team.id).where(Team.unit == principal.unit)
        on_row.append(and_(not_screened_out, Case.team.in_(unit_teams)))
    general = on_row + searched
    ordinary = or_(*general) if general else false()
    sensitive_ok = or_(
        Case.assigned_to == principal.id,
        true() if principal.security_group else false(),
        _has_task_of(principal),
    )
    return or_(
        and_(Case.sensitive.is_(False), ordinary),
        and_(Case.sensitive.is_(True), sensitive_ok),
    )


def readable_case(session: Session, principal: Principal, case_id: uuid.UUID) -> Case:
    """The case, if this principal may read it; otherwise NotFound (no existence leak)."""
    case = session.scalar(select(Case).where(Case.id == case_id, visible_cases(principal)))
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def reads_as_assignee(principal: Principal, case: Case, task: HumanTask) -> bool:
    """Whether this principal may read a case already loaded with one of its tasks, known
    without asking the database: a worker or supervisor assigned to the case or the task reads
    it under every rule of ``visible_cases``, sensitive cases included. False means "ask"
    (``readable_case``), not "refused"."""
    return (
        bool(principal.roles & (WORKER_ROLES | SUPERVISING_ROLES))
        and case.status != SCREENED_OUT
        and task.case_id == case.id
        and principal.id in (case.assigned_to, task.assignee)
    )


def sees_reporter(principal: Principal) -> bool:
    return bool(principal.roles & (INTAKE_ROLES | SUPERVISING_ROLES))


def redact(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """Task data as this principal may see it: the reporter's identity removed unless they
    are intake staff or a supervisor."""
    if sees_reporter(principal) or "reporter" not in data:
        return data
    return {**data, "reporter": REDACTED}


def require(principal: Principal, *roles: str) -> None:
    if not principal.has(*roles):
        raise Forbidden(f"this needs one of the roles {', '.join(roles)}")


def supervises(session: Session, principal: Principal, case: Case) -> bool:
    """Whether this principal is in the case's supervision chain (team supervisor, or program
    director of the team's unit)."""
    if principal.has("supervisor", "intake_supervisor") and case.team in principal.supervised_teams:
        return True
    if principal.has("program_director") and principal.unit and case.team:
        team = session.get(Team, case.team)
        return team is not None and team.unit == principal.unit
    return False
