"""Cases: the hotline report that opens one, the case list, and the case page (people,
allegations, contacts, timeline, alerts, and each phase drawn on its diagram)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from engine.cases import casefile, primary_worker, referrals
from engine.definitions.diagrams import instance_diagram
from engine.errors import Conflict, InvalidInput, InvalidTaskData
from engine.identity import emergency
from engine.instances import messages
from workflows.web import forms
from workflows.web.paging import requested
from workflows.web.site import (
    bp,
    case_zone,
    engine,
    for_case,
    local_time,
    signed_in,
    who,
    zone,
)
from workflows.web.words import person

CASE_STATUSES = ("open", "screened_out", "closed")

# The hotline report and the contact log entry are drawn from the engine's own schemas, with
# the words a screener or caseworker expects on them.
TITLES = {
    "team": "Team",
    "county": "County",
    "summary": "What was reported",
    "profile_id": "Jurisdiction profile",
    "reporter": "Reporter",
    "children": "Children",
    "caregivers": "Caregivers",
    "alleged_perpetrators": "Alleged perpetrators",
    "allegations": "Allegations",
    "occurred_at": "When",
    "type": "Type",
    "location": "Where",
    "participants": "Participants (one a line)",
    "narrative": "Narrative",
    "attempted_only": "Attempt only (no contact made)",
    "case_number": "Case number",
    "reason": "Why the case must be opened now",
    "minutes": "For how many minutes (at most 720)",
}


def titled(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an engine schema with people's words as titles (recursively)."""
    copy = dict(schema)
    if "properties" in copy:
        copy["properties"] = {
            k: {"title": TITLES.get(k, k.replace("_", " ").capitalize()), **titled(v)}
            for k, v in copy["properties"].items()
        }
    if isinstance(copy.get("items"), dict):
        copy["items"] = titled(copy["items"])
    return copy


INTAKE_FORM = titled(casefile.INTAKE_SCHEMA)
# People count from 1 on a page; the engine's report numbers them from 0.
INTAKE_FORM["properties"]["allegations"]["items"]["properties"].update(
    {
        # Numbers without script; with it the page offers the people typed above by name.
        "victim": {
            "type": "integer",
            "minimum": 1,
            "title": "Child (1 = first child listed)",
            "x-person-of": "children",
        },
        "perpetrator": {
            "type": "integer",
            "minimum": 1,
            "title": "Alleged perpetrator (1 = first listed; empty if unknown)",
            "x-person-of": "alleged_perpetrators",
        },
        # The allegation types come from the jurisdiction profiles (see _intake_form).
    }
)
CONTACT_FORM = titled(casefile.CONTACT_SCHEMA)


def _intake_form() -> dict[str, Any]:
    """The report form with today's teams and jurisdiction profiles to choose from."""
    choices = casefile.intake_choices(engine())
    properties = dict(INTAKE_FORM["properties"])
    for key, listed in (("team", choices["teams"]), ("profile_id", choices["profiles"])):
        if listed:
            named = [{"const": value, "title": name or value} for value, name in listed.items()]
            properties[key] = {**properties[key], "oneOf": named}
    types = choices["maltreatment_types"]
    if types:
        allegations = properties["allegations"]
        item = allegations["items"]
        kind = {
            "type": "string",
            "title": "Maltreatment type",
            "oneOf": [
                {"const": code, "title": f"{title} ({code})"} for code, title in types.items()
            ],
        }
        properties["allegations"] = {
            **allegations,
            "items": {**item, "properties": {**item["properties"], "type": kind}},
        }
    return {**INTAKE_FORM, "properties": properties}


def _intake_page(
    values: dict[str, Any], errors: list[dict[str, Any]], status: int
) -> tuple[str, int]:
    by_pointer = forms.errors_by_pointer(errors)
    fields = forms.build(_intake_form(), values, by_pointer, zone())
    page = render_template(
        "intake.html", fields=fields, form_errors=forms.unplaced(fields, by_pointer)
    )
    return page, status


@bp.get("/intakes/new")
@signed_in
def new_intake() -> tuple[str, int]:
    blank = {"children": [{}], "allegations": [{}], "caregivers": [{}]}
    team = who().team_id
    if team:
        blank["team"] = team  # the screener's own team unless they choose another
    return _intake_page(blank, [], 200)


@bp.post("/intakes")
@signed_in
def file_intake() -> Response | tuple[str, int]:
    data = forms.parse(_intake_form(), request.form, zone())
    try:
        opened = casefile.file_intake(engine(), who(), _counted_from_zero(data))
    except InvalidTaskData as exc:
        return _intake_page(data, [e.as_dict() for e in exc.errors], 422)
    flash(f"Report filed: case {opened.case_number} is open and in screening.", "info")
    return redirect(url_for("web.case_page", case_id=opened.id))


def _counted_from_zero(data: dict[str, Any]) -> dict[str, Any]:
    allegations = []
    for item in data.get("allegations", []):
        item = dict(item)
        for key in ("victim", "perpetrator"):
            if isinstance(item.get(key), int):
                item[key] -= 1
        allegations.append(item)
    return {**data, "allegations": allegations} if "allegations" in data else data


@bp.get("/cases")
@signed_in
def cases() -> tuple[str, int]:
    return _cases_page()


def _cases_page(
    glass: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    status_filter = request.args.get("status") or None
    if status_filter not in (None, *CASE_STATUSES):
        status_filter = None
    text = request.args.get("q", "").strip() or None
    overdue = request.args.get("overdue") == "1" or None
    paging = requested(50)
    principal = who()
    search = casefile.CaseSearch(
        status=status_filter,
        text=text,
        overdue=overdue,
        offset=paging.offset,
        limit=paging.per_page,
    )
    rows, total = casefile.list_cases(engine(), principal, search)
    may_break_glass = bool(principal.roles & emergency.MAY_BREAK_GLASS)
    by_pointer = forms.errors_by_pointer(errors or [])
    glass_fields = forms.build(GLASS_FORM, glass or {}, by_pointer, zone())
    page = render_template(
        "cases.html",
        cases=rows,
        total=total,
        paging=paging.of(total),
        status=status_filter,
        q=text or "",
        overdue=overdue,
        statuses=CASE_STATUSES,
        may_break_glass=may_break_glass,
        glass_fields=glass_fields if may_break_glass else [],
        glass_errors=forms.unplaced(glass_fields, by_pointer),
        glass_open=bool(errors),
        grants=emergency.my_grants(engine(), principal) if may_break_glass else [],
    )
    return page, status


GLASS_FORM = titled(emergency.REQUEST_SCHEMA)


@bp.post("/cases/emergency-access")
@signed_in
def break_glass() -> Response | tuple[str, int]:
    """Open a case that is not one's own, in an emergency: a stated reason, a time limit."""
    data = forms.parse(GLASS_FORM, request.form, zone())
    try:
        grant = emergency.break_glass(engine(), who(), data, zone())
    except InvalidTaskData as exc:
        return _cases_page(data, [e.as_dict() for e in exc.errors], 422)
    flash(
        f"Emergency access to case {grant.case_number} until "
        f"{local_time(grant.expires_at.isoformat())}. It is recorded, and the case's supervisor "
        "and the security group will be told.",
        "info",
    )
    return redirect(url_for("web.case_page", case_id=grant.case_id))


# What a referral may become from each status, as the page offers it (the engine decides).
NEXT_STATUSES = {
    status: [later for later, rank in referrals.RANK.items() if rank > referrals.RANK[status]]
    for status in referrals.RANK
}


def case_page_with(
    case_id: uuid.UUID,
    contact: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    restriction_error: str | None = None,
    worker_error: str | None = None,
    document_error: str | None = None,
    referral_error: str | None = None,
) -> tuple[str, int]:
    """The case page; a refused form of it comes back with its error beside it."""
    principal, ctx = who(), engine()
    view = casefile.case_page(ctx, principal, case_id)
    case, positions = view["case"], view["positions"]
    for_case(case)
    by_pointer = forms.errors_by_pointer(errors or [])
    contact_fields = forms.build(CONTACT_FORM, contact or {}, by_pointer, zone())
    for phase in positions:
        for timer in phase["pending_timers"]:
            timer["due_label"] = local_time(timer["due_at"])
    page = render_template(
        "case.html",
        case=case,
        people_by_id={p["id"]: p["name"] for p in case["people"]},
        maltreatment=casefile.intake_choices(ctx)["maltreatment_types"],
        tasks=view["tasks"],
        contacts=view["contacts"],
        timeline=view["timeline"],
        positions=positions,
        contact_fields=contact_fields,
        contact_errors=forms.unplaced(contact_fields, by_pointer),
        contact_open=bool(errors),
        may_restrict=view["may_restrict"],
        restriction_error=restriction_error,
        record_sections=_sections(case["record"]),
        may_amend_any=view["may_amend_any"],
        # The supervision chain names the case's worker.
        workers=primary_worker.workers_for(ctx, case["team"]) if view["may_amend_any"] else [],
        worker_error=worker_error,
        # What this person may start on the case by hand (a placement change).
        startable=(
            messages.startable(ctx, principal, case["profile_id"])
            if case["status"] == "open"
            else []
        ),
        shelf=view["shelf"],
        document_error=document_error,
        referrals=view["referrals"],
        referral_error=referral_error,
        services=referrals.services_of(ctx, case["profile_id"]),
        providers=referrals.providers(ctx),
        next_statuses=NEXT_STATUSES,
    )
    return page, status


def _sections(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's entries by kind, in the record's order, each section titled by its first
    entry's title when all share it (else by the kind). Decision tables' entries are left to
    the Decisions card."""
    sections: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["kind"] == "decision":
            continue  # the Decisions card says them in words
        section = sections.setdefault(
            entry["kind"], {"kind": entry["kind"], "title": entry["title"], "entries": []}
        )
        if section["title"] != entry["title"]:
            section["title"] = SECTION_TITLES.get(entry["kind"], entry["kind"].replace("_", " "))
        section["entries"].append(entry)
    return list(sections.values())


# A section holding entries of several forms (the court's hearings, orders and filings).
SECTION_TITLES = {
    "court": "Court",
    "risk_assessment": "Risk assessments",
    "supervision": "Supervision",
    "permanency_goal": "Permanency goals",
    "approval": "Approvals",
    "contact": "Contacts",
}


@bp.post("/cases/<uuid:case_id>/sensitivity")
@signed_in
def set_sensitivity(case_id: uuid.UUID) -> Response | tuple[str, int]:
    data = {
        "sensitive": request.form.get("sensitive") == "true",
        "reason": request.form.get("reason", "").strip(),
    }
    try:
        changed = casefile.set_sensitivity(engine(), who(), case_id, data)
    except InvalidTaskData:
        return case_page_with(case_id, status=422, restriction_error="Say why, in a sentence.")
    flash("Case restricted." if changed["sensitive"] else "Restriction lifted.", "info")
    return redirect(url_for("web.case_page", case_id=case_id))


@bp.post("/cases/<uuid:case_id>/start/<name>")
@signed_in
def start_process(case_id: uuid.UUID, name: str) -> Response:
    """Start a process on the case by hand: the message that starts it, with nothing in it
    (its first task asks what it needs)."""
    try:
        messages.send_message(engine(), who(), name, case_id=case_id, payload={})
    except Conflict as exc:
        flash(f"Not started: {exc.message}", "error")
        return redirect(url_for("web.case_page", case_id=case_id))
    flash("Started. Its first task is in the work lists.", "info")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="tasks-heading"))


@bp.post("/cases/<uuid:case_id>/worker")
@signed_in
def assign_case(case_id: uuid.UUID) -> Response | tuple[str, int]:
    change = primary_worker.Reassignment(
        case_id, request.form.get("user_id", ""), request.form.get("reason", "").strip()
    )
    try:
        done = primary_worker.assign_case(engine(), who(), change)
    except InvalidInput as exc:
        return case_page_with(case_id, status=422, worker_error=exc.message)
    flash(f"The case is now {person(done['assigned_to'])}'s.", "info")
    return redirect(url_for("web.case_page", case_id=case_id))


@bp.get("/cases/<uuid:case_id>")
@signed_in
def case_page(case_id: uuid.UUID) -> tuple[str, int]:
    return case_page_with(case_id)


@bp.post("/cases/<uuid:case_id>/contacts")
@signed_in
def add_contact(case_id: uuid.UUID) -> Response | tuple[str, int]:
    data = forms.parse(CONTACT_FORM, request.form, case_zone(case_id))
    try:
        casefile.record_contact(engine(), who(), case_id, data)
    except InvalidTaskData as exc:
        return case_page_with(case_id, data, [e.as_dict() for e in exc.errors], 422)
    flash("Contact recorded.", "info")
    return redirect(url_for("web.case_page", case_id=case_id, _anchor="contacts"))


@bp.get("/cases/<uuid:case_id>/phases/<uuid:instance_id>/diagram.bpmn")
@signed_in
def phase_diagram(case_id: uuid.UUID, instance_id: uuid.UUID) -> Response:
    # ?process= draws a process the phase calls (its call activity shows one box).
    called = request.args.get("process") or None
    content = instance_diagram(engine(), who(), case_id, instance_id, called)
    return Response(content, mimetype="application/xml")
