"""Signing in with a password and out again. The session cookie carries only the user id and
the CSRF token; it is renewed at sign-in so a planted cookie is worthless."""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta

from flask import Response, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from engine.identity import (
    ROLES,
    failed_sign_ins_since,
    load_principal,
    password_hash_of,
    record_sign_in,
)
from workflows.web.site import bp, engine

LOCKOUT_AFTER = 5  # failed attempts for one user name within the window lock it for the window
LOCKOUT_WINDOW = timedelta(minutes=15)


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
    since = engine().clock.now() - LOCKOUT_WINDOW
    if user_id and failed_sign_ins_since(engine(), user_id, since) >= LOCKOUT_AFTER:
        page = render_template(
            "sign_in.html",
            next=request.form.get("next", ""),
            user=user_id,
            error="Too many failed attempts for this user: wait 15 minutes or ask an "
            "administrator.",
        )
        return page, 429
    stored = password_hash_of(engine(), user_id) if user_id else None
    valid = check_password_hash(stored or _decoy_hash(), password) and stored is not None
    record_sign_in(engine(), user_id or "-", valid, request.remote_addr or "")
    if not valid:
        page = render_template(
            "sign_in.html",
            next=request.form.get("next", ""),
            user=user_id,
            error="That user name and password do not match.",
        )
        return page, 401
    session.clear()
    session["user_id"] = user_id
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = True
    g.principal = load_principal(engine(), user_id)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/sign-out")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("web.sign_in"))
