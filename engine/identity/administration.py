"""What an administrator reads: users with their roles and tokens, teams, open timer incidents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.context import EngineContext
from engine.identity.access import require
from engine.identity.users import Principal
from engine.storage.tables import ApiToken, Incident, Team, User

ADMIN = "administrator"


def users(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, ADMIN)
    with ctx.db.reader() as session:
        live_tokens = dict(
            session.execute(
                select(ApiToken.user_id, func.count())
                .where(ApiToken.revoked_at.is_(None))
                .group_by(ApiToken.user_id)
            ).all()
        )
        return [
            {
                "id": u.id,
                "display_name": u.display_name,
                "roles": list(u.roles),
                "team_id": u.team_id,
                "unit": u.unit,
                "security_group": u.security_group,
                "active": u.active,
                "tokens": live_tokens.get(u.id, 0),
            }
            for u in session.scalars(select(User).order_by(User.id))
        ]


def teams(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, ADMIN)
    with ctx.db.reader() as session:
        return [
            {"id": t.id, "name": t.name, "unit": t.unit, "supervisor_id": t.supervisor_id}
            for t in session.scalars(select(Team).order_by(Team.id))
        ]


def open_incidents(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, ADMIN)
    with ctx.db.reader() as session:
        return [
            {
                "id": str(i.id),
                "kind": i.kind,
                "case_id": str(i.case_id) if i.case_id else None,
                "element_id": i.element_id,
                "error": i.error,
                "attempts": i.attempts,
                "opened_at": i.opened_at.isoformat(),
            }
            for i in session.scalars(
                select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.opened_at)
            )
        ]
