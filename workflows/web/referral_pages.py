"""Referrals on the case page — refer a family member to a partner agency for a service it
offers, and record what became of it, forward only — and the directory of providers on the
administration page."""

from __future__ import annotations

import uuid
from datetime import date

from flask import Response, flash, redirect, request, url_for

from engine.cases import referrals
from engine.errors import Conflict, InvalidInput
from workflows.web.admin_pages import admin_page_with
from workflows.web.case_pages import case_page_with
from workflows.web.site import back, bp, engine, signed_in, who


@bp.post("/cases/<uuid:case_id>/referrals")
@signed_in
def make_referral(case_id: uuid.UUID) -> Response | tuple[str, int]:
    form = request.form
    new = referrals.NewReferral(
        form.get("person_id", ""), form.get("service", ""), form.get("provider_id", ""),
        form.get("reason", ""),
    )  # fmt: skip
    try:
        made = referrals.refer(engine(), who(), case_id, new)
    except InvalidInput as exc:
        return case_page_with(case_id, referral_error=exc.message, status=422)
    flash(f"{made['person']} referred to {made['provider']} for {made['service_title']}.", "info")
    # Made from a plan's task: back to it (the form carries where it came from).
    return back("web.case_page", case_id=case_id, _anchor="referrals")


@bp.post("/cases/<uuid:case_id>/referrals/<uuid:referral_id>/status")
@signed_in
def move_referral(case_id: uuid.UUID, referral_id: uuid.UUID) -> Response | tuple[str, int]:
    form = request.form
    try:
        on = date.fromisoformat(form["on"]) if form.get("on") else None
    except ValueError:
        return case_page_with(case_id, referral_error="the date is not a date", status=422)
    try:
        moved = referrals.move(
            engine(), who(), case_id, referral_id, form.get("status", ""), on, form.get("note", "")
        )
    except (InvalidInput, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return case_page_with(case_id, referral_error=exc.message, status=status)
    flash(
        f"The referral to {moved['provider']} is now {moved['status'].replace('_', ' ')}.", "info"
    )
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="referrals"))


@bp.post("/admin/providers")
@signed_in
def save_provider() -> Response | tuple[str, int]:
    form = request.form
    capacity = form.get("capacity", "").strip()
    languages = [part.strip() for part in form.get("languages", "").split(",") if part.strip()]
    try:
        new = referrals.NewProvider(
            id=form.get("id", "").strip(),
            name=form.get("name", ""),
            services=form.getlist("services"),
            area=form.get("area", ""),
            contact=form.get("contact", ""),
            languages=tuple(languages or ["English"]),
            capacity=int(capacity) if capacity else None,
            active=form.get("active") == "yes",
        )
        saved = referrals.save_provider(engine(), who(), new)
    except ValueError:
        return admin_page_with(provider_error="capacity is a number of families", status=422)
    except InvalidInput as exc:
        return admin_page_with(provider_error=exc.message, status=422)
    flash(f"{saved['name']} is in the directory.", "info")
    return redirect(url_for("web.admin", _anchor="providers"))
