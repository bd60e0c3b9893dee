"""Signing in with a password and out again. The session cookie carries only a web session's
id and the CSRF token; it is renewed at sign-in so a planted cookie is worthless, and the
session it names lives on the server (engine.identity.web_sessions), so signing out ends it
for every copy of the cookie."""

from __future__ import annotations

import functools
import secrets

from flask import Response, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from engine.identity import sign_in_throttle, web_sessions
from engine.identity.users import (
    ROLES,
    SIGN_IN_FAILED,
    SIGN_IN_REFUSED,
    SIGNED_IN,
    load_principal,
    password_hash_of,
    record_sign_in,
)
from workflows.http.auth import SESSION_KEY
from workflows.web.site import bp, engine, local_time

MISMATCH = "That user name and password do not match."


@functools.cache
def _decoy_hash() -> str:
    # Checked when the user is unknown, so a wrong name costs as long as a wrong password.
    return generate_password_hash(secrets.token_urlsafe(16))


# Where each role starts its day: the first of these its roles allow; otherwise "My work".
LANDING = [
    ("process_designer", "web.designer"),
    ("administrator", "web.admin"),
    ("auditor", "web.audit"),
]
WORKING_ROLES = frozenset(ROLES) - {role for role, _ in LANDING}


def _landing() -> str:
    principal = g.get("principal")
    if principal is not None and not principal.roles & WORKING_ROLES:
        for role, endpoint in LANDING:
            if principal.has(role):
                return url_for(endpoint)
    return url_for("web.inbox")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return _landing()


@bp.get("/")
def home() -> Response:
    return redirect(_landing())


def _demo() -> str | None:
    """Where the demo accounts are written, when this install seeded them."""
    settings = current_app.extensions["casework"].settings
    path = settings.data_dir / "demo-credentials.json"
    return str(path) if not settings.no_demo and path.exists() else None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int] | str:
    if request.method == "GET":
        return render_template("sign_in.html", next=request.args.get("next", ""), demo=_demo())
    user_id = request.form.get("user", "").strip()
    password = request.form.get("password", "")
    # The attempt is counted before its password is checked, so that simultaneous guesses
    # cannot all pass a count read before any of them failed. Unknown names are counted too.
    reservation = sign_in_throttle.reserve(engine(), user_id)
    address = request.remote_addr or ""
    if not reservation.allowed:
        record_sign_in(engine(), user_id or "-", SIGN_IN_REFUSED, address)
        return _refused(user_id, _locked_out(reservation)), 429
    stored = password_hash_of(engine(), user_id) if user_id else None
    valid = check_password_hash(stored or _decoy_hash(), password) and stored is not None
    record_sign_in(engine(), user_id or "-", SIGNED_IN if valid else SIGN_IN_FAILED, address)
    if not valid:
        return _refused(user_id, MISMATCH), 401
    sign_in_throttle.give_back(engine(), reservation)
    _start_session(user_id)
    return redirect(_safe_next(request.form.get("next")))


def _locked_out(reservation: sign_in_throttle.Reservation) -> str:
    until = reservation.locked_until
    when = f" after {local_time(until.isoformat())}" if until is not None else " later"
    return f"Too many failed attempts for this user: try again{when}, or ask an administrator."


def _refused(user_id: str, error: str) -> str:
    return render_template(
        "sign_in.html", next=request.form.get("next", ""), user=user_id, error=error
    )


def _start_session(user_id: str) -> None:
    # Whoever this browser was signed in as before is signed out, on the server too.
    _end_session()
    session[SESSION_KEY] = web_sessions.start(engine(), user_id)
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True
    g.principal = load_principal(engine(), user_id)


def _end_session() -> None:
    previous = session.get(SESSION_KEY)
    if previous:
        web_sessions.end(engine(), previous)
    session.clear()


@bp.post("/sign-out")
def sign_out() -> Response:
    _end_session()
    return redirect(url_for("web.sign_in"))
