"""The web pages' shared ground: the blueprint, who is signed in, CSRF on every form, the
navigation each role sees, and engine errors shown as pages instead of problem documents."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, time
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException

from engine.cases import casefile
from engine.context import EngineContext
from engine.deadlines import alerts
from engine.errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from engine.identity.users import Principal
from engine.tasks import worklists
from workflows.web.forms import in_zone

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")  # fmt: skip

View = TypeVar("View", bound=Callable[..., Any])

# Navigation: (endpoint, label, roles that see it; empty = everyone signed in).
NAVIGATION: list[tuple[str, str, frozenset[str]]] = [
    ("web.inbox", "My work", frozenset()),
    ("web.new_intake", "New report", frozenset({"intake_screener", "intake_supervisor"})),
    ("web.cases", "Cases", frozenset()),
    ("web.dashboard", "Team", frozenset({"supervisor", "intake_supervisor", "program_director"})),
    ("web.designer", "Designer", frozenset({"process_designer", "administrator"})),
    ("web.admin", "Admin", frozenset({"administrator"})),
    ("web.audit", "Audit", frozenset({"auditor"})),
]


def engine() -> EngineContext:
    ctx: EngineContext = current_app.extensions["casework"].ctx
    return ctx


def zone() -> ZoneInfo:
    """The zone a page shows times in: its case's jurisdiction's, else the agency's."""
    local = g.get("case_local") or {}
    return ZoneInfo(local.get("time_zone") or current_app.extensions["casework"].settings.time_zone)


def case_zone(case_id: uuid.UUID) -> ZoneInfo:
    """The zone a form about this case is typed in: its jurisdiction's."""
    named = casefile.time_zone_of(engine(), who(), case_id)
    return ZoneInfo(named) if named else zone()


def for_case(case: dict[str, Any]) -> None:
    """This page is about one case: its times, dates and role names as its jurisdiction writes
    them (its profile's zone, date layouts and role titles)."""
    g.case_local = case.get("local") or {}


def role_title(role: str | None, profile_id: str | None = None) -> str:
    """A role as the page's case's jurisdiction (or ``profile_id``'s) names it (a social
    worker), else in casework's words."""
    local = _local_of(profile_id) if profile_id else g.get("case_local") or {}
    titles = local.get("role_titles") or {}
    return str(titles.get(role) or (role or "").replace("_", " "))


def who() -> Principal:
    principal: Principal | None = g.get("principal")
    if principal is None:
        abort(401)
    return principal


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def signed_in(view: View) -> View:
    """Pages for signed-in users: anyone else is sent to the sign-in page and back."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:
            return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.before_request
def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "the form expired or did not come from casework; reload the page and retry")


@bp.before_request
def refuse_nul_characters() -> None:
    # A NUL is never meaningful in what a person types, and PostgreSQL cannot store it: a
    # form (or an address) carrying one is refused whole, before anything reads it.
    sent = [*request.args.items(multi=True)]
    sent += [(name, str(value)) for name, value in (request.view_args or {}).items()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent += [*request.form.items(multi=True)]
        sent += [(name, f.filename or "") for name, f in request.files.items(multi=True)]
    if any("\x00" in name or "\x00" in value for name, value in sent):
        abort(400, "a field holds a NUL character, which casework cannot keep; nothing was saved")


@bp.after_request
def page_headers(response: Response) -> Response:
    # Pages show children's data: never cached, never framed, no inline script injection.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault(  # a download's own, stricter policy stays
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    )
    return response


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    principal: Principal | None = g.get("principal")
    navigation = []
    if principal is not None:
        navigation = [
            (endpoint, label)
            for endpoint, label, roles in NAVIGATION
            if not roles or principal.roles & roles
        ]
    return {
        "me": principal,
        "navigation": navigation,
        "csrf_token": csrf_token,
        "local_time": local_time,
        "role_title": role_title,
        "header_counts": header_counts,
    }


def header_counts() -> dict[str, int]:
    """What the header tells a signed-in person at a glance: their tasks due today, overdue,
    and open alerts (counted once per page; My work counts them with its tabs)."""
    if "header_counts" not in g:
        ctx, principal = engine(), who()
        found = worklists.counts(ctx, principal, [], mine_due_by=end_of_today())
        remember_header_counts(found, alerts.open_alert_count(ctx, principal))
    counted: dict[str, int] = g.header_counts
    return counted


def remember_header_counts(found: dict[str, int], open_alerts: int) -> None:
    g.header_counts = {
        "due_today": found["mine_due_today"],
        "overdue": found["mine_overdue"],
        "alerts": open_alerts,
    }


def end_of_today() -> datetime:
    """The last moment of today, in the agency's zone."""
    return datetime.combine(engine().clock.now().astimezone(zone()).date(), time.max, zone())


def local_time(value: str | None, with_time: bool = True, profile_id: str | None = None) -> str:
    """An ISO instant as people write it where it happened: in the zone and the layout of
    the page's case, or of ``profile_id`` (a row of a list of many cases), else the agency's."""
    local = _local_of(profile_id) if profile_id else g.get("case_local") or {}
    where = ZoneInfo(local["time_zone"]) if local.get("time_zone") else zone()
    if with_time:
        return in_zone(value, where, local.get("date_time") or "%a %d %b %Y %H:%M")
    return in_zone(value, where, local.get("date") or "%a %d %b %Y")


def _local_of(profile_id: str) -> dict[str, Any]:
    """A jurisdiction's ways, read once per request."""
    if "local_by_profile" not in g:
        g.local_by_profile = casefile.local_ways(engine())
    found: dict[str, Any] = g.local_by_profile.get(profile_id, {})
    return found


UUID_IN_TEXT = re.compile(r"\s?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STATUS = [(NotFound, 404), (Conflict, 409), (Forbidden, 403), (InvalidInput, 400)]


def status_of(error: EngineError) -> int:
    """The HTTP status a refusal of the engine answers with."""
    return next((s for cls, s in STATUS if isinstance(error, cls)), 422)


@bp.errorhandler(EngineError)
def engine_error_page(error: EngineError) -> tuple[str, int]:
    status = status_of(error)
    # An id means nothing to a person ("no case 1d3a…" is "no case").
    message = UUID_IN_TEXT.sub("", error.message).replace("  ", " ").strip()
    return render_template("error.html", status=status, message=message), status


@bp.errorhandler(401)
def sign_in_first(error: Exception) -> Response:
    return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))


@bp.errorhandler(HTTPException)
def http_error_page(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]]:
    """Werkzeug's errors keep their status (413 for a form too large, 405…) and their headers
    (Allow…) rather than falling to the catch-all below as a 500."""
    status = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return render_template("error.html", status=status, message=error.description), status, headers


@bp.errorhandler(Exception)
def unexpected_error_page(error: Exception) -> tuple[str, int]:
    current_app.logger.exception("unhandled error on a page", exc_info=error)
    return render_template("error.html", status=500, message="Something went wrong; it has "
                           "been logged. Nothing was half-saved."), 500  # fmt: skip


def back(default: str, **values: Any) -> Response:
    """Redirect to where the form came from when that is one of our pages."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for(default, **values))
