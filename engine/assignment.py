"""Who gets a new task: the case's worker when they hold the lane's role; the first time an
investigator's task appears on a case nobody is assigned to, the team's investigator with the
fewest open cases takes the case. Everything else waits in its role's queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import outbox
from engine.tables import Case, User

# A lane whose tasks make the case someone's: the first such task assigns the case.
CASE_OWNING_LANES = ("investigator", "ongoing_caseworker")


def _holds(session: Session, user_id: str | None, role: str | None) -> bool:
    if user_id is None or role is None:
        return False
    user = session.get(User, user_id)
    return user is not None and user.active and role in user.roles


def _least_loaded(session: Session, team: str, role: str) -> str | None:
    members = [
        u
        for u in session.scalars(select(User).where(User.team_id == team, User.active.is_(True)))
        if role in u.roles
    ]
    if not members:
        return None
    load = dict(
        session.execute(
            select(Case.assigned_to, func.count())
            .where(Case.assigned_to.in_([m.id for m in members]), Case.status != "closed")
            .group_by(Case.assigned_to)
        ).all()
    )
    return min(members, key=lambda m: (load.get(m.id, 0), m.id)).id


def assign_new_tasks(session: Session, case: Case, rows: list[dict[str, Any]]) -> None:
    """Fill ``assignee`` on freshly projected task rows (before they are inserted)."""
    for row in rows:
        role = row.get("role")
        if not _holds(session, case.assigned_to, role) and role in CASE_OWNING_LANES and case.team:
            chosen = _least_loaded(session, case.team, role)
            if chosen is not None:
                outbox.publish(
                    session,
                    "case.assigned",
                    row["created_at"],
                    case_id=case.id,
                    case_number=case.case_number,
                    assigned_to=chosen,
                    previous=case.assigned_to,
                    team=case.team,
                )
                case.assigned_to = chosen
        if _holds(session, case.assigned_to, role):
            row["assignee"] = case.assigned_to
