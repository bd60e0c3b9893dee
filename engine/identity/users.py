"""Users, teams, roles and API tokens, and the principal a request acts as.

Roles are DOMAIN §1's: a lane in a BPMN diagram names the role whose holders may take its
tasks. Passwords are hashed by the web layer; bearer tokens are random and stored as SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, select, update

from engine.context import Actor, EngineContext
from engine.errors import Conflict, InvalidInput, NotFound
from engine.identity import web_sessions
from engine.identity.roles import ROLES
from engine.storage import statements
from engine.storage.tables import ApiToken, EmergencyAccess, Team, User, WebSession
from engine.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Principal:
    """Who is asking, with what they may do."""

    id: str
    display_name: str
    roles: frozenset[str]
    team_id: str | None = None
    unit: str | None = None
    security_group: bool = False
    supervised_teams: frozenset[str] = frozenset()
    # Cases opened by breaking the glass, their grant still running (identity.emergency).
    emergency_cases: frozenset[uuid.UUID] = frozenset()

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def actor(self) -> Actor:
        return Actor(self.id, ",".join(sorted(self.roles)) or None)

    def acting_as(self, role: str | None) -> Actor:
        return Actor(self.id, role if role in self.roles else self.actor.role)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(user: User, reach: list[tuple[str | None, uuid.UUID | None]]) -> Principal:
    return Principal(
        user.id,
        user.display_name,
        frozenset(user.roles),
        user.team_id,
        user.unit,
        user.security_group,
        frozenset(team for team, _ in reach if team is not None),
        frozenset(case for _, case in reach if case is not None),
    )


def _with_reach(query: Select[Any]) -> Select[Any]:
    """The user's row once per team they supervise and case they broke the glass on, grant
    still running at ``now`` (once, with Nones, if neither): the whole principal in one
    statement, as every request reads it."""
    grant = and_(EmergencyAccess.user_id == User.id, EmergencyAccess.expires_at > bindparam("now"))
    return (
        query.add_columns(Team.id, EmergencyAccess.case_id)
        .outerjoin(Team, Team.supervisor_id == User.id)
        .outerjoin(EmergencyAccess, grant)
    )


# Built once: every API request reads its principal (building the query cost more than
# running it).
_BY_TOKEN = _with_reach(
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)
_BY_ID = _with_reach(select(User).where(User.id == bindparam("user_id")))
# A browser's request: the user of a live web session (not ended, not expired by the clock),
# read with the session in the same statement.
_BY_WEB_SESSION = _with_reach(
    select(User)
    .join(WebSession, WebSession.user_id == User.id)
    .where(
        WebSession.id == bindparam("session_id"),
        WebSession.ended_at.is_(None),
        WebSession.expires_at > bindparam("now"),
    )
)


def authenticate_token(ctx: EngineContext, token: str) -> Principal | None:
    """The principal a bearer token belongs to, or None (unknown, revoked, inactive user)."""
    return _principal_from(ctx, _BY_TOKEN, {"token_hash": token_hash(token)})


def load_principal(ctx: EngineContext, user_id: str) -> Principal | None:
    return _principal_from(ctx, _BY_ID, {"user_id": user_id})


def principal_of_web_session(ctx: EngineContext, session_id: str) -> Principal | None:
    """The principal a web session's cookie signs in, or None (unknown, ended or expired
    session, inactive user)."""
    params = {"session_id": web_sessions.stored_id(session_id), "now": ctx.clock.now()}
    return _principal_from(ctx, _BY_WEB_SESSION, params)


def _principal_from(
    ctx: EngineContext, query: Select[Any], params: dict[str, Any]
) -> Principal | None:
    with ctx.db.lone_reader() as session:
        rows = session.execute(query, {"now": ctx.clock.now(), **params}).all()
        if not rows or not rows[0][0].active:
            return None
        return _principal(rows[0][0], [(team, case) for _, team, case in rows])


def password_hash_of(ctx: EngineContext, user_id: str) -> str | None:
    with ctx.db.reader() as session:
        user = session.get(User, user_id)
        return user.password_hash if user is not None and user.active else None


def create_team(ctx: EngineContext, actor: Actor, team_id: str, name: str, unit: str) -> None:
    with UnitOfWork(ctx.db.writer) as uow:
        if uow.session.get(Team, team_id) is not None:
            raise Conflict(f"team {team_id} exists")
        uow.session.add(Team(id=team_id, name=name, unit=unit))
        uow.audit(
            at=ctx.clock.now(),
            actor_id=actor.id,
            actor_role=actor.role,
            action="team.created",
            team=team_id,
            unit=unit,
        )
        uow.commit()


@dataclass(frozen=True)
class NewUser:
    """A person to add: their id, name and roles, and where they work."""

    id: str
    display_name: str
    roles: list[str]
    team_id: str | None = None
    unit: str | None = None
    security_group: bool = False
    password_hash: str | None = None


def create_user(ctx: EngineContext, actor: Actor, new: NewUser) -> None:
    """Add a user (the first supervisor of a team becomes its supervisor)."""
    user_id, roles, team_id = new.id, new.roles, new.team_id
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise InvalidInput(f"unknown roles {unknown}; known: {', '.join(ROLES)}")
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        if session.get(User, user_id) is not None:
            raise Conflict(f"user {user_id} exists")
        team = session.get(Team, team_id) if team_id else None
        if team_id and team is None:
            raise NotFound(f"no team {team_id}")
        session.add(
            User(
                id=user_id,
                display_name=new.display_name,
                roles=sorted(set(roles)),
                team_id=team_id,
                unit=new.unit or (team.unit if team else None),
                security_group=new.security_group,
                password_hash=new.password_hash,
                active=True,
                created_at=ctx.clock.now(),
            )
        )
        session.flush()
        if team is not None and "supervisor" in roles and team.supervisor_id is None:
            team.supervisor_id = user_id
        uow.audit(
            at=ctx.clock.now(),
            actor_id=actor.id,
            actor_role=actor.role,
            action="user.created",
            user=user_id,
            roles=sorted(roles),
            team=team_id,
        )
        uow.commit()


def issue_token(ctx: EngineContext, actor: Actor, user_id: str, label: str = "api") -> str:
    """A new bearer token for a user. It is shown once; only its hash is kept."""
    token = "cw_" + secrets.token_urlsafe(32)
    with UnitOfWork(ctx.db.writer) as uow:
        if uow.session.get(User, user_id) is None:
            raise NotFound(f"no user {user_id}")
        uow.session.add(
            ApiToken(
                id=uuid.uuid4(),
                user_id=user_id,
                token_hash=token_hash(token),
                label=label,
                created_at=ctx.clock.now(),
            )
        )
        uow.audit(
            at=ctx.clock.now(),
            actor_id=actor.id,
            actor_role=actor.role,
            action="token.issued",
            user=user_id,
            label=label,
        )
        uow.commit()
    return token


def revoke_tokens(
    ctx: EngineContext, actor: Actor, user_id: str, at: datetime | None = None
) -> int:
    with UnitOfWork(ctx.db.writer) as uow:
        revoked = statements.execute(
            uow.session,
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=at or ctx.clock.now()),
        ).rowcount
        # Access taken away is taken from the browser too, not only from API clients.
        signed_out = web_sessions.end_all_of_user(uow.session, user_id, ctx.clock.now())
        uow.audit(
            at=ctx.clock.now(),
            actor_id=actor.id,
            actor_role=actor.role,
            action="token.revoked",
            user=user_id,
            tokens=revoked,
            web_sessions=signed_out,
        )
        uow.commit()
    return int(revoked or 0)


SIGNED_IN, SIGN_IN_FAILED, SIGN_IN_REFUSED = (
    "session.signed_in",
    "session.sign_in_failed",
    "session.sign_in_refused",  # a locked name: the password was not even checked
)


def record_sign_in(ctx: EngineContext, user_id: str, outcome: str, address: str) -> None:
    """Every password sign-in attempt is audited, failed and refused ones too (they show
    guessing): ``outcome`` is SIGNED_IN, SIGN_IN_FAILED or SIGN_IN_REFUSED."""
    with UnitOfWork(ctx.db.writer) as uow:
        uow.audit(
            at=ctx.clock.now(),
            actor_id=user_id[:100],
            actor_role=None,
            action=outcome,
            address=address,
        )
        uow.commit()
