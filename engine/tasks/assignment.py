"""Who gets a new task: the case's worker when they hold the lane's role; the first time an
investigator's task appears on a case nobody is assigned to, the team's investigator with the
fewest open cases takes the case. Everything else waits in its role's queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.statuses import CaseStatus
from engine.storage.tables import Case, User
from engine.storage.uow import UnitOfWork

# Lanes whose tasks make the case someone's, in the order of the case's stages: the first
# task of a later stage hands the case on (engine.cases.primary_worker for a supervisor's say).
CASE_OWNING_LANES = ("investigator", "ongoing_caseworker")


class _Roster:
    """The users this assignment looks at, each read once. (The session's identity map holds
    objects only while something references them, so it would read them again.)"""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._users: dict[str, User | None] = {}

    def holds(self, user_id: str | None, role: str | None) -> bool:
        if user_id is None or role is None:
            return False
        if user_id not in self._users:
            self._users[user_id] = self._session.get(User, user_id)
        user = self._users[user_id]
        return user is not None and user.active and role in user.roles

    def least_loaded(self, team: str, role: str) -> str | None:
        members = [
            u
            for u in self._session.scalars(
                select(User).where(User.team_id == team, User.active.is_(True))
            )
            if role in u.roles
        ]
        if not members:
            return None
        self._users.update((m.id, m) for m in members)
        load = dict(
            self._session.execute(
                select(Case.assigned_to, func.count())
                .where(
                    Case.assigned_to.in_([m.id for m in members]), Case.status != CaseStatus.CLOSED
                )
                .group_by(Case.assigned_to)
            ).all()
        )
        return min(members, key=lambda m: (load.get(m.id, 0), m.id)).id


def _stage_moves_on(roster: _Roster, worker: str | None, role: str | None) -> bool:
    """Whether a task of this lane hands the case to a new worker: when nobody has it, or the
    case has reached a later stage than its worker's (investigation → ongoing services).
    Never back: an investigator's task on a case in ongoing services (a removal during the
    investigation) stays in the investigators' hands without taking the case with it."""
    if role not in CASE_OWNING_LANES:
        return False
    if worker is None:
        return True
    if roster.holds(worker, role):
        return False
    stage = CASE_OWNING_LANES.index(role)
    return not any(
        roster.holds(worker, same_or_later) for same_or_later in CASE_OWNING_LANES[stage:]
    )


def assign_new_tasks(uow: UnitOfWork, case: Case, rows: list[dict[str, Any]]) -> None:
    """Fill ``assignee`` on new task rows (before they are written); the case may change hands
    with the first task of a lane that owns cases."""
    roster = _Roster(uow.session)
    for row in rows:
        role = row.get("role")
        if role is not None and _stage_moves_on(roster, case.assigned_to, role) and case.team:
            chosen = roster.least_loaded(case.team, role)
            if chosen is not None:
                uow.publish(
                    "case.assigned",
                    row["created_at"],
                    case_id=case.id,
                    case_number=case.case_number,
                    assigned_to=chosen,
                    previous=case.assigned_to,
                    team=case.team,
                )
                case.assigned_to = chosen
        if roster.holds(case.assigned_to, role):
            row["assignee"] = case.assigned_to
