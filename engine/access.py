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


def _assigned(principal: Principal) -> ColumnElement[bool]:
    task = _ASSIGNED_TASK
    return or_(
        Case.assigned_to == principal.id,
        select(task.id)
        .where(task.case_id == Case.id, task.assignee == principal.id)
        .correlate(Case)
        .exists(),
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


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """A filter on ``Case`` rows: the cases this principal may read."""
    general: list[ColumnElement[bool]] = []
    if principal.roles & INTAKE_ROLES:
        general += [
            Case.status == SCREENED_OUT,
            Case.opened_by == principal.id,
            select(ProcessInstance.id)
            .where(
                ProcessInstance.case_id == Case.id,
                ProcessInstance.process_id == "intake",
                ProcessInstance.status == "active",
            )
            .correlate(Case)
            .exists(),
        ]
    if principal.roles & (WORKER_ROLES | SUPERVISING_ROLES):
        general.append(and_(Case.status != SCREENED_OUT, _assigned(principal)))
    if principal.roles & WORKER_ROLES and principal.team_id:
        general.append(and_(Case.status != SCREENED_OUT, _queued_for(principal)))
    if principal.has("supervisor", "intake_supervisor") and principal.supervised_teams:
        general.append(
            and_(Case.status != SCREENED_OUT, Case.team.in_(sorted(principal.supervised_teams)))
        )
    if principal.has("program_director") and principal.unit:
        unit_teams = select(Team.id).where(Team.unit == principal.unit)
        general.append(and_(Case.status != SCREENED_OUT, Case.team.in_(unit_teams)))
    ordinary = or_(*general) if general else false()
    sensitive_ok = or_(_assigned(principal), true() if principal.security_group else false())
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
