"""Amending the case record: the entry's own form, filled with what it says now, and a reason.
The original stays; the case page shows the amendment, who made it, when and why."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from engine.cases import amendments
from engine.errors import InvalidTaskData
from workflows.web import forms
from workflows.web.site import bp, case_zone, engine, signed_in, who


def _amend_page(
    case_id: uuid.UUID,
    entry_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    reason: str = "",
    status: int = 200,
) -> tuple[str, int]:
    found = amendments.amendable(engine(), who(), case_id, entry_id)
    by_pointer = forms.errors_by_pointer(errors or [])
    fields = forms.build(
        found["form"], values or found["entry"]["data"], by_pointer, case_zone(case_id)
    )
    page = render_template(
        "amend.html",
        case_id=case_id,
        case_number=found["case_number"],
        entry=found["entry"],
        fields=fields,
        reason=reason,
        reason_errors=by_pointer.get("/reason", []),
        form_errors=forms.unplaced(fields, {k: v for k, v in by_pointer.items() if k != "/reason"}),
        has_errors=bool(errors),
    )
    return page, status


@bp.get("/cases/<uuid:case_id>/record/<uuid:entry_id>/amend")
@signed_in
def amend_entry_page(case_id: uuid.UUID, entry_id: uuid.UUID) -> tuple[str, int]:
    return _amend_page(case_id, entry_id)


@bp.post("/cases/<uuid:case_id>/record/<uuid:entry_id>/amend")
@signed_in
def amend_entry(case_id: uuid.UUID, entry_id: uuid.UUID) -> Response | tuple[str, int]:
    found = amendments.amendable(engine(), who(), case_id, entry_id)
    data = forms.parse(found["form"], request.form, case_zone(case_id))
    reason = request.form.get("reason", "")
    try:
        amendments.amend(engine(), who(), amendments.Amendment(case_id, entry_id, data, reason))
    except InvalidTaskData as exc:
        errors = [e.as_dict() for e in exc.errors]
        return _amend_page(case_id, entry_id, data, errors, reason, 422)
    flash("Amended. The original is kept with the entry.", "info")
    return redirect(
        url_for("web.case_page", case_id=case_id, _anchor=f"record-{found['entry']['kind']}")
    )
