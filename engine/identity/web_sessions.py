"""Web sessions kept on the server, so that signing out ends them.

A signed cookie alone cannot be taken back: a copy made before sign-out would keep working
until it expires. The cookie therefore carries a random session id, and a request is signed in
only while that id's row is live (engine.identity.users.principal_of_web_session reads the row with
the principal, in one statement). Signing out ends the row; so does revoking a user's tokens.
The row holds the id's SHA-256, as API tokens are kept: a copy of the table signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.storage import statements
from engine.storage.tables import WebSession
from engine.storage.uow import UnitOfWork

LIFETIME = timedelta(hours=10)  # a working day; then sign in again


def stored_id(session_id: str) -> str:
    """What the table keeps of a cookie's session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(ctx: EngineContext, user_id: str) -> str:
    """A new session for a user who has just proved who they are; returns the cookie's id."""
    session_id = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        uow.session.add(
            WebSession(
                id=stored_id(session_id),
                user_id=user_id,
                created_at=now,
                expires_at=now + LIFETIME,
                ended_at=None,
            )
        )
        uow.commit()
    return session_id


def end(ctx: EngineContext, session_id: str) -> None:
    """Signs this session out, for every copy of its cookie. An unknown or ended one is left."""
    with UnitOfWork(ctx.db.writer) as uow:
        uow.session.execute(
            update(WebSession)
            .where(WebSession.id == stored_id(session_id), WebSession.ended_at.is_(None))
            .values(ended_at=ctx.clock.now())
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def end_all_of_user(session: Session, user_id: str, at: datetime) -> int:
    """Ends every live session of a user, in the caller's unit of work; returns how many."""
    ended = statements.execute(
        session,
        update(WebSession)
        .where(
            WebSession.user_id == user_id,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > at,
        )
        .values(ended_at=at)
        .execution_options(synchronize_session=False),
    ).rowcount
    return int(ended or 0)
