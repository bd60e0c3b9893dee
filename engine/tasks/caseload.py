"""What supervisors and program directors look at: caseload per worker of the teams they
oversee, and the teams' timeliness measures (DOMAIN §6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Forbidden
from engine.identity.users import Principal
from engine.statuses import DeadlineStatus, TaskStatus
from engine.storage.tables import (
    Case,
    CasePerson,
    Deadline,
    HumanTask,
    Team,
    User,
)


def _overseen_teams(session: Session, principal: Principal) -> list[str]:
    teams = set(principal.supervised_teams)
    if principal.has("program_director") and principal.unit:
        teams |= set(session.scalars(select(Team.id).where(Team.unit == principal.unit)))
    if not teams:
        raise Forbidden("the caseload is for supervisors and program directors")
    return sorted(teams)


def caseload(
    ctx: EngineContext, principal: Principal, now: datetime | None = None
) -> dict[str, Any]:
    """Per worker of the teams I oversee: the open cases they are the primary worker of,
    their children, overdue tasks, tasks due this week, tasks held on others' cases; and the
    teams' timeliness measures."""
    now = now or ctx.clock.now()
    week = now + timedelta(days=7)
    with ctx.db.reader() as session:
        teams = _overseen_teams(session, principal)
        workers = session.scalars(
            select(User).where(User.team_id.in_(teams), User.active.is_(True)).order_by(User.id)
        ).all()
        rows = []
        for worker in workers:
            if not set(worker.roles) & {
                "investigator",
                "ongoing_caseworker",
                "intake_screener",
                "attorney",
            }:
                continue
            open_cases = select(Case.id).where(
                Case.assigned_to == worker.id, Case.status.not_in(["closed", "screened_out"])
            )
            ready = select(func.count()).where(
                HumanTask.assignee == worker.id, HumanTask.status == TaskStatus.READY
            )
            rows.append(
                {
                    "user_id": worker.id,
                    "name": worker.display_name,
                    "team": worker.team_id,
                    "roles": list(worker.roles),
                    "open_cases": session.scalar(
                        select(func.count()).select_from(open_cases.subquery())
                    ),
                    "children": session.scalar(
                        select(func.count()).where(
                            CasePerson.role == "child", CasePerson.case_id.in_(open_cases)
                        )
                    ),
                    "overdue_tasks": session.scalar(
                        ready.where(
                            or_(HumanTask.due_at < now, HumanTask.overdue_since.is_not(None))
                        )
                    ),
                    "due_this_week": session.scalar(
                        ready.where(HumanTask.due_at >= now, HumanTask.due_at < week)
                    ),
                    # Work held on cases that are someone else's (an interview handed over,
                    # a court task): counted apart from the cases that are the worker's own.
                    "tasks_on_others_cases": session.scalar(
                        ready.select_from(HumanTask)
                        .join(Case, Case.id == HumanTask.case_id)
                        .where(or_(Case.assigned_to.is_(None), Case.assigned_to != worker.id))
                    ),
                }
            )
        measures = _measures(session, teams)
    return {"teams": teams, "workers": rows, "measures": measures}


def _measures(session: Session, teams: list[str]) -> dict[str, Any]:
    def share(measure: str) -> dict[str, Any]:
        # Counted in the database: the teams' ended deadlines are years of rows.
        ended = (
            select(
                func.count(),
                func.count().filter(Deadline.status == DeadlineStatus.MET),
            )
            .select_from(Deadline)
            .join(Case, Case.id == Deadline.case_id)
            .where(
                Case.team.in_(teams),
                Deadline.measure == measure,
                Deadline.status.in_([DeadlineStatus.MET, DeadlineStatus.MISSED]),
            )
        )
        total, on_time = session.execute(ended).one()
        return {
            "measure": measure,
            "on_time": on_time,
            "total": total,
            "share": round(on_time / total, 4) if total else None,
        }

    return {
        "initiation_timeliness": share("initiation_timeliness")
        | {
            "description": "Investigations initiated (first face-to-face) within the "
            "priority's window (CFSR item 1)"
        },
        "caseworker_visits": share("caseworker_visits")
        | {"description": "Child-months in care with a caseworker visit (IV-B standard: 95%)"},
    }
