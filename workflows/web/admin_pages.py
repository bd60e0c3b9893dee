"""Administration: users, teams and roles, API tokens (shown once), webhook subscriptions with
their delivery log, and timer incidents to retry once their cause is fixed."""

from __future__ import annotations

import uuid

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.security import generate_password_hash

from engine.cases import referrals
from engine.deadlines.timers import retry_incident
from engine.errors import Conflict, InvalidInput
from engine.identity import administration
from engine.identity.users import (
    ROLES,
    NewUser,
    create_team,
    create_user,
    issue_token,
    revoke_tokens,
)
from webhooks import subscriptions
from workflows.web.site import bp, engine, signed_in, who
from workflows.web.words import person


@bp.get("/admin")
@signed_in
def admin() -> str:
    return admin_page_with()[0]


def admin_page_with(
    user_error: str | None = None, status: int = 200, provider_error: str | None = None
) -> tuple[str, int]:
    """The administration page; a refused form of it comes back as typed, with the reason."""
    principal, ctx = who(), engine()
    page = render_template(
        "admin.html",
        provider_error=provider_error,
        providers=referrals.providers(ctx),
        services=referrals.services_of(ctx),
        # A refused new user comes back as typed (but for the password), with the reason.
        user_error=user_error,
        typed=request.form if user_error or provider_error else {},
        users=administration.users(ctx, principal),
        teams=administration.teams(ctx, principal),
        roles=ROLES,
        subscriptions=subscriptions.list_all(ctx, principal),
        incidents=administration.open_incidents(ctx, principal),
    )
    return page, status


def _required(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise InvalidInput(f"{name.replace('_', ' ')} is required")
    return value


@bp.post("/admin/users")
@signed_in
def add_user() -> Response | tuple[str, int]:
    principal = who()
    password = request.form.get("password", "")
    try:
        if password and len(password) < 12:
            raise InvalidInput("a password has at least 12 characters")
        user_id = _required("user_id")
        create_user(
            engine(),
            principal.actor,
            NewUser(
                user_id,
                _required("display_name"),
                request.form.getlist("roles"),
                team_id=request.form.get("team_id") or None,
                security_group=request.form.get("security_group") == "on",
                password_hash=generate_password_hash(password) if password else None,
            ),
        )
    except (InvalidInput, Conflict) as exc:
        return admin_page_with(exc.message, 409 if isinstance(exc, Conflict) else 422)
    flash(f"User {user_id} added.", "info")
    return redirect(url_for("web.admin", _anchor="users"))


@bp.post("/admin/teams")
@signed_in
def add_team() -> Response:
    principal = who()
    team_id = _required("team_id")
    create_team(engine(), principal.actor, team_id, _required("name"), _required("unit"))
    flash(f"Team {team_id} added.", "info")
    return redirect(url_for("web.admin", _anchor="teams"))


@bp.post("/admin/users/<user_id>/tokens")
@signed_in
def new_token(user_id: str) -> str:
    principal = who()
    label = request.form.get("label", "").strip() or "api"
    token = issue_token(engine(), principal.actor, user_id, label)
    return render_template("secret_once.html", what=f"API token for {user_id}", secret=token)


@bp.post("/admin/users/<user_id>/tokens/revoke")
@signed_in
def revoke(user_id: str) -> Response:
    principal = who()
    count = revoke_tokens(engine(), principal.actor, user_id)
    flash(f"{count} token{'' if count == 1 else 's'} of {person(user_id)} revoked.", "info")
    return redirect(url_for("web.admin", _anchor="users"))


@bp.post("/admin/subscriptions")
@signed_in
def add_subscription() -> str:
    topics = [t.strip() for t in request.form.get("topics", "").split(",") if t.strip()]
    _, secret = subscriptions.create(
        engine(),
        who(),
        _required("url"),
        topics,
        request.form.get("description", "").strip(),
        request.form.get("provider_id") or None,
    )
    return render_template("secret_once.html", what="Signing secret", secret=secret)


@bp.get("/admin/subscriptions/<uuid:subscription_id>")
@signed_in
def subscription_log(subscription_id: uuid.UUID) -> str:
    principal, ctx = who(), engine()
    rows, total = subscriptions.deliveries(ctx, principal, subscription_id, limit=100)
    return render_template(
        "deliveries.html",
        subscription=subscriptions.get(ctx, principal, subscription_id),
        deliveries=rows,
        total=total,
    )


@bp.post("/admin/subscriptions/<uuid:subscription_id>/replay-dead")
@signed_in
def replay_dead(subscription_id: uuid.UUID) -> Response:
    count = subscriptions.replay_dead(engine(), who(), subscription_id)
    flash(f"{count} dead deliveries queued again.", "info")
    return redirect(url_for("web.subscription_log", subscription_id=subscription_id))


@bp.post("/admin/incidents/<uuid:incident_id>/retry")
@signed_in
def retry(incident_id: uuid.UUID) -> Response:
    principal = who()
    retry_incident(engine(), incident_id, principal.id)
    flash("The timer is queued again.", "info")
    return redirect(url_for("web.admin", _anchor="incidents"))
