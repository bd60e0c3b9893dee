"""A person's own settings for being reached: their email address, whether alerts come at
once, as a daily digest or not at all, and their calendar feed (a secret address their phone's
calendar subscribes to, revocable, replaced by asking for a new one)."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from sqlalchemy import select, update

from engine.context import EngineContext
from engine.errors import FieldError, InvalidTaskData, NotFound
from engine.identity.users import Principal, token_hash
from engine.notifications.queue import PREFERENCES
from engine.storage.tables import CalendarFeed, User
from engine.storage.uow import UnitOfWork

# Enough to catch a typo; the mail server is the judge of the rest.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def my_settings(ctx: EngineContext, principal: Principal) -> dict[str, Any]:
    with ctx.db.reader() as session:
        user = session.get(User, principal.id)
        if user is None:
            raise NotFound(f"no user {principal.id}")
        feed = session.scalar(
            select(CalendarFeed.id).where(
                CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
            )
        )
        return {"email": user.email, "notify": user.notify, "calendar_feed": feed is not None}


def change_settings(
    ctx: EngineContext, principal: Principal, changes: dict[str, Any]
) -> dict[str, Any]:
    """Raises InvalidTaskData (the field) for an address that is not one or an unknown choice."""
    errors = []
    email = changes.get("email")
    if email is not None and email != "" and not EMAIL.match(str(email)):
        errors.append(FieldError("/email", "is not an email address", "format"))
    notify = changes.get("notify")
    if notify is not None and notify not in PREFERENCES:
        errors.append(FieldError("/notify", f"must be one of {', '.join(PREFERENCES)}", "enum"))
    if errors:
        raise InvalidTaskData("the settings are not valid", errors)
    with UnitOfWork(ctx.db.writer) as uow:
        user = uow.session.get(User, principal.id)
        if user is None:
            raise NotFound(f"no user {principal.id}")
        if email is not None:
            user.email = str(email).strip() or None
        if notify is not None:
            user.notify = str(notify)
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="settings.changed",
            fields=sorted(k for k in ("email", "notify") if changes.get(k) is not None),
        )
        uow.commit()
    return my_settings(ctx, principal)


def new_calendar_feed(ctx: EngineContext, principal: Principal) -> str:
    """A new feed token (shown once); any earlier feed of this person stops working."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        _revoke(uow, principal.id, now)
        uow.session.add(
            CalendarFeed(
                id=uuid.uuid4(), user_id=principal.id, token_hash=token_hash(token), created_at=now
            )
        )
        uow.audit(
            at=now, actor_id=principal.id, actor_role=principal.actor.role, action="feed.created"
        )
        uow.commit()
    return token


def revoke_calendar_feed(ctx: EngineContext, principal: Principal) -> None:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        _revoke(uow, principal.id, now)
        uow.audit(
            at=now, actor_id=principal.id, actor_role=principal.actor.role, action="feed.revoked"
        )
        uow.commit()


def feed_owner(ctx: EngineContext, token: str) -> str:
    """Whose feed this token opens; NotFound for an unknown or revoked one."""
    with ctx.db.reader() as session:
        owner = session.scalar(
            select(CalendarFeed.user_id)
            .join(User, User.id == CalendarFeed.user_id)
            .where(
                CalendarFeed.token_hash == token_hash(token),
                CalendarFeed.revoked_at.is_(None),
                User.active.is_(True),
            )
        )
    if owner is None:
        raise NotFound("no such calendar")
    return str(owner)


def _revoke(uow: UnitOfWork, user_id: str, now: Any) -> None:
    uow.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
