"""The access matrix, generated from the app's own route table: every route (API and pages)
must have an entry in ``workflows.access_table`` and a probe here, and every probe runs as
every person of the agency (and as nobody) against every kind of case.

For each answer it checks:

- allowed or refused as the table and the record-level rules say (404 for a case one may not
  see, 403 for a role one does not hold, 401 / the sign-in page without credentials);
- the reporter's name and telephone number appear in no body of a person who may not see
  them (drafts, comments and contact notes that mention them included);
- an answer that shows the sensitive case leaves an audit entry on it.

The cases are made through the real process: reports filed and screened (a child fatality
makes one sensitive), tasks assigned by supervisors, one report screened out, one case closed.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from engine.storage import step_writes
from engine.storage.tables import (
    Alert,
    AlertRecipient,
    AuditEvent,
    Case,
    CasePerson,
    Document,
    ProcessInstance,
    Provider,
    RecordEntry,
    Referral,
)
from engine.storage.uow import UnitOfWork
from http_support import PEOPLE, RECORD_REPORT, Agency, hotline_report, password_of
from sign_in_form import csrf_token_in, give_password, submit_sign_in
from workflows.access_table import ACCESS, Access, Record

KINDS = ("own", "team", "foreign", "sensitive", "intake", "screened_out", "closed")
USERS = [person[0] for person in PEOPLE]
ROLES = {user: frozenset(roles) for user, roles, *_ in PEOPLE}
REPORTER = ("Rita Reporter", "555-0100")
SEES_REPORTER = {
    u
    for u, r in ROLES.items()
    if r & {"intake_screener", "intake_supervisor", "supervisor", "program_director"}
}

# Which kinds of case each person may read (DOMAIN §5, as engine.identity.access states it):
# own: north, ivy's; team: north, ian's; foreign: south, zed's; sensitive: north, ian's, a
# child fatality; intake: north, not yet screened; screened_out: north; closed: north, cal's.
NORTH_CHAIN = {"own", "team", "sensitive", "intake", "closed"}
READS: dict[str, set[str]] = {
    "sam": {"intake", "screened_out"},  # intake staff: the desk's queue and its history
    "sid": {"intake", "screened_out"},
    "sue": NORTH_CHAIN | {"screened_out"},  # north's supervisor (and intake supervisor)
    "ivy": {"own"},
    "ian": {"team", "sensitive"},
    "cal": {"closed"},
    "amy": set(),
    "zed": {"foreign"},
    "sol": {"foreign"},  # south's supervisor
    "pat": NORTH_CHAIN,  # program director of north's unit
    "sec": {"sensitive"},  # an investigator of south in the security group
    "dana": set(),
    "alex": set(),
    "olga": set(),
}
SUPERVISES = {
    "sue": NORTH_CHAIN | {"screened_out"},
    "pat": NORTH_CHAIN | {"screened_out"},
    "sol": {"foreign"},
}
MESSAGE_SENDERS = frozenset({"attorney", "supervisor"})  # court_tmc_order's, in its diagram
# Who may start a placement change by hand: the senders its start message names.
STARTERS = frozenset({"ongoing_caseworker", "supervisor"})
CONTACT = {
    "occurred_at": "2025-03-03T16:00:00+00:00",
    "type": "phone",
    "location": "office",
    "narrative": "called the school",
}
CONTACT_FORM = {
    "occurred_at": "2025-03-03T10:00",
    "type": "phone",
    "location": "office",
    "narrative": "called the school",
}
# A reason, and a form with nothing in it: who may amend gets 422 (409 for the report as
# filed), nothing changes.
AMENDMENT = {"data": {}, "reason": "a probe that changes nothing"}
STALE = {"If-Match": '"0"'}  # a change by someone allowed then stops at 409: nothing changes


@dataclass
class World:
    cases: dict[str, uuid.UUID] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, uuid.UUID] = field(default_factory=dict)
    task_roles: dict[str, str] = field(default_factory=dict)
    task_assignees: dict[str, str | None] = field(default_factory=dict)
    instances: dict[str, uuid.UUID] = field(default_factory=dict)
    alerts: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    entries: dict[str, uuid.UUID] = field(default_factory=dict)  # each entered by sam
    documents: dict[str, uuid.UUID] = field(default_factory=dict)  # one kept on each case
    doomed: dict[str, uuid.UUID] = field(default_factory=dict)  # another, for deletion
    referrals: dict[str, uuid.UUID] = field(default_factory=dict)  # a child's, on each case
    people: dict[str, uuid.UUID] = field(default_factory=dict)  # a child of each case


# -- the probes: how to call each route --------------------------------------------------------

Path = str | Callable[[World, str], str]


@dataclass(frozen=True)
class Probe:
    method: str
    path: Path
    json: Any = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # A made-up id: someone allowed may get 404 (no such subscription), never 401 or 403.
    may_miss: bool = False


def case(suffix: str = "") -> Path:
    return lambda w, kind: f"/api/v1/cases/{w.cases[kind]}{suffix}"


def task(suffix: str = "") -> Path:
    return lambda w, kind: f"/api/v1/tasks/{w.tasks[kind]}{suffix}"


def page(template: str) -> Path:
    return lambda w, kind: template.format(
        case=w.cases[kind],
        task=w.tasks[kind],
        instance=w.instances[kind],
        alert=w.alerts[kind][0] if kind in w.alerts else "",
        entry=w.entries[kind],
        person=w.people[kind],
        document=w.documents[kind],
        doomed=w.doomed[kind],
        referral=w.referrals[kind],
    )


NOWHERE = "00000000-0000-4000-8000-000000000000"
PROBES: dict[str, Probe] = {
    "health.healthz": Probe("GET", "/healthz"),
    "openapi_document": Probe("GET", "/api/openapi.json"),
    "static": Probe("GET", "/static/nothing.css", may_miss=True),
    "web.static": Probe("GET", "/assets/app.css"),
    "vendor": Probe("GET", "/vendor/bpmn-js/dist/bpmn-viewer.production.min.js"),
    "web.sign_in": Probe("GET", "/sign-in"),
    "web.sign_out": Probe("POST", "/sign-out", form={}),
    "metrics_view": Probe("GET", "/metrics"),
    "webhooks_api.receive": Probe(
        "POST", "/api/v1/inbound/nowhere", json={"type": "x"}, may_miss=True
    ),
    "api.me": Probe("GET", "/api/v1/me"),
    "api.my_settings": Probe("GET", "/api/v1/me/settings"),
    "api.change_my_settings": Probe("PATCH", "/api/v1/me/settings", json={}),
    "api.new_calendar_feed": Probe("POST", "/api/v1/me/calendar-feed"),
    "api.revoke_calendar_feed": Probe("DELETE", "/api/v1/me/calendar-feed"),
    "api.calendar_feed": Probe("GET", "/api/v1/me/calendar.ics?token=nothing", may_miss=True),
    "api.file_intake": Probe("POST", "/api/v1/intakes", json={}),
    "api.list_cases": Probe("GET", "/api/v1/cases?per_page=200"),
    "api.get_case": Probe("GET", case()),
    "api.case_timeline": Probe("GET", case("/timeline")),
    "api.case_documents": Probe("GET", case("/documents")),
    "api.list_providers": Probe("GET", "/api/v1/providers"),
    "api.save_provider": Probe(
        "POST", "/api/v1/providers", json={"id": "x", "name": "X", "services": ["nothing"]}
    ),
    "api.case_referrals": Probe("GET", case("/referrals")),
    "api.make_referral": Probe(
        "POST",
        case("/referrals"),
        json={
            "person_id": NOWHERE,
            "service": "housing",
            "provider_id": "none",
            "reason": "the family needs housing",
        },
    ),
    "api.move_referral": Probe(
        "POST",
        page("/api/v1/cases/{case}/referrals/{referral}/status"),
        json={"status": "accepted"},
    ),
    "api.court_report": Probe("GET", case("/court-report?format=html")),
    "api.add_document": Probe("POST", case("/documents"), form={}),
    "api.document_content": Probe("GET", page("/api/v1/cases/{case}/documents/{document}/content")),
    "api.delete_document": Probe(
        "POST",
        page("/api/v1/cases/{case}/documents/{doomed}/deletion"),
        json={"reason": "kept on the wrong case by mistake"},
    ),
    "api.case_people": Probe("GET", case("/people")),
    "api.case_allegations": Probe("GET", case("/allegations")),
    "api.case_contacts": Probe("GET", case("/contacts")),
    "api.add_contact": Probe("POST", case("/contacts"), json=CONTACT),
    "api.case_record": Probe("GET", case("/record")),
    "api.case_history": Probe("GET", case("/history")),
    # A link to nobody: who may link gets 404 (no such person here) or 422, nothing changes.
    "api.link_person": Probe(
        "POST",
        page("/api/v1/cases/{case}/people/{person}/links"),
        json={"other_person_id": NOWHERE, "linked": True},
    ),
    "api.assign_case": Probe("POST", case("/worker"), json={"user_id": "nobody"}),
    "api.amend_entry": Probe(
        "POST", page("/api/v1/cases/{case}/record/{entry}/amendments"), json=AMENDMENT
    ),
    "api.case_position": Probe("GET", case("/position")),
    "api.case_tasks": Probe("GET", case("/tasks")),
    "api.set_sensitivity": Probe("POST", case("/sensitivity"), json={}),  # see Caller.call
    "api.break_glass": Probe("POST", "/api/v1/emergency-access", json={}),
    "api.my_emergency_access": Probe("GET", "/api/v1/emergency-access"),
    "api.worklist": Probe("GET", "/api/v1/tasks?view=all&per_page=200"),
    "api.get_task": Probe("GET", task()),
    "api.claim": Probe("POST", task("/claim"), headers=STALE),
    "api.unclaim": Probe("POST", task("/unclaim"), headers=STALE),
    "api.assign": Probe("POST", task("/assign"), json={"user_id": "ivy"}, headers=STALE),
    "api.comment": Probe("POST", task("/comments"), json={"text": "the school called back"}),
    "api.save_draft": Probe("PUT", task("/draft"), json={}, headers=STALE),
    "api.complete": Probe("POST", task("/complete"), json={}, headers=STALE),
    "api.alerts": Probe("GET", "/api/v1/alerts?per_page=200"),
    "api.acknowledge": Probe("POST", page("/api/v1/alerts/{alert}/acknowledge")),
    "api.caseload": Probe("GET", "/api/v1/caseload"),
    "api.versions": Probe("GET", "/api/v1/definitions"),
    "api.version_file": Probe("GET", "/api/v1/definitions/1/files/intake.bpmn"),
    "api.validate_upload": Probe("POST", "/api/v1/definitions/validate", form={}),
    "api.deploy": Probe("POST", "/api/v1/definitions", form={}),
    "api.activate": Probe("POST", "/api/v1/definitions/1/activate"),
    "api.migrate_running": Probe(
        "POST", "/api/v1/definitions/migrations", json={"from_version": 1, "to_version": 1}
    ),
    "api.send_message": Probe("POST", "/api/v1/messages/court_tmc_order", json=None),
    "api.start_process": Probe("POST", "/api/v1/processes/placement_change/instances", json=None),
    "api.audit_log": Probe("GET", "/api/v1/audit?per_page=5"),
    "webhooks_api.list_subscriptions": Probe("GET", "/api/v1/webhooks/subscriptions"),
    "webhooks_api.subscribe": Probe("POST", "/api/v1/webhooks/subscriptions", json={}),
    "webhooks_api.subscription": Probe(
        "GET", f"/api/v1/webhooks/subscriptions/{NOWHERE}", may_miss=True
    ),
    "webhooks_api.change_subscription": Probe(
        "PATCH", f"/api/v1/webhooks/subscriptions/{NOWHERE}", json={}, may_miss=True
    ),
    "webhooks_api.rotate_subscription_secret": Probe(
        "POST",
        f"/api/v1/webhooks/subscriptions/{NOWHERE}/rotate-secret",
        json={},
        may_miss=True,
    ),
    "webhooks_api.deliveries": Probe(
        "GET", f"/api/v1/webhooks/subscriptions/{NOWHERE}/deliveries", may_miss=True
    ),
    "webhooks_api.replay_dead": Probe(
        "POST", f"/api/v1/webhooks/subscriptions/{NOWHERE}/replay-dead", may_miss=True
    ),
    "webhooks_api.replay_delivery": Probe(
        "POST", "/api/v1/webhooks/deliveries/999999/replay", may_miss=True
    ),
    "webhooks_api.list_sources": Probe("GET", "/api/v1/inbound-sources"),
    "webhooks_api.create_source": Probe("POST", "/api/v1/inbound-sources", json={}),
    "webhooks_api.change_source": Probe(
        "PATCH", "/api/v1/inbound-sources/nowhere", json={}, may_miss=True
    ),
    "webhooks_api.received": Probe("GET", "/api/v1/inbound-sources/nowhere/events", may_miss=True),
    "web.home": Probe("GET", "/"),
    "web.my_settings": Probe("GET", "/me"),
    "web.save_my_settings": Probe("POST", "/me", form={"email": ""}),
    "web.new_calendar_feed": Probe("POST", "/me/calendar-feed", form={}),
    "web.revoke_calendar_feed": Probe("POST", "/me/calendar-feed/revoke", form={}),
    "web.inbox": Probe("GET", "/work"),
    "web.acknowledge_alert": Probe("POST", page("/alerts/{alert}/acknowledge"), form={}),
    "web.task_page": Probe("GET", page("/tasks/{task}")),
    "web.task_action": Probe(
        "POST", page("/tasks/{task}"), form={"action": "complete", "version": "0"}
    ),
    "web.autosave_draft": Probe("POST", page("/tasks/{task}/draft"), form={"version": "0"}),
    "web.assign_task": Probe(
        "POST", page("/tasks/{task}/assign"), form={"user_id": "ivy", "version": "0"}
    ),
    "web.assign_tasks": Probe("POST", "/team/assign", form={"task": "{task}:0", "user_id": "ivy"}),
    "web.new_intake": Probe("GET", "/intakes/new"),
    "web.file_intake": Probe("POST", "/intakes", form={}),
    "web.cases": Probe("GET", "/cases"),
    "web.case_page": Probe("GET", page("/cases/{case}")),
    "web.add_contact": Probe("POST", page("/cases/{case}/contacts"), form=CONTACT_FORM),
    "web.add_document": Probe("POST", page("/cases/{case}/documents"), form={"title": "x"}),
    "web.make_referral": Probe("POST", page("/cases/{case}/referrals"), form={}),
    "web.move_referral": Probe(
        "POST", page("/cases/{case}/referrals/{referral}/status"), form={"status": "accepted"}
    ),
    "web.document_download": Probe("GET", page("/cases/{case}/documents/{document}")),
    "web.court_report": Probe("GET", page("/cases/{case}/court-report?format=html")),
    "web.keep_court_report": Probe("POST", page("/cases/{case}/court-report"), form={}),
    "web.delete_document": Probe(
        "POST", page("/cases/{case}/documents/{document}/delete"), form={"reason": "short"}
    ),
    "web.set_sensitivity": Probe("POST", page("/cases/{case}/sensitivity"), form={}),
    "web.amend_entry_page": Probe("GET", page("/cases/{case}/record/{entry}/amend")),
    "web.start_process": Probe("POST", page("/cases/{case}/start/court_tmc_order"), form={}),
    "web.link_person": Probe(
        "POST",
        page("/cases/{case}/people/{person}/links"),
        form={"other_person_id": NOWHERE, "linked": "true"},
    ),
    "web.assign_case": Probe("POST", page("/cases/{case}/worker"), form={"user_id": "nobody"}),
    "web.amend_entry": Probe("POST", page("/cases/{case}/record/{entry}/amend"), form={}),
    "web.phase_diagram": Probe("GET", page("/cases/{case}/phases/{instance}/diagram.bpmn")),
    "web.break_glass": Probe("POST", "/cases/emergency-access", form={}),
    "web.dashboard": Probe("GET", "/team"),
    "web.designer": Probe("GET", "/designer"),
    "web.upload_bundle": Probe("POST", "/designer/upload", form={"action": "check"}),
    "web.edit_file": Probe("GET", "/designer/versions/1/edit/intake.bpmn"),
    "web.raw_file": Probe("GET", "/designer/versions/1/files/intake.bpmn"),
    "web.check_edit": Probe("POST", "/designer/versions/1/check", form={}),
    "web.deploy_edit": Probe("POST", "/designer/versions/1/deploy", form={}),
    "web.activate_version": Probe("POST", "/designer/versions/1/activate", form={}),
    "web.migrate_instances": Probe(
        "POST", "/designer/migrate", form={"from_version": "1", "to_version": "1"}
    ),
    "web.check_expression": Probe(
        "POST", "/designer/check-expression", json={"kind": "expression", "source": "1"}
    ),
    "web.preview_form": Probe("POST", "/designer/preview-form", json={"content": "{}"}),
    "web.admin": Probe("GET", "/admin"),
    "web.add_user": Probe("POST", "/admin/users", form={}),
    "web.add_team": Probe("POST", "/admin/teams", form={}),
    "web.save_provider": Probe("POST", "/admin/providers", form={}),
    "web.new_token": Probe("POST", "/admin/users/nobody/tokens", form={}, may_miss=True),
    "web.revoke": Probe("POST", "/admin/users/nobody/tokens/revoke", form={}),
    "web.add_subscription": Probe("POST", "/admin/subscriptions", form={}),
    "web.subscription_log": Probe("GET", f"/admin/subscriptions/{NOWHERE}", may_miss=True),
    "web.replay_dead": Probe(
        "POST", f"/admin/subscriptions/{NOWHERE}/replay-dead", form={}, may_miss=True
    ),
    "web.retry": Probe("POST", f"/admin/incidents/{NOWHERE}/retry", form={}, may_miss=True),
    "web.audit": Probe("GET", "/audit"),
}
# Changes to a task that need more than reading its case.
NEEDS_LANE = {
    "api.claim",
    "api.save_draft",
    "web.autosave_draft",
    "api.complete",
    "web.task_action",
}
NEEDS_ASSIGNEE_OR_SUPERVISOR = {"api.unclaim"}
NEEDS_SUPERVISOR = {
    "api.assign",
    "web.assign_task",
    "web.assign_tasks",
    "api.assign_case",
    "api.delete_document",
    "web.delete_document",
    "web.assign_case",
}
LINKS = {"api.link_person", "web.link_person"}  # intake staff, the case's supervision chain
RESTRICTS = {"api.set_sensitivity", "web.set_sensitivity"}
AMENDS = {
    "api.amend_entry",
    "web.amend_entry",
    "web.amend_entry_page",
}  # who entered; the chain  # the chain, the security group
DONE = {"screened_out", "closed"}  # their task is completed, or cancelled with the case


# -- what the rules say ------------------------------------------------------------------------


def expected(endpoint: str, access: Access, user: str | None, kind: str | None, w: World) -> str:
    """allowed, forbidden (403), hidden (404) or signed_out (401 / the sign-in page)."""
    if access.public:
        return "allowed"
    if user is None:
        return "signed_out"
    if not access.admits(ROLES[user]):
        return "forbidden"
    if kind is None:
        return "allowed"
    readable = kind in READS[user]
    if endpoint == "api.complete" and kind in DONE and w.task_roles[kind] in ROLES[user]:
        return "allowed"  # 409: the lane learns its task was done, nothing of the case
    if access.record is Record.ALERT:
        return "allowed" if readable and w.alerts[kind][1] == user else "hidden"
    if not readable:
        return "hidden"
    senders = STARTERS if endpoint == "api.start_process" else MESSAGE_SENDERS
    if access.record is Record.MESSAGE and not ROLES[user] & senders:
        return "forbidden"
    if endpoint in NEEDS_LANE and w.task_roles[kind] not in ROLES[user]:
        return "forbidden"
    if endpoint in NEEDS_ASSIGNEE_OR_SUPERVISOR and not (
        w.task_assignees[kind] == user or kind in SUPERVISES.get(user, set())
    ):
        return "forbidden"
    if endpoint in NEEDS_SUPERVISOR and kind not in SUPERVISES.get(user, set()):
        return "forbidden"
    if endpoint in LINKS and not (
        ROLES[user] & {"intake_screener", "intake_supervisor"}
        or kind in SUPERVISES.get(user, set())
    ):
        return "forbidden"
    if endpoint in AMENDS and not (user == "sam" or kind in SUPERVISES.get(user, set())):
        return "forbidden"
    # The probe asks for what the case already is: restricting the sensitive one, lifting the
    # others' (none), so that an allowed caller gets 409 or 422 and nothing changes.
    restricting = kind == "sensitive"
    if endpoint in RESTRICTS and not (
        user == "sec" or (restricting and kind in SUPERVISES.get(user, set()))
    ):
        return "forbidden"
    return "allowed"


def outcome(endpoint: str, status: int, location: str, probe: Probe) -> str:
    page = endpoint.startswith("web.")
    if status == 401 or (page and status == 302 and "/sign-in" in location):
        return "signed_out"
    if status == 403:
        return "forbidden"
    if status == 404 and not probe.may_miss:
        return "hidden"
    if status >= 500:
        return f"error {status}"
    return "allowed"


# -- the agency and its cases --------------------------------------------------------------------


def _file(agency: Agency, **report: Any) -> tuple[uuid.UUID, uuid.UUID]:
    filed = agency.post("sam", "/api/v1/intakes", hotline_report(**report))
    assert filed.status_code == 201, filed.json
    case_id = filed.json["id"]
    [intake] = agency.get("sam", f"/api/v1/tasks?view=queue&case_id={case_id}").json["items"]
    return uuid.UUID(case_id), uuid.UUID(intake["id"])


def _screen(agency: Agency, intake: uuid.UUID, **screening: Any) -> None:
    report = {**RECORD_REPORT, "screening": {**RECORD_REPORT["screening"], **screening}}
    done = agency.post("sam", f"/api/v1/tasks/{intake}/complete", report)
    assert done.status_code == 200, done.json


def _first_contact(agency: Agency, case_id: uuid.UUID, supervisor: str, worker: str) -> uuid.UUID:
    """The supervisor names the case's worker: the first contact (and the case) are theirs."""
    named = agency.post(supervisor, f"/api/v1/cases/{case_id}/worker", {"user_id": worker})
    assert named.status_code == 200, named.json
    [contact] = [
        t
        for t in agency.get(supervisor, f"/api/v1/cases/{case_id}/tasks").json
        if t["element_id"] == "first_contact"
    ]
    assert contact["assignee"] == worker
    return uuid.UUID(contact["id"])


def build_world(agency: Agency) -> World:
    w = World()
    for kind, team, supervisor, worker in (
        ("own", "north", "sue", "ivy"),
        ("team", "north", "sue", "ian"),
        ("foreign", "south", "sol", "zed"),
        ("sensitive", "north", "sue", "ian"),
        ("closed", "north", "sue", "ivy"),
    ):
        case_id, intake = _file(agency, team=team)
        _screen(agency, intake, child_fatality=kind == "sensitive")
        w.cases[kind] = case_id
        w.tasks[kind] = _first_contact(agency, case_id, supervisor, worker)
        w.task_roles[kind] = "investigator"
        w.task_assignees[kind] = worker

    w.cases["intake"], w.tasks["intake"] = _file(agency)
    w.task_roles["intake"], w.task_assignees["intake"] = "intake_screener", None

    adult = [{"name": "Eli", "birth_date": "2005-07-01"}]
    w.cases["screened_out"], w.tasks["screened_out"] = _file(agency, children=adult)
    _screen(agency, w.tasks["screened_out"])
    [approval] = agency.get(
        "sue", f"/api/v1/tasks?view=queue&case_id={w.cases['screened_out']}"
    ).json["items"]
    approved = agency.post(
        "sue",
        f"/api/v1/tasks/{approval['id']}/complete",
        {"approved": True, "screen_in_instead": False, "review_notes": "adult"},
    )
    assert approved.status_code == 200, approved.json
    w.task_roles["screened_out"], w.task_assignees["screened_out"] = "intake_screener", "sam"

    _close(agency, w.cases["closed"], worker="cal")
    _plant_the_reporters_name(agency, w)
    with agency.ctx.db.writer() as session:
        for kind, case_id in w.cases.items():
            case_row = session.get_one(Case, case_id)
            w.numbers[kind] = case_row.case_number
            w.instances[kind] = session.scalars(
                select(ProcessInstance.id).where(ProcessInstance.case_id == case_id)
            ).first()
            w.people[kind] = session.scalars(
                select(CasePerson.id).where(
                    CasePerson.case_id == case_id, CasePerson.role == "child"
                )
            ).first()
            # The screener's report (or, before it is recorded, the report as filed).
            w.entries[kind] = session.scalars(
                select(RecordEntry.id)
                .where(RecordEntry.case_id == case_id, RecordEntry.entered_by == "sam")
                .order_by(RecordEntry.element_id.is_(None), RecordEntry.entered_at.desc())
            ).first()
            w.documents[kind] = _document(session, case_id)
            w.doomed[kind] = _document(session, case_id)
            w.referrals[kind] = _referral(session, case_id, w.people[kind])
        # An alert for each case's worker (ivy's on the closed case, no longer hers to read).
        for kind in ("own", "team", "foreign", "sensitive", "closed"):
            recipient = w.task_assignees[kind] or ""
            w.alerts[kind] = (_alert(agency, session, w.cases[kind], recipient), recipient)
        session.commit()
    assert agency.get("sam", f"/api/v1/cases/{w.cases['sensitive']}").status_code == 404
    assert agency.get("sec", f"/api/v1/cases/{w.cases['sensitive']}").json["sensitive"] is True
    return w


def _close(agency: Agency, case_id: uuid.UUID, worker: str) -> None:
    """The case closed as the closure process ends one: its phases ended, then its worker
    recorded as the ongoing caseworker who closed it."""
    now = agency.ctx.clock.now()
    with UnitOfWork(agency.ctx.db.writer) as uow:
        running = uow.session.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.case_id == case_id, ProcessInstance.status == "active"
            )
        ).all()
        for instance_id in running:
            step_writes.cancel_instance(uow, instance_id, now)
        uow.session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(status="closed", closed_at=now, assigned_to=worker)
        )
        uow.commit()


def _plant_the_reporters_name(agency: Agency, w: World) -> None:
    """Free text that names the reporter, where redaction must find it: a draft, a comment
    and a contact note on ivy's case, and the screener's draft of an open intake."""
    name, phone = REPORTER
    own = w.tasks["own"]
    assert (
        agency.put(
            "ivy",
            f"/api/v1/tasks/{own}/draft",
            {"notes": f"{name} says the bruises were seen at daycare"},
        ).status_code
        == 200
    )
    assert (
        agency.post(
            "ivy", f"/api/v1/tasks/{own}/comments", {"text": f"{name} called again from {phone}"}
        ).status_code
        == 201
    )
    note = {**CONTACT, "narrative": f"spoke with {name.upper()} about the report"}
    assert agency.post("ivy", f"/api/v1/cases/{w.cases['own']}/contacts", note).status_code == 201
    draft = {"reporter": {"name": name, "contact": phone}, "narrative": f"{name} phoned"}
    assert agency.put("sam", f"/api/v1/tasks/{w.tasks['intake']}/draft", draft).status_code == 200


def _document(session: Any, case_id: uuid.UUID) -> uuid.UUID:
    content = b"%PDF-1.4\n%a medical report\n%%EOF\n"
    row = Document(
        id=uuid.uuid4(),
        case_id=case_id,
        title="Medical report",
        category="medical",
        filename="medical.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        identifies_reporter=False,
        uploaded_by="sue",
        uploaded_at=datetime.now(UTC),
    )
    session.add(row)
    return row.id


def _referral(session: Any, case_id: uuid.UUID, child: uuid.UUID) -> uuid.UUID:
    if session.get(Provider, "shelter") is None:
        session.add(Provider(id="shelter", name="Shelter", services=["housing"], area="",
                             contact="", languages=["English"], active=True))  # fmt: skip
        session.flush()
    row = Referral(
        id=uuid.uuid4(),
        case_id=case_id,
        person_id=child,
        service="housing",
        provider_id="shelter",
        reason="the family needs housing",
        status="sent",
        sent_at=datetime.now(UTC),
        status_on=datetime.now(UTC).date(),
        history=[],
        made_by="sue",
    )
    session.add(row)
    return row.id


def _alert(agency: Agency, session: Any, case_id: uuid.UUID, recipient: str) -> uuid.UUID:
    alert = Alert(
        id=uuid.uuid4(),
        kind="overdue",
        case_id=case_id,
        message="First contact overdue",
        raised_at=agency.ctx.clock.now(),
    )
    session.add(alert)
    session.flush()
    session.add(AlertRecipient(alert_id=alert.id, role="assignee", user_id=recipient))
    return alert.id


# -- calling as each person --------------------------------------------------------------------


class Caller:
    """One person's two ways in: their API token, and a signed-in browser session."""

    def __init__(self, agency: Agency, user: str | None) -> None:
        self.agency = agency
        self.user = user
        self.browser: FlaskClient = agency.app.test_client()
        self.csrf = ""
        if user is not None:
            give_password(agency.ctx, user)
            signed = submit_sign_in(self.browser, user, password_of(user))
            assert signed.status_code == 302, (user, signed.status_code)
            self.csrf = csrf_token_in(self.browser.get("/sign-in").get_data(as_text=True))

    def call(self, endpoint: str, probe: Probe, w: World, kind: str | None) -> Any:
        path = probe.path(w, kind or "") if callable(probe.path) else probe.path
        json = probe.json
        if endpoint == "api.send_message":
            json = {"case_id": str(w.cases[kind or ""]), "payload": {"order_date": "2025-03-10"}}
        if endpoint == "api.start_process":
            # Data the case itself gives: refused (422) once access is granted, so that the
            # probe starts nothing that would change who may see the case.
            json = {"case_id": str(w.cases[kind or ""]), "data": {"case_id": "x"}}
        as_it_is = "true" if kind == "sensitive" else "false"
        if endpoint == "api.set_sensitivity":
            json = {"sensitive": kind == "sensitive", "reason": "as the case already is"}
        if endpoint.startswith("web.") or endpoint in ("vendor", "static", "metrics_view"):
            if endpoint == "web.sign_out":
                client = self.agency.app.test_client()  # sign out a throwaway session
                return client.post(path, data={"csrf_token": "x"})
            form = None
            if probe.form is not None:  # a form may name the task ("{task}")
                named = {
                    k: v.format(task=w.tasks.get(kind or "", "")) for k, v in probe.form.items()
                }
                form = {**named, "csrf_token": self.csrf}
            if endpoint == "web.set_sensitivity":
                form = {"sensitive": as_it_is, "reason": "", "csrf_token": self.csrf}
            return self.browser.open(path, method=probe.method, data=form)
        headers = dict(probe.headers)
        if self.user is not None:
            headers["Authorization"] = f"Bearer {self.agency.tokens[self.user]}"
        if probe.form is not None:
            return self.agency.client.open(path, method=probe.method, headers=headers, data={})
        return self.agency.client.open(path, method=probe.method, headers=headers, json=json)


def _audit_rows(agency: Agency, case_id: uuid.UUID) -> int:
    """Entries on the case, and looks at the audit trail (which name the sensitive cases they
    showed in their details, not as their case: see audit_log.audit_log)."""
    with agency.ctx.db.reader() as session:
        on_case = select(func.count()).where(AuditEvent.case_id == case_id)
        trail_reads = select(func.count()).where(AuditEvent.action == "audit.read")
        return (session.scalar(on_case) or 0) + (session.scalar(trail_reads) or 0)


def test_every_route_has_an_access_rule_and_a_probe(agency: Agency) -> None:
    routes = {rule.endpoint for rule in agency.app.url_map.iter_rules()}

    assert routes - set(ACCESS) == set(), "routes the access table does not decide"
    assert routes - set(PROBES) == set(), "routes this matrix does not probe"
    assert set(ACCESS) - routes == set(), "entries of the access table for no route"


def test_every_route_as_every_person_on_every_kind_of_case(agency: Agency) -> None:
    w = build_world(agency)
    callers = {user: Caller(agency, user) for user in [*USERS, None]}
    sensitive = w.cases["sensitive"]
    shows_sensitive = re.compile(f"{w.numbers['sensitive']}|{sensitive}")
    wrong: list[str] = []
    calls = 0
    for endpoint, access in sorted(ACCESS.items()):
        probe = PROBES[endpoint]
        on_cases = access.record in (Record.CASE, Record.TASK, Record.MESSAGE, Record.ALERT)
        kinds: list[str | None] = list(KINDS) if on_cases else [None]
        if access.record is Record.ALERT:
            kinds = [k for k in KINDS if k in w.alerts]
        for kind in kinds:
            for user, caller in callers.items():
                before = _audit_rows(agency, sensitive)
                answer = caller.call(endpoint, probe, w, kind)
                calls += 1
                got = outcome(
                    endpoint, answer.status_code, answer.headers.get("Location", ""), probe
                )
                want = expected(endpoint, access, user, kind, w)
                where = f"{endpoint} as {user} on {kind}"
                if got != want:
                    wrong.append(f"{where}: {want}, got {got} ({answer.status_code})")
                body = answer.get_data(as_text=True)
                answer.close()  # a file sent (a stylesheet) is closed with its answer
                if user not in SEES_REPORTER and any(r.lower() in body.lower() for r in REPORTER):
                    wrong.append(f"{where}: the reporter shows in the answer")
                if 200 <= answer.status_code < 300 and shows_sensitive.search(body):
                    if _audit_rows(agency, sensitive) == before:
                        wrong.append(f"{where}: showed the sensitive case, left no audit entry")
    print(f"access matrix: {len(ACCESS)} routes, {calls} calls")
    assert wrong == [], "\n".join(wrong)
