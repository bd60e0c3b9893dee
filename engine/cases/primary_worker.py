"""The case's primary worker: the one person a case belongs to, named explicitly. Routing
names them when a stage begins (intake → investigation → ongoing services:
``engine.tasks.assignment``); after that only a supervisor of the case changes them, here.
Handing someone a task never does.

A change hands the new worker the open work the previous one held in lanes the new worker's
roles may take, so the case and its work move together; other people's tasks stay theirs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from engine.context import EngineContext
from engine.errors import Forbidden, InvalidInput
from engine.identity.access import readable_case, supervises
from engine.identity.users import Principal
from engine.notifications.queue import notify
from engine.statuses import TaskStatus
from engine.storage.tables import HumanTask, User
from engine.storage.uow import UnitOfWork
from engine.tasks.assignment import CASE_OWNING_LANES


@dataclass(frozen=True)
class Reassignment:
    case_id: uuid.UUID
    user_id: str
    reason: str = ""


def assign_case(ctx: EngineContext, principal: Principal, change: Reassignment) -> dict[str, Any]:
    """A supervisor names the case's primary worker. Raises NotFound (a case one may not read),
    Forbidden (not its supervision chain) or InvalidInput (no such active worker of the case's
    team with a case-owning role); nothing changes then."""
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        case = readable_case(session, principal, change.case_id)
        if not supervises(session, principal, case):
            raise Forbidden("the case's supervisor or program director names its worker")
        user = session.get(User, change.user_id)
        if user is None or not user.active:
            raise InvalidInput(f"no active user {change.user_id}")
        owning = set(user.roles) & set(CASE_OWNING_LANES)
        if not owning:
            raise InvalidInput(f"{user.id} holds no role that carries cases")
        if case.team is not None and user.team_id != case.team:
            raise InvalidInput(f"{user.id} is not in team {case.team}, the case's team")
        previous = case.assigned_to
        moved: list[uuid.UUID] = []
        if previous != user.id:
            case.assigned_to = user.id
            case.updated_at = now
            if previous is not None:
                moved = list(
                    session.scalars(
                        update(HumanTask)
                        .where(
                            HumanTask.case_id == case.id,
                            HumanTask.status == TaskStatus.READY,
                            HumanTask.assignee == previous,
                            HumanTask.role.in_(list(user.roles)),
                        )
                        .values(assignee=user.id, version=HumanTask.version + 1)
                        .returning(HumanTask.id)
                        .execution_options(synchronize_session=False)
                    )
                )
            uow.audit(
                at=now,
                actor_id=principal.id,
                actor_role=principal.actor.role,
                action="case.assigned",
                case_id=case.id,
                previous=previous,
                assigned_to=user.id,
                tasks_moved=len(moved),
                reason=change.reason,
            )
            notify(
                session, [user.id], "case_assigned", case, f"/cases/{case.id}", now,
                acting=principal.id,
            )  # fmt: skip
            uow.publish(
                "case.assigned",
                now,
                case_id=case.id,
                case_number=case.case_number,
                assigned_to=user.id,
                previous=previous,
                team=case.team,
            )
        uow.commit()
    return {"case_id": str(case.id), "assigned_to": user.id, "previous": previous,
            "tasks_moved": [str(t) for t in moved]}  # fmt: skip


def workers_for(ctx: EngineContext, team: str | None) -> list[dict[str, Any]]:
    """Whom a supervisor may name: the team's active members with a case-owning role."""
    with ctx.db.reader() as session:
        members = session.scalars(
            select(User).where(User.team_id == team, User.active.is_(True)).order_by(User.id)
        ).all()
        return [
            {"user_id": u.id, "name": u.display_name}
            for u in members
            if set(u.roles) & set(CASE_OWNING_LANES)
        ]
