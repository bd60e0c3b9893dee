"""Prior history on the pages: the screener's list of earlier cases each person may be in,
and the link (or unlink) of a suggested match."""

from __future__ import annotations

import uuid

from flask import Response, flash, redirect, request, url_for

from engine.cases import history
from engine.errors import InvalidInput
from workflows.web.site import bp, engine, signed_in, who


@bp.post("/cases/<uuid:case_id>/people/<uuid:person_id>/links")
@signed_in
def link_person(case_id: uuid.UUID, person_id: uuid.UUID) -> Response:
    back = _back(case_id)
    try:
        other = uuid.UUID(request.form.get("other_person_id", ""))
    except ValueError:
        flash("Choose a match to link.", "error")
        return redirect(back)
    linked = request.form.get("linked") == "true"
    try:
        history.link(engine(), who(), history.Link(case_id, person_id, other, linked))
    except InvalidInput as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash("Linked: one person across both cases." if linked else "Link removed.", "info")
    return redirect(back)


def _back(case_id: uuid.UUID) -> str:
    """Back to the task the screener was on, or to the case."""
    task = request.form.get("task_id", "")
    try:
        return url_for("web.task_page", task_id=uuid.UUID(task), _anchor="history")
    except ValueError:
        return url_for("web.case_page", case_id=case_id, _anchor="history")
