"""Signing in through the sign-in page as a browser does, for tests that need a web session."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from engine.context import EngineContext
from engine.storage.tables import User
from http_support import password_of

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token_in(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def give_password(ctx: EngineContext, user: str) -> None:
    """The agency fixture's people have API tokens only; the web needs a password."""
    with ctx.db.writer() as session:
        session.execute(
            update(User)
            .where(User.id == user)
            .values(password_hash=generate_password_hash(password_of(user)))
        )
        session.commit()


def submit_sign_in(client: FlaskClient, user: str, password: str) -> TestResponse:
    """Opens the sign-in page (its form carries the session's CSRF token) and sends it."""
    token = csrf_token_in(client.get("/sign-in").get_data(as_text=True))
    return client.post(
        "/sign-in", data={"user": user, "password": password, "csrf_token": token, "next": ""}
    )
