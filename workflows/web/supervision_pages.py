"""The supervisor's dashboard: caseload per worker, the team's tasks to assign or reassign
(one by one or ticked together), approvals waiting, timeliness measures and the team's overdue
alerts."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from engine.deadlines import alerts
from engine.errors import EngineError, InvalidInput
from engine.tasks import caseload, changes, worklists
from workflows.web.site import bp, engine, signed_in, status_of, who
from workflows.web.words import in_words, person

APPROVAL_PREFIX = "approve_"
# The caseload table's columns a supervisor may sort by: names A to Z, counts largest first
# (who is busiest, who is behind).
CASELOAD_SORTS = (
    "name",
    "open_cases",
    "children",
    "overdue_tasks",
    "due_this_week",
    "tasks_on_others_cases",
)


def _sorted_caseload(workers: list[dict[str, Any]], by: str | None) -> list[dict[str, Any]]:
    if by not in CASELOAD_SORTS:
        return workers
    if by == "name":
        return sorted(workers, key=lambda w: (str(w["name"]).casefold(), w["user_id"]))
    return sorted(workers, key=lambda w: (-int(w[by]), str(w["name"]).casefold()))


@bp.get("/team")
@signed_in
def dashboard() -> str:
    return _team_page()[0]


@bp.post("/team/assign")
@signed_in
def assign_tasks() -> Response | tuple[str, int]:
    """Several tasks, ticked on the Team page, to one person: all or none."""
    chosen = request.form.getlist("task")
    user_id = request.form.get("user_id", "").strip()
    try:
        if not user_id:
            raise InvalidInput("choose whom to give the ticked tasks to")
        done = changes.assign_many(engine(), who(), [_task_at(v) for v in chosen], user_id)
    except EngineError as exc:
        # Nothing was assigned: the page comes back with the ticks and the choice as they were.
        # A choice that does not fit (a person without the role) is the form's to correct.
        status = 422 if isinstance(exc, InvalidInput) else status_of(exc)
        return _team_page(in_words(exc.message), set(chosen), status)
    flash(f"{len(done)} task(s) given to {person(user_id)}.", "info")
    return redirect(url_for("web.dashboard"))


def _task_at(value: str) -> tuple[uuid.UUID, int | None]:
    """A ticked task as the page sends it: its id and the version the page showed."""
    task_id, _, version = value.partition(":")
    try:
        return uuid.UUID(task_id), int(version) if version else None
    except ValueError:
        raise InvalidInput(f"{value!r} is not a task of this page") from None


def _team_page(
    bulk_error: str | None = None, chosen: set[str] | None = None, status: int = 200
) -> tuple[str, int]:
    principal, ctx = who(), engine()
    load = caseload.caseload(ctx, principal)
    sort = request.args.get("sort")
    load["workers"] = _sorted_caseload(load["workers"], sort)
    tasks, _ = worklists.worklist(ctx, principal, worklists.Worklist(view="team", limit=500))
    approvals = [t for t in tasks if t["element_id"].startswith(APPROVAL_PREFIX)]
    others = [t for t in tasks if not t["element_id"].startswith(APPROVAL_PREFIX)]
    open_alerts, _ = alerts.my_alerts(ctx, principal, open_only=True, limit=100)
    workers_by_role: dict[str, list[dict[str, Any]]] = {}
    for worker in load["workers"]:
        for role in worker["roles"]:
            workers_by_role.setdefault(role, []).append(worker)
    # Supervisors' own lanes (approvals, reviews): the supervisor may take them, or hand them on.
    for role in principal.roles:
        mine = workers_by_role.setdefault(role, [])
        if all(w["user_id"] != principal.id for w in mine):
            mine.insert(0, {"user_id": principal.id, "name": f"{principal.display_name} (me)"})
    page = render_template(
        "dashboard.html",
        bulk_error=bulk_error,
        chosen=chosen or set(),
        bulk_candidates=_everyone(workers_by_role),
        load=load,
        sort=sort if sort in CASELOAD_SORTS else None,
        unassigned=[t for t in others if t["assignee"] is None],
        assigned=[t for t in others if t["assignee"] is not None],
        approvals=approvals,
        alerts=[a for a in open_alerts if a["kind"] != "reminder"],
        workers_by_role=workers_by_role,
    )
    return page, status


def _everyone(workers_by_role: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Whom ticked tasks may go to: anyone who may take one of the team's tasks, once."""
    seen: dict[str, dict[str, Any]] = {}
    for workers in workers_by_role.values():
        for worker in workers:
            seen.setdefault(worker["user_id"], worker)
    return sorted(seen.values(), key=lambda w: str(w["name"]).casefold())
