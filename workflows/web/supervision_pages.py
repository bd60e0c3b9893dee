"""The supervisor's dashboard: caseload per worker, the team's tasks to assign or reassign,
approvals waiting, timeliness measures and the team's overdue alerts."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from engine.deadlines import alerts
from engine.tasks import caseload, worklists
from workflows.web.site import bp, engine, signed_in, who

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
    return render_template(
        "dashboard.html",
        load=load,
        sort=sort if sort in CASELOAD_SORTS else None,
        unassigned=[t for t in others if t["assignee"] is None],
        assigned=[t for t in others if t["assignee"] is not None],
        approvals=approvals,
        alerts=[a for a in open_alerts if a["kind"] != "reminder"],
        workers_by_role=workers_by_role,
    )
