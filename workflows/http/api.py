"""The JSON API under ``/api/v1``: thin views over the engine's use cases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, request

from engine.cases import amendments, casefile, documents, history, primary_worker, referrals
from engine.cases import court_report as court_reports
from engine.deadlines import alerts as alert_list
from engine.definitions import catalogue
from engine.definitions.bundle import bundle_from_files
from engine.definitions.deployments import activate_version, deploy_bundle, review
from engine.errors import FieldError, InvalidDefinition, InvalidInput, InvalidTaskData
from engine.events import audit_log as audit_trail
from engine.identity import emergency
from engine.instances import messages, starts
from engine.instances.migration import Migration, migrate
from engine.notifications import calendar, preferences
from engine.tasks import caseload as caseloads
from engine.tasks import changes, completion, detail, worklists
from workflows.http import schemas as s
from workflows.http.downloads import download, report_response
from workflows.http.operations import (
    PAGE,
    Api,
    ok,
    page_args,
    paged,
    paged_schema,
    principal,
    query_param,
)
from workflows.uploads import uploaded_document, uploaded_files

bp = Blueprint("api", __name__, url_prefix="/api/v1")
api = Api(bp, "/api/v1")


def engine() -> Any:
    return current_app.extensions["casework"].ctx


def agency_zone() -> ZoneInfo:
    return ZoneInfo(current_app.extensions["casework"].settings.time_zone)


def _flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise InvalidTaskData(
        "invalid query", [FieldError(f"/{name}", "must be true or false", "type")]
    )


def _if_match() -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        raise InvalidInput("If-Match must carry the task's version, as its ETag gives it") from None


def _task_response(body: dict[str, Any], status: int = 200) -> Response:
    response = ok(body, status)
    response.headers["ETag"] = f'"{body["version"]}"'
    return response


# -- who am I -------------------------------------------------------------------------------


@api.operation("get", "/me", summary="The signed-in user", tag="identity", response=s.ME)
def me() -> Response:
    who = principal()
    return ok(
        {
            "id": who.id,
            "display_name": who.display_name,
            "roles": sorted(who.roles),
            "team_id": who.team_id,
            "unit": who.unit,
            "supervised_teams": sorted(who.supervised_teams),
        }
    )


@api.operation(
    "get", "/me/settings", summary="How alerts reach me", tag="identity", response=s.MY_SETTINGS
)
def my_settings() -> Response:
    return ok(preferences.my_settings(engine(), principal()))


@api.operation(
    "patch",
    "/me/settings",
    summary="Change my email address and how alerts reach me (immediate, digest, none)",
    tag="identity",
    body=s.MY_SETTINGS_BODY,
    response=s.MY_SETTINGS,
    errors=(422,),
)
def change_my_settings() -> Response:
    return ok(preferences.change_settings(engine(), principal(), g.body))


@api.operation(
    "post",
    "/me/calendar-feed",
    summary="A new calendar feed address (shown once; the earlier one stops working)",
    tag="identity",
    response=s.CALENDAR_FEED,
    status=201,
)
def new_calendar_feed() -> Response:
    token = preferences.new_calendar_feed(engine(), principal())
    return ok({"url": calendar_url(token)}, 201)


@api.operation(
    "delete", "/me/calendar-feed", summary="Stop my calendar feed", tag="identity",
    response=None, status=204,
)  # fmt: skip
def revoke_calendar_feed() -> Response:
    preferences.revoke_calendar_feed(engine(), principal())
    return Response(status=204)


@api.operation(
    "get",
    "/me/calendar.ics",
    summary="My tasks' due dates as an iCalendar feed (authenticated by the feed's token)",
    tag="identity",
    response={"type": "string"},
    content_type="text/calendar",
    query=[query_param("token", description="the feed token", minLength=1, maxLength=200)],
    errors=(404,),
    auth=False,
)
def calendar_feed() -> Response:
    owner = preferences.feed_owner(engine(), request.args.get("token", ""))
    body = calendar.calendar_of(engine(), owner, public_url())
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "no-store"})


def public_url() -> str:
    settings = current_app.extensions["casework"].settings
    return settings.public_url or request.host_url


def calendar_url(token: str) -> str:
    return f"{public_url().rstrip('/')}/api/v1/me/calendar.ics?token={token}"


# -- intake and cases ---------------------------------------------------------------------


@api.operation(
    "post",
    "/intakes",
    summary="File a hotline report: opens a case and starts intake",
    tag="cases",
    body=casefile.INTAKE_SCHEMA,
    response=s.OPENED,
    status=201,
    errors=(403, 422),
)
def file_intake() -> Response:
    opened = casefile.file_intake(engine(), principal(), g.body)
    return ok({"id": str(opened.id), "case_number": opened.case_number}, 201)


@api.operation(
    "get",
    "/cases",
    summary="Cases I may see",
    tag="cases",
    response=paged_schema(s.CASE),
    query=[
        query_param("status", description="open, screened_out, closed"),
        query_param("assignee"),
        query_param("team"),
        query_param("overdue", "boolean", "only cases with an overdue task"),
        query_param(
            "text",
            description="case number or a person's name (and the summary, for those who may "
            "see the reporter)",
        ),
        *PAGE,
    ],
)
def list_cases() -> Response:
    page, per_page, offset = page_args()
    search = casefile.CaseSearch(
        status=request.args.get("status"),
        assignee=request.args.get("assignee"),
        team=request.args.get("team"),
        overdue=_flag("overdue"),
        text=request.args.get("text"),
        offset=offset,
        limit=per_page,
    )
    items, total = casefile.list_cases(engine(), principal(), search)
    return ok(paged(items, total, page, per_page))


@api.operation(
    "get",
    "/cases/{case_id}",
    summary="A case file",
    tag="cases",
    response=s.CASE_FILE,
    errors=(404,),
)
def get_case(case_id: uuid.UUID) -> Response:
    return ok(casefile.case_file(engine(), principal(), case_id))


@api.operation(
    "get",
    "/cases/{case_id}/timeline",
    summary="Tasks, decisions, alerts, contacts and audit, in order",
    tag="cases",
    response={"type": "array", "items": s.TIMELINE_EVENT},
    errors=(404,),
)
def case_timeline(case_id: uuid.UUID) -> Response:
    return ok(casefile.timeline(engine(), principal(), case_id))


@api.operation(
    "get",
    "/cases/{case_id}/people",
    summary="The people of a case (reporter redacted by role)",
    tag="cases",
    response={"type": "array", "items": s.PERSON},
    errors=(404,),
)
def case_people(case_id: uuid.UUID) -> Response:
    return ok(casefile.people(engine(), principal(), case_id))


@api.operation(
    "get",
    "/cases/{case_id}/allegations",
    summary="Allegations, one per victim-perpetrator pair",
    tag="cases",
    response={"type": "array", "items": s.ALLEGATION},
    errors=(404,),
)
def case_allegations(case_id: uuid.UUID) -> Response:
    return ok(casefile.allegations(engine(), principal(), case_id))


@api.operation(
    "get",
    "/cases/{case_id}/contacts",
    summary="The contacts log",
    tag="cases",
    response={"type": "array", "items": s.CONTACT},
    errors=(404,),
)
def case_contacts(case_id: uuid.UUID) -> Response:
    return ok(casefile.contacts(engine(), principal(), case_id))


@api.operation(
    "post",
    "/cases/{case_id}/contacts",
    summary="Record a contact",
    tag="cases",
    body=casefile.CONTACT_SCHEMA,
    response=s.CONTACT,
    status=201,
    errors=(404, 422),
)
def add_contact(case_id: uuid.UUID) -> Response:
    return ok(casefile.record_contact(engine(), principal(), case_id, g.body), 201)


# -- documents ----------------------------------------------------------------------------

DOCUMENT_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "title", "category"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string", "maxLength": 300},
                    "category": {"type": "string", "description": "of the profile's list"},
                    "identifies_reporter": {"type": "boolean"},
                    "link_kind": {"enum": ["person", "allegation", "contact", "entry"]},
                    "link_id": {"type": "string", "format": "uuid"},
                },
            }
        }
    },
}


@api.operation(
    "get",
    "/cases/{case_id}/documents",
    summary="The case's documents (deleted ones as tombstones)",
    tag="cases",
    response={"type": "array", "items": s.DOCUMENT},
    errors=(404,),
)
def case_documents(case_id: uuid.UUID) -> Response:
    return ok(documents.documents_of(engine(), principal(), case_id))


@api.operation(
    "post",
    "/cases/{case_id}/documents",
    summary="Keep a document on the case (PDF, image or office file, checked by its bytes)",
    tag="cases",
    response=s.DOCUMENT,
    status=201,
    errors=(400, 404, 413),
    extra_request=DOCUMENT_UPLOAD,
)
def add_document(case_id: uuid.UUID) -> Response:
    limit = current_app.extensions["casework"].settings.max_document_bytes
    return ok(documents.upload(engine(), principal(), case_id, uploaded_document(), limit), 201)


@api.operation(
    "get",
    "/cases/{case_id}/documents/{document_id}/content",
    summary="Download a document (always as an attachment; the read is audited)",
    tag="cases",
    response={"type": "string"},
    content_type="application/octet-stream",
    errors=(404,),
)
def document_content(case_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    return download(*documents.content_of(engine(), principal(), case_id, document_id))


@api.operation(
    "post",
    "/cases/{case_id}/documents/{document_id}/deletion",
    summary="Delete a document's content (the supervision chain; a tombstone stays)",
    tag="cases",
    body=s.DOCUMENT_DELETION,
    response=s.DOCUMENT,
    errors=(403, 404, 409, 422),
)
def delete_document(case_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    reason = g.body["reason"]
    return ok(documents.delete(engine(), principal(), case_id, document_id, reason))


@api.operation(
    "get",
    "/cases/{case_id}/court-report",
    summary="The court report from the record, as PDF (?format=html: the printable page)",
    tag="cases",
    response={"type": "string"},
    content_type="application/pdf",
    query=[query_param("format", description="pdf (the default) or html", enum=["pdf", "html"])],
    errors=(404,),
)
def court_report(case_id: uuid.UUID) -> Response:
    html = court_reports.court_report_html(engine(), principal(), case_id)
    return report_response(html, request.args.get("format", "pdf"))


# -- referrals to partner agencies ---------------------------------------------------------


@api.operation(
    "get",
    "/providers",
    summary="The directory of partner agencies (those offering ?service=…)",
    tag="referrals",
    response={"type": "array", "items": s.PROVIDER},
    query=[query_param("service", description="a service code of the profile", maxLength=64)],
)
def list_providers() -> Response:
    return ok(referrals.providers(engine(), request.args.get("service") or None))


@api.operation(
    "post",
    "/providers",
    summary="Add a provider to the directory, or change one (administrators)",
    tag="referrals",
    body=s.PROVIDER_BODY,
    response=s.PROVIDER,
    errors=(403, 422),
)
def save_provider() -> Response:
    body = g.body
    new = referrals.NewProvider(
        id=body["id"],
        name=body["name"],
        services=body["services"],
        area=body.get("area", ""),
        contact=body.get("contact", ""),
        languages=tuple(body.get("languages", ["English"])),
        capacity=body.get("capacity"),
        active=body.get("active", True),
    )
    return ok(referrals.save_provider(engine(), principal(), new))


@api.operation(
    "get",
    "/cases/{case_id}/referrals",
    summary="The case's referrals and what became of each",
    tag="referrals",
    response={"type": "array", "items": s.REFERRAL},
    errors=(404,),
)
def case_referrals(case_id: uuid.UUID) -> Response:
    return ok(referrals.referrals_of(engine(), principal(), case_id))


@api.operation(
    "post",
    "/cases/{case_id}/referrals",
    summary="Refer a family member to a provider for a service it offers",
    tag="referrals",
    body=s.REFERRAL_BODY,
    response=s.REFERRAL,
    status=201,
    errors=(400, 404, 422),
)
def make_referral(case_id: uuid.UUID) -> Response:
    body = g.body
    new = referrals.NewReferral(
        body["person_id"], body["service"], body["provider_id"], body["reason"]
    )
    return ok(referrals.refer(engine(), principal(), case_id, new), 201)


@api.operation(
    "post",
    "/cases/{case_id}/referrals/{referral_id}/status",
    summary="What became of a referral (forward only: 409 for a status that goes back)",
    tag="referrals",
    body=s.REFERRAL_STATUS_BODY,
    response=s.REFERRAL,
    errors=(400, 404, 409, 422),
)
def move_referral(case_id: uuid.UUID, referral_id: uuid.UUID) -> Response:
    body = g.body
    on = date.fromisoformat(body["on"]) if body.get("on") else None
    moved = referrals.move(
        engine(), principal(), case_id, referral_id, body["status"], on, body.get("note", "")
    )
    return ok(moved)


@api.operation(
    "post",
    "/cases/{case_id}/worker",
    summary="Name the case's primary worker (its supervision chain); their open work moves with it",
    tag="cases",
    body=s.CASE_WORKER_BODY,
    response=s.CASE_WORKER,
    errors=(403, 404, 422),
)
def assign_case(case_id: uuid.UUID) -> Response:
    change = primary_worker.Reassignment(case_id, g.body["user_id"], g.body.get("reason", ""))
    return ok(primary_worker.assign_case(engine(), principal(), change))


@api.operation(
    "get",
    "/cases/{case_id}/history",
    summary="Prior history: earlier cases the case's people may be in, and why",
    tag="cases",
    response={"type": "array", "items": s.HISTORY},
    errors=(404,),
)
def case_history(case_id: uuid.UUID) -> Response:
    return ok(history.prior_history(engine(), principal(), case_id))


@api.operation(
    "post",
    "/cases/{case_id}/people/{person_id}/links",
    summary="Say a suggested match is (or is not) the same person",
    tag="cases",
    body=s.LINK_BODY,
    response=s.LINK,
    errors=(403, 404, 422),
)
def link_person(case_id: uuid.UUID, person_id: uuid.UUID) -> Response:
    other = _uuid_field(g.body, "other_person_id")
    change = history.Link(case_id, person_id, other, g.body["linked"])
    return ok(history.link(engine(), principal(), change))


def _uuid_field(body: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(body[name]))
    except ValueError:
        raise InvalidTaskData(
            "invalid body", [FieldError(f"/{name}", "must be a person's id", "format")]
        ) from None


@api.operation(
    "get",
    "/cases/{case_id}/record",
    summary="The case record: every recorded fact with its event and entry time, amendments "
    "and the original",
    tag="cases",
    response={"type": "array", "items": s.RECORD_ENTRY},
    errors=(404,),
)
def case_record(case_id: uuid.UUID) -> Response:
    return ok(casefile.record_of(engine(), principal(), case_id))


@api.operation(
    "post",
    "/cases/{case_id}/record/{entry_id}/amendments",
    summary="Amend a recorded fact (the original is kept; who, when and why are shown)",
    tag="cases",
    body=s.AMENDMENT_BODY,
    response=s.RECORD_ENTRY,
    status=201,
    errors=(403, 404, 409, 422),
)
def amend_entry(case_id: uuid.UUID, entry_id: uuid.UUID) -> Response:
    change = amendments.Amendment(case_id, entry_id, g.body["data"], g.body["reason"])
    return ok(amendments.amend(engine(), principal(), change), 201)


@api.operation(
    "get",
    "/cases/{case_id}/position",
    summary="Where each phase stands (for the diagram view)",
    tag="cases",
    response={"type": "array", "items": s.POSITION},
    errors=(404,),
)
def case_position(case_id: uuid.UUID) -> Response:
    return ok(casefile.position(engine(), principal(), case_id))


@api.operation(
    "get",
    "/cases/{case_id}/tasks",
    summary="All tasks of a case",
    tag="tasks",
    response={"type": "array", "items": s.TASK},
    errors=(404,),
)
def case_tasks(case_id: uuid.UUID) -> Response:
    return ok(worklists.case_tasks(engine(), principal(), case_id))


@api.operation(
    "post",
    "/cases/{case_id}/sensitivity",
    summary="Restrict a case to its assignees, supervisors and the security group, or lift the "
    "restriction (security group), with a stated reason",
    tag="cases",
    body=casefile.SENSITIVITY_SCHEMA,
    response=s.SENSITIVITY,
    errors=(403, 404, 409, 422),
)
def set_sensitivity(case_id: uuid.UUID) -> Response:
    return ok(casefile.set_sensitivity(engine(), principal(), case_id, g.body))


@api.operation(
    "post",
    "/emergency-access",
    summary="Break the glass: open a case that is not yours, in an emergency, with a stated "
    "reason and a time limit (audited; the case's supervisor and the security group are told "
    "the next morning)",
    tag="cases",
    body=emergency.REQUEST_SCHEMA,
    response=s.GRANT,
    status=201,
    errors=(403, 404, 409, 422),
)
def break_glass() -> Response:
    grant = emergency.break_glass(engine(), principal(), g.body, agency_zone())
    return ok(grant.as_dict(), 201)


@api.operation(
    "get",
    "/emergency-access",
    summary="My emergency access grants still running",
    tag="cases",
    response={"type": "array", "items": s.GRANT},
    errors=(403,),
)
def my_emergency_access() -> Response:
    return ok([grant.as_dict() for grant in emergency.my_grants(engine(), principal())])


# -- tasks ------------------------------------------------------------------------------------


@api.operation(
    "get",
    "/tasks",
    summary="Worklists, soonest due first",
    tag="tasks",
    response=paged_schema(s.TASK),
    errors=(403,),
    query=[
        query_param(
            "view", description="mine, queue, team, overdue or all", enum=list(worklists.VIEWS)
        ),
        query_param(
            "due_within", "integer", "only tasks due within this many days", minimum=0, maximum=3650
        ),
        query_param("case_id", description="only this case's tasks", format="uuid"),
        *PAGE,
    ],
)
def worklist() -> Response:
    page, per_page, offset = page_args()
    due_within = request.args.get("due_within")
    case_id = request.args.get("case_id")
    try:
        wanted = worklists.Worklist(
            view=request.args.get("view", "mine"),
            due_within_days=int(due_within) if due_within is not None else None,
            case_id=uuid.UUID(case_id) if case_id else None,
            offset=offset,
            limit=per_page,
        )
    except ValueError:
        raise InvalidTaskData(
            "invalid query",
            [FieldError("/", "due_within must be a number, case_id a UUID", "type")],
        ) from None
    if wanted.due_within_days is not None and not 0 <= wanted.due_within_days <= 3650:
        raise InvalidTaskData(
            "invalid query", [FieldError("/due_within", "must be between 0 and 3650", "range")]
        )
    items, total = worklists.worklist(engine(), principal(), wanted)
    return ok(paged(items, total, page, per_page))


@api.operation(
    "get",
    "/tasks/{task_id}",
    summary="A task with its form, data and deadline",
    tag="tasks",
    response=s.TASK_DETAIL,
    errors=(404,),
)
def get_task(task_id: uuid.UUID) -> Response:
    return _task_response(detail.task_detail(engine(), principal(), task_id))


@api.operation(
    "post",
    "/tasks/{task_id}/claim",
    summary="Take a task",
    tag="tasks",
    response=s.TASK,
    errors=(403, 404, 409),
)
def claim(task_id: uuid.UUID) -> Response:
    return _task_response(changes.claim(engine(), principal(), task_id, _if_match()))


@api.operation(
    "post",
    "/tasks/{task_id}/unclaim",
    summary="Give a task back to its queue",
    tag="tasks",
    response=s.TASK,
    errors=(403, 404, 409),
)
def unclaim(task_id: uuid.UUID) -> Response:
    return _task_response(changes.unclaim(engine(), principal(), task_id, _if_match()))


@api.operation(
    "post",
    "/tasks/{task_id}/assign",
    summary="Assign or reassign a task (supervisors)",
    tag="tasks",
    body=s.ASSIGN_BODY,
    response=s.TASK,
    errors=(403, 404, 409, 422),
)
def assign(task_id: uuid.UUID) -> Response:
    return _task_response(
        changes.assign(engine(), principal(), task_id, g.body["user_id"], _if_match())
    )


@api.operation(
    "post",
    "/tasks/{task_id}/comments",
    summary="Comment on a task",
    tag="tasks",
    body=s.COMMENT_BODY,
    response=s.TASK,
    status=201,
    errors=(404, 409, 422),
)
def comment(task_id: uuid.UUID) -> Response:
    return _task_response(changes.comment(engine(), principal(), task_id, g.body["text"]), 201)


@api.operation(
    "put",
    "/tasks/{task_id}/draft",
    summary="Save the form as a draft",
    tag="tasks",
    body=s.ANY_OBJECT,
    response=s.TASK,
    errors=(403, 404, 409, 422),
)
def save_draft(task_id: uuid.UUID) -> Response:
    return _task_response(changes.save_draft(engine(), principal(), task_id, g.body, _if_match()))


@api.operation(
    "post",
    "/tasks/{task_id}/complete",
    summary="Complete a task with its form data (If-Match: the task's version)",
    tag="tasks",
    body=s.ANY_OBJECT,
    response=s.TASK,
    errors=(403, 404, 409, 422),
)
def complete(task_id: uuid.UUID) -> Response:
    body = completion.complete(engine(), principal(), task_id, g.body, _if_match())
    metrics = current_app.extensions.get("casework_metrics")
    if metrics is not None:
        metrics.task_completed(body["process_id"])
    return _task_response(body)


# -- alerts and caseload -------------------------------------------------------------------------


@api.operation(
    "get",
    "/alerts",
    summary="My alerts, newest first",
    tag="alerts",
    response=paged_schema(s.ALERT),
    query=[query_param("open", "boolean", "only unacknowledged alerts"), *PAGE],
)
def alerts() -> Response:
    page, per_page, offset = page_args()
    items, total = alert_list.my_alerts(
        engine(), principal(), open_only=bool(_flag("open")), offset=offset, limit=per_page
    )
    return ok(paged(items, total, page, per_page))


@api.operation(
    "post",
    "/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert",
    tag="alerts",
    response=s.ALERT,
    errors=(404, 409),
)
def acknowledge(alert_id: uuid.UUID) -> Response:
    return ok(alert_list.acknowledge(engine(), principal(), alert_id))


@api.operation(
    "get",
    "/caseload",
    summary="Caseload per worker and the teams' timeliness measures",
    tag="alerts",
    response=s.CASELOAD,
    errors=(403,),
)
def caseload() -> Response:
    return ok(caseloads.caseload(engine(), principal()))


# -- definitions --------------------------------------------------------------------------------

UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                },
            }
        },
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
    },
}


@api.operation(
    "get",
    "/definitions",
    summary="Deployed versions",
    tag="definitions",
    response={"type": "array", "items": s.VERSION},
    errors=(403,),
)
def versions() -> Response:
    return ok(catalogue.definition_versions(engine(), principal()))


@api.operation(
    "get",
    "/definitions/{version_id}/files/{path}",
    summary="Download a file of a version",
    tag="definitions",
    response={"type": "string"},
    content_type="application/octet-stream",
    errors=(403, 404),
)
def version_file(version_id: int, path: str) -> Response:
    content = catalogue.definition_file(engine(), principal(), version_id, path)
    mimetype = "application/json" if path.endswith(".json") else "application/xml"
    return Response(content, mimetype=mimetype)


@api.operation(
    "post",
    "/definitions/validate",
    summary="Check an upload; nothing is deployed",
    tag="definitions",
    response=s.VALIDATION,
    errors=(403,),
    extra_request=UPLOAD,
)
def validate_upload() -> Response:
    try:
        bundle = bundle_from_files(uploaded_files())
    except InvalidDefinition as exc:  # an upload that is not a bundle at all
        return ok({"valid": False, "problems": [p.as_dict() for p in exc.problems]})
    return ok(review(engine(), principal(), bundle))


@api.operation(
    "post",
    "/definitions",
    summary="Deploy an upload as a new version (422 and nothing deployed on any problem)",
    tag="definitions",
    response=s.DEPLOYED,
    status=201,
    errors=(403, 422),
    extra_request=UPLOAD,
)
def deploy() -> Response:
    who = principal()
    deployment = deploy_bundle(engine(), who.actor, bundle_from_files(uploaded_files()))
    body = {
        "version": deployment.version_id,
        "content_hash": deployment.content_hash,
        "processes": deployment.process_ids,
        "created": deployment.created,
        "reactivated": deployment.reactivated,
    }
    return ok(body, 201 if deployment.created else 200)


@api.operation(
    "post",
    "/definitions/{version_id}/activate",
    summary="Make an earlier version the current one again (a rollback): new cases and phases "
    "start on it, running ones stay on theirs",
    tag="definitions",
    response=s.ACTIVATED,
    errors=(403, 404),
)
def activate(version_id: int) -> Response:
    return ok(activate_version(engine(), principal(), version_id))


@api.operation(
    "post",
    "/definitions/migrations",
    summary="Move running instances to another version, each whole or not at all (or, with "
    "dry_run, say what would move); 422 when any cannot move",
    tag="definitions",
    body=s.MIGRATION,
    response={"type": "array", "items": s.MIGRATED},
    errors=(403, 404, 409, 422),
)
def migrate_running() -> Response:
    body = g.body
    asked = Migration(
        from_version=body["from_version"],
        to_version=body["to_version"],
        process_id=body.get("process_id"),
        renamed=body.get("renamed", {}),
        dry_run=body.get("dry_run", False),
    )
    moved = migrate(engine(), principal(), asked)
    return ok(moved, 200 if all(m["moves"] for m in moved) else 422)


# -- messages and audit --------------------------------------------------------------------------


@api.operation(
    "post",
    "/messages/{name}",
    summary="Deliver a message to the instance of a case awaiting it",
    tag="messages",
    body=s.MESSAGE_BODY,
    response=s.MESSAGE_RESULT,
    errors=(403, 404, 409, 422),
)
def send_message(name: str) -> Response:
    body = g.body
    result = messages.send_message(
        engine(),
        principal(),
        name,
        case_id=uuid.UUID(body["case_id"]) if "case_id" in body else None,
        case_number=body.get("case_number"),
        payload=body.get("payload"),
    )
    return ok(result)


@api.operation(
    "post",
    "/processes/{process_id}/instances",
    summary="Start a deployed process on a case: a plain start for the roles of its lanes, a "
    "message start for the roles its message names",
    tag="messages",
    body=s.START_BODY,
    response=s.STARTED,
    status=201,
    errors=(403, 404, 409, 422),
)
def start_process(process_id: str) -> Response:
    body = g.body
    started = starts.start_by_hand(
        engine(), principal(), uuid.UUID(body["case_id"]), process_id, body.get("data")
    )
    return ok(started, 201)


def _instant_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidTaskData(
            "invalid query",
            [FieldError(f"/{name}", "must be an ISO 8601 instant with a zone", "format")],
        )
    return value


@api.operation(
    "get",
    "/audit",
    summary="The audit log (auditors)",
    tag="audit",
    response=paged_schema(s.AUDIT_EVENT),
    errors=(403,),
    query=[
        query_param("case_id", format="uuid"),
        query_param("actor"),
        query_param("action"),
        query_param("since", format="date-time"),
        query_param("until", format="date-time"),
        *PAGE,
    ],
)
def audit_log() -> Response:
    page, per_page, offset = page_args()
    case_id = request.args.get("case_id")
    try:
        case = uuid.UUID(case_id) if case_id else None
    except ValueError:
        raise InvalidTaskData(
            "invalid query", [FieldError("/case_id", "must be a UUID", "format")]
        ) from None
    search = audit_trail.AuditSearch(
        case_id=case,
        actor=request.args.get("actor"),
        action=request.args.get("action"),
        since=_instant_arg("since"),
        until=_instant_arg("until"),
        offset=offset,
        limit=per_page,
    )
    items, total = audit_trail.audit_log(engine(), principal(), search)
    return ok(paged(items, total, page, per_page))
