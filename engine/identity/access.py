"""Record-level access (DOMAIN §5): who may see which case, and what of it.

Access follows the work as it stands now, never what someone once held:

- the case's assigned worker, and whoever holds one of its open tasks;
- workers of the case's team with an open task waiting, unassigned, in their role (their
  queue: they must read the case to take the task);
- the supervision chain: the team's supervisor and the unit's program director;
- intake staff while the report is in intake, and the screened-out reports (the hotline's
  history, which screening a new report needs);
- a sensitive case only its assigned worker, the holders of its open tasks, the supervision
  chain, the security group and, while the report is in intake, the screener who filed it;
- anyone who broke the glass on the case, with a stated reason, until their grant expires;
- the reporter's identity only intake staff and supervisors (``engine.cases.redaction``).

A case someone may not see does not exist for them: reads answer "not found".
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from engine.errors import Forbidden, NotFound
from engine.identity.roles import INTAKE_ROLES, SUPERVISING_ROLES, WORKER_ROLES
from engine.identity.users import Principal
from engine.statuses import CaseStatus, InstanceStatus, TaskStatus
from engine.storage.tables import Case, HumanTask, ProcessInstance, Team

# Aliased and correlated to Case only: the filter is also used in queries over tasks. Made
# once: building an alias costs more than running the worklist query it sits in.
_ASSIGNED_TASK = aliased(HumanTask, name="assigned_task")
_QUEUED_TASK = aliased(HumanTask, name="queued_task")


def _holds_open_task(principal: Principal) -> ColumnElement[bool]:
    """The principal holds an open task of the case now (a task done, or handed to someone
    else, gives no access: access follows the work as it stands)."""
    task = _ASSIGNED_TASK
    return (
        select(task.id)
        .where(
            task.case_id == Case.id, task.assignee == principal.id, task.status == TaskStatus.READY
        )
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
            task.status == TaskStatus.READY,
            task.assignee.is_(None),
            task.role.in_(sorted(principal.roles & WORKER_ROLES)),
        )
        .correlate(Case)
        .exists(),
    )


def _in_intake() -> ColumnElement[bool]:
    return (
        select(ProcessInstance.id)
        .where(
            ProcessInstance.case_id == Case.id,
            ProcessInstance.opens_case.is_(True),
            ProcessInstance.status == InstanceStatus.ACTIVE,
        )
        .correlate(Case)
        .exists()
    )


def _supervision_chain(principal: Principal) -> list[ColumnElement[bool]]:
    chain: list[ColumnElement[bool]] = []
    if principal.has("supervisor", "intake_supervisor") and principal.supervised_teams:
        chain.append(Case.team.in_(sorted(principal.supervised_teams)))
    if principal.has("program_director") and principal.unit:
        chain.append(Case.team.in_(select(Team.id).where(Team.unit == principal.unit)))
    return chain


@lru_cache(maxsize=1024)  # about 15 kB each
def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """A filter on ``Case`` rows: the cases this principal may read (the module's rules).

    Built once per principal (a frozen value: a change of roles, teams or emergency grants is
    another key) and kept: building it cost about as much as the database's work for a
    worklist page.

    The tests on the case row come before the ones that search its tasks. SQL promises no
    order, but PostgreSQL's executor tries an OR's terms as written and stops at the first
    that holds: with this order, EXPLAIN ANALYZE of a supervisor's team view shows the task
    lookups "never executed" (before, one per row).
    """
    not_screened_out = Case.status != CaseStatus.SCREENED_OUT
    chain = _supervision_chain(principal)
    on_row: list[ColumnElement[bool]] = []
    searched: list[ColumnElement[bool]] = []
    if principal.emergency_cases:
        on_row.append(Case.id.in_(sorted(principal.emergency_cases)))
    working = principal.roles & (WORKER_ROLES | SUPERVISING_ROLES)
    if working:
        on_row.append(and_(not_screened_out, Case.assigned_to == principal.id))
    on_row += [and_(not_screened_out, link) for link in chain]
    if principal.roles & INTAKE_ROLES:
        on_row.append(Case.status == CaseStatus.SCREENED_OUT)
        searched.append(_in_intake())
    if working:
        searched.append(and_(not_screened_out, _holds_open_task(principal)))
    if principal.roles & WORKER_ROLES and principal.team_id:
        searched.append(and_(not_screened_out, _queued_for(principal)))
    general = on_row + searched
    ordinary = or_(*general) if general else false()
    # A sensitive case: the same people minus the team's queue and the intake desk at large.
    restricted: list[ColumnElement[bool]] = []
    if principal.security_group:
        restricted.append(true())
    if principal.emergency_cases:
        restricted.append(Case.id.in_(sorted(principal.emergency_cases)))
    if working:
        restricted.append(Case.assigned_to == principal.id)
    restricted += chain
    if principal.roles & INTAKE_ROLES:
        restricted.append(and_(Case.opened_by == principal.id, _in_intake()))
    if working:
        restricted.append(_holds_open_task(principal))
    sensitive_ok = or_(*restricted) if restricted else false()
    return or_(
        and_(Case.sensitive.is_(False), ordinary),
        and_(Case.sensitive.is_(True), sensitive_ok),
    )


def readable_case(
    session: Session, principal: Principal, case_id: uuid.UUID, missing: str | None = None
) -> Case:
    """The case, if this principal may read it; otherwise NotFound (no existence leak), with
    ``missing`` as its message when the caller named something else (a task: its case's id
    is not theirs to learn)."""
    case = session.scalar(select(Case).where(Case.id == case_id, visible_cases(principal)))
    if case is None:
        raise NotFound(missing or f"no case {case_id}")
    return case


def only_through_a_grant(session: Session, principal: Principal, case_id: uuid.UUID) -> bool:
    """Whether this principal reads the case only because they broke the glass on it."""
    if case_id not in principal.emergency_cases:
        return False
    standing = replace(principal, emergency_cases=frozenset())
    return (
        session.scalar(select(Case.id).where(Case.id == case_id, visible_cases(standing))) is None
    )


def reads_as_assignee(principal: Principal, case: Case, task: HumanTask) -> bool:
    """Whether this principal may read a case already loaded with one of its tasks, known
    without asking the database: a worker or supervisor assigned to the case or the task reads
    it under every rule of ``visible_cases``, sensitive cases included. False means "ask"
    (``readable_case``), not "refused"."""
    holds = case.assigned_to == principal.id or (
        task.assignee == principal.id and task.status == TaskStatus.READY
    )
    return (
        bool(principal.roles & (WORKER_ROLES | SUPERVISING_ROLES))
        and case.status != CaseStatus.SCREENED_OUT
        and task.case_id == case.id
        and holds
    )


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
