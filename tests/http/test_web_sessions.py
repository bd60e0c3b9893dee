"""Web sessions live on the server: the cookie names a session row, and a request is signed in
only while that row is live. Signing out, ten hours passing (by the injected clock) or an
administrator revoking the user's tokens ends it, for every copy of the cookie."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from engine.context import Actor
from engine.identity.users import revoke_tokens
from engine.storage.tables import User
from http_support import Agency, password_of
from sign_in_form import csrf_token_in, give_password, submit_sign_in

SIGN_IN_PAGE = "/sign-in?next=/work"


@pytest.fixture
def ivy(agency: Agency) -> FlaskClient:
    """Ivy's browser, signed in."""
    give_password(agency.ctx, "ivy")
    browser = agency.app.test_client()
    assert submit_sign_in(browser, "ivy", password_of("ivy")).status_code == 302
    return browser


def copy_of(browser: FlaskClient, agency: Agency) -> FlaskClient:
    """Another browser carrying the same session cookie (stolen, or a second tab's copy)."""
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = agency.app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def sign_out(browser: FlaskClient) -> None:
    token = csrf_token_in(browser.get("/work").get_data(as_text=True))
    assert browser.post("/sign-out", data={"csrf_token": token}).status_code == 302


def is_signed_in(browser: FlaskClient) -> bool:
    page = browser.get("/work")
    api = browser.get("/api/v1/me")
    if page.status_code == 200 and api.status_code == 200:
        return True
    assert page.status_code == 302 and page.headers["Location"] == SIGN_IN_PAGE
    assert api.status_code == 401
    return False


def test_a_cookie_copied_before_sign_out_is_refused_after_it(
    agency: Agency, ivy: FlaskClient
) -> None:
    copy = copy_of(ivy, agency)
    assert is_signed_in(copy)

    sign_out(ivy)

    assert not is_signed_in(copy)
    assert not is_signed_in(ivy)


def test_a_session_ends_ten_hours_after_sign_in(agency: Agency, ivy: FlaskClient) -> None:
    agency.ctx.clock.advance(timedelta(hours=10) - timedelta(seconds=1))  # type: ignore[attr-defined]
    assert is_signed_in(ivy)

    agency.ctx.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]

    assert not is_signed_in(ivy)


def test_signing_in_again_after_signing_out_works(agency: Agency, ivy: FlaskClient) -> None:
    sign_out(ivy)

    assert submit_sign_in(ivy, "ivy", password_of("ivy")).status_code == 302
    assert is_signed_in(ivy)
    assert ivy.get("/api/v1/me").get_json()["id"] == "ivy"


def test_signing_in_as_someone_else_ends_the_previous_session(
    agency: Agency, ivy: FlaskClient
) -> None:
    give_password(agency.ctx, "ian")
    copy = copy_of(ivy, agency)

    assert submit_sign_in(ivy, "ian", password_of("ian")).status_code == 302

    assert ivy.get("/api/v1/me").get_json()["id"] == "ian"
    assert not is_signed_in(copy)


def test_revoking_a_users_tokens_ends_their_web_sessions(agency: Agency, ivy: FlaskClient) -> None:
    revoke_tokens(agency.ctx, Actor("alex", "administrator"), "ivy")

    assert not is_signed_in(ivy)


def test_a_deactivated_user_is_signed_out(agency: Agency, ivy: FlaskClient) -> None:
    with agency.ctx.db.writer() as session:
        session.execute(update(User).where(User.id == "ivy").values(active=False))
        session.commit()

    assert not is_signed_in(ivy)
