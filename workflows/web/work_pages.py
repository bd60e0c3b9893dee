"""A worker's day: the inbox (tasks soonest due first, alerts to acknowledge) and the task
page, whose form is drawn from the task's JSON Schema and checked by the engine like the API's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for

from engine.cases import casefile, history, referrals
from engine.cases.facts import describe
from engine.deadlines import alerts
from engine.errors import Conflict, EngineError, InvalidInput, InvalidTaskData, NotFound
from engine.identity.roles import INTAKE_ROLES, SUPERVISING_ROLES
from engine.tasks import changes, completion, detail, worklists
from workflows.web import forms
from workflows.web.paging import requested
from workflows.web.site import (
    back,
    bp,
    end_of_today,
    engine,
    for_case,
    local_time,
    remember_header_counts,
    signed_in,
    status_of,
    who,
    zone,
)
from workflows.web.words import in_words, person

VIEW_TITLES = {
    "mine": "Assigned to me",
    "queue": "Unassigned, in my roles",
    "team": "My team's",
    "overdue": "Overdue",
}
DUE_SOON_DAYS = 2


def _due_within(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > 3650:
        raise InvalidInput("due within must be a number of days")
    return int(raw)


@bp.get("/work")
@signed_in
def inbox() -> str:
    principal = who()
    views = [v for v in VIEW_TITLES if v != "team" or principal.supervised_teams]
    counted = worklists.counts(engine(), principal, views, mine_due_by=end_of_today())
    # With no view asked for, open where the work is: mine, else what waits in my roles.
    view = request.args.get("view") or next(
        (v for v in ("mine", "queue") if counted.get(v)), "mine"
    )
    if view not in views:
        view = "mine"
    due = _due_within(request.args.get("due"))
    paging = requested(50)
    tasks, total = worklists.worklist(
        engine(),
        principal,
        worklists.Worklist(
            view=view, due_within_days=due, offset=paging.offset, limit=paging.per_page
        ),
    )
    now = engine().clock.now()
    for task in tasks:
        task["due_soon"] = bool(
            task["due_at"]
            and not task["overdue"]
            and (_hours_until(task["due_at"], now) <= DUE_SOON_DAYS * 24)
        )
    open_alerts, open_total = alerts.my_alerts(engine(), principal, open_only=True, limit=50)
    remember_header_counts(counted, open_total)  # the header needs no second count
    return render_template(
        "inbox.html",
        tasks=tasks,
        total=total,
        paging=paging.of(total),
        view=view,
        views=[(v, VIEW_TITLES[v], counted[v]) for v in views],
        due=due,
        alerts=open_alerts,
        # Where the work is when this view is empty.
        elsewhere=[(v, VIEW_TITLES[v], counted[v]) for v in views if v != view and counted[v]],
    )


def _hours_until(iso: str, now: datetime) -> float:
    return (datetime.fromisoformat(iso) - now).total_seconds() / 3600


@bp.post("/alerts/<uuid:alert_id>/acknowledge")
@signed_in
def acknowledge_alert(alert_id: uuid.UUID) -> Response:
    alerts.acknowledge(engine(), who(), alert_id)
    flash("Alert acknowledged.", "info")
    return back("web.inbox")


def _task_page(
    task_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    principal = who()
    task = detail.task_detail(engine(), principal, task_id)
    case_id = uuid.UUID(task["case_id"])
    case = casefile.case_file(engine(), principal, case_id)
    for_case(case)
    if values is None:
        values = {**task["data"], **(task["draft"] or {})}
    by_pointer = forms.errors_by_pointer(errors or [])
    fields = forms.build(task["form"], values, by_pointer, zone())
    # The screener decides with the people's prior history in view.
    screening = task["opens_case"] and task["status"] == "ready"
    page = render_template(
        "task.html",
        task=task,
        case=case,
        fields=fields,
        form_errors=forms.unplaced(fields, by_pointer),
        has_errors=bool(errors),
        mine=task["assignee"] == principal.id,
        history=history.prior_history(engine(), principal, case_id) if screening else None,
        # Where the person came from (the Team page): they go back there when done.
        back_to=_own_page(request.values.get("next", "")),
        may_link=bool(principal.roles & (INTAKE_ROLES | SUPERVISING_ROLES)),
        # A plan's task makes referrals: the services and providers its form offers.
        services=referrals.services_of(engine(), case["profile_id"])
        if task["referrals_mode"] == "make"
        else {},
        providers=referrals.providers(engine()) if task["referrals_mode"] == "make" else [],
    )
    return page, status


@bp.get("/tasks/<uuid:task_id>")
@signed_in
def task_page(task_id: uuid.UUID) -> tuple[str, int]:
    return _task_page(task_id)


# Inputs of the task page's form that are not the task's own fields.
_NOT_TYPED = {"csrf_token", "version", "action", "comment"}


def _typed(form: Any) -> bool:
    return any(v.strip() for k, v in form.items(multi=True) if k not in _NOT_TYPED
               and not k.endswith(".__present__"))  # fmt: skip


def _own_page(target: str) -> str:
    """A path of this site to return to, or "" (never another site)."""
    return target if target.startswith("/") and not target.startswith("//") else ""


def _zone_of(form: dict[str, Any]) -> ZoneInfo:
    """The zone a task's local times are typed in: its case's, as its form says."""
    named = form.get(detail.ZONE_KEY)
    return ZoneInfo(named) if isinstance(named, str) else zone()


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


@bp.post("/tasks/<uuid:task_id>")
@signed_in
def task_action(task_id: uuid.UUID) -> Response | tuple[str, int]:
    """One form, several buttons: save a draft, complete, claim, release or comment."""
    principal = who()
    action = request.form.get("action", "complete")
    ctx = engine()
    if action == "claim":
        claimed = changes.claim(ctx, principal, task_id, _version())
        # Claimed from the task's own page: what was typed there is kept, as a draft.
        if _typed(request.form):
            schema = detail.task_form(ctx, principal, task_id)
            typed = forms.parse(schema, request.form, _zone_of(schema))
            changes.save_draft(ctx, principal, task_id, typed, claimed["version"])
            flash("The task is yours; what you typed is kept as a draft.", "info")
        else:
            flash("The task is yours.", "info")
        # Taken from Team: completing it still returns there.
        back_to = _own_page(request.form.get("next", "")) or None
        return redirect(url_for("web.task_page", task_id=task_id, next=back_to))
    if action == "unclaim":
        changes.unclaim(ctx, principal, task_id, _version())
        flash("The task is back in the queue.", "info")
        return redirect(url_for("web.inbox"))
    if action == "comment":
        text = request.form.get("comment", "").strip()
        if text:
            changes.comment(ctx, principal, task_id, text)
        return redirect(url_for("web.task_page", task_id=task_id, _anchor="comments"))
    try:
        schema = detail.task_form(ctx, principal, task_id)
    except NotFound:
        if not _typed(request.form):
            raise
        # Done meanwhile, and the case moved beyond this person's sight: their text is theirs.
        typed = [
            {"field": k, "label": k.replace(".", " ").replace("_", " "), "text": v}
            for k, v in request.form.items(multi=True)
            if k not in _NOT_TYPED and not k.endswith(".__present__") and v.strip()
        ]
        message = "Not saved: the task was done meanwhile. What you typed is still here."
        return render_template("typed.html", message=message, typed=typed), 409
    data = forms.parse(schema, request.form, _zone_of(schema))
    if action == "save":
        changes.save_draft(ctx, principal, task_id, data, _version())
        flash("Draft saved.", "info")
        return redirect(url_for("web.task_page", task_id=task_id))
    try:
        done = completion.complete(ctx, principal, task_id, data, _version())
    except InvalidTaskData as exc:
        return _task_page(task_id, data, [e.as_dict() for e in exc.errors], 422)
    except Conflict as exc:
        # The text stays on the page: only the task's state changed under it.
        said = f"Not completed: {in_words(exc.message)} What you typed is still here."
        try:
            return _task_page(task_id, data, [{"field": "", "message": said}], 409)
        except NotFound:
            # The work moved on beyond this person's sight: their text, at least, is theirs.
            page = render_template("typed.html", message=said, typed=describe(schema, data))
            return page, 409
    flash(f"“{done['name']}” completed for case {done['case_number']}.", "info")
    if "court_report_document_id" in done:
        flash("The court report, with your recommendation, is kept on the case.", "info")
    if done.get("court_report_not_kept"):
        flash(
            "The task is done, but the court report could not be printed: keep it from the "
            "case page (Court report, Keep this report).",
            "error",
        )
    return redirect(_own_page(request.form.get("next", "")) or url_for("web.inbox"))


@bp.post("/tasks/<uuid:task_id>/draft")
@signed_in
def autosave_draft(task_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """The task page saves its form as one types (its script calls this, not a person): the
    answer is the task's new version, for the page's next save or completion, or why not."""
    ctx, principal = engine(), who()
    try:
        schema = detail.task_form(ctx, principal, task_id)
        data = forms.parse(schema, request.form, _zone_of(schema))
        saved = changes.save_draft(ctx, principal, task_id, data, _version())
    except EngineError as exc:
        return {"saved": False, "message": in_words(exc.message)}, status_of(exc)
    at = local_time(ctx.clock.now().isoformat())
    return {"saved": True, "version": saved["version"], "at": at}, 200


@bp.post("/tasks/<uuid:task_id>/assign")
@signed_in
def assign_task(task_id: uuid.UUID) -> Response:
    user_id = request.form.get("user_id", "").strip()
    if not user_id:
        raise InvalidInput("choose whom to assign the task to")
    changes.assign(engine(), who(), task_id, user_id, _version())
    flash(f"Task assigned to {person(user_id)}.", "info")
    return back("web.dashboard")
