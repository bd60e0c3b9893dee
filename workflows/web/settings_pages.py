"""My settings: where alerts reach me (email, at once or as a daily digest) and my calendar
feed for the phone."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from engine.errors import InvalidTaskData
from engine.notifications import preferences
from workflows.http.api import calendar_url
from workflows.web.site import bp, engine, signed_in, who


def _page(
    errors: dict[str, str] | None = None, feed_url: str | None = None, status: int = 200
) -> tuple[str, int]:
    settings = preferences.my_settings(engine(), who())
    page = render_template("me.html", settings=settings, errors=errors or {}, feed_url=feed_url)
    return page, status


@bp.get("/me")
@signed_in
def my_settings() -> tuple[str, int]:
    return _page()


@bp.post("/me")
@signed_in
def save_my_settings() -> Response | tuple[str, int]:
    changes = {"email": request.form.get("email", ""), "notify": request.form.get("notify")}
    try:
        preferences.change_settings(engine(), who(), changes)
    except InvalidTaskData as exc:
        return _page({e.field: e.message for e in exc.errors}, status=422)
    flash("Saved.", "info")
    return redirect(url_for("web.my_settings"))


@bp.post("/me/calendar-feed")
@signed_in
def new_calendar_feed() -> tuple[str, int]:
    token = preferences.new_calendar_feed(engine(), who())
    return _page(feed_url=calendar_url(token))


@bp.post("/me/calendar-feed/revoke")
@signed_in
def revoke_calendar_feed() -> Response:
    preferences.revoke_calendar_feed(engine(), who())
    flash("Your calendar feed no longer works anywhere.", "info")
    return redirect(url_for("web.my_settings"))
