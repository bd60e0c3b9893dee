"""Who may call each route of the app, API and pages alike: one table, enforced before any
view runs, and complete — the app refuses to start with a route the table does not decide,
and the access matrix test runs every entry against every role and kind of case.

The table decides the door: signed in or not, and which roles. What lies behind it is the
engine's record-level rule (``engine.identity.access``), named here by ``record`` so that readers of
the table (and the matrix test) know which one applies: a case someone may not read answers
"not found" whatever their role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import Flask, abort, g, request

from engine.errors import Forbidden
from engine.identity import emergency
from engine.identity.roles import INTAKE_ROLES, SUPERVISING_ROLES
from workflows.http.problems import Unauthorized


class Record(StrEnum):
    """The record-level rule behind a route."""

    NONE = "none"  # no case data: the agency's set-up, the caller's own things, public files
    LIST = "list"  # lists only what the caller may read (engine.identity.access.visible_cases)
    CASE = "case"  # one case the caller may read; any other answers 404
    TASK = "task"  # a task of a case the caller may read; changes need the lane's role, or
    # the assignee or supervisor (release) or the case's supervisor (assign)
    ALERT = "alert"  # the caller's own alert, on a case they may still read
    MESSAGE = "message"  # a case the caller may read, and a message its diagram lets them send


@dataclass(frozen=True)
class Access:
    """``roles`` None: anyone signed in. ``public``: no sign-in at all (the route guards
    itself, as signed webhooks and the sign-in page do, or shows nothing private)."""

    roles: frozenset[str] | None = None
    record: Record = Record.NONE
    public: bool = False

    def admits(self, roles: frozenset[str]) -> bool:
        return self.public or self.roles is None or bool(self.roles & roles)


def roles(*names: str | frozenset[str]) -> frozenset[str]:
    found: set[str] = set()
    for name in names:
        found |= {name} if isinstance(name, str) else set(name)
    return frozenset(found)


PUBLIC = Access(public=True)
SIGNED_IN = Access()
ADMIN = Access(roles("administrator"))
DESIGN = Access(roles("process_designer", "administrator"))
AUDIT = Access(roles("auditor"))
# DOMAIN §5's "history view": screeners, investigators, ongoing workers and the supervision
# chain see earlier cases' summaries; attorneys and others do not.
HISTORY_VIEW = Access(
    roles(INTAKE_ROLES, SUPERVISING_ROLES, "investigator", "ongoing_caseworker"), Record.CASE
)
# Saying two people of different cases are one: intake staff, and the case's supervisors.
LINKS_PEOPLE = Access(roles(INTAKE_ROLES, SUPERVISING_ROLES), Record.CASE)
OVERSIGHT = Access(roles(SUPERVISING_ROLES))
# Deployed definitions are read by those who design them and those who explain them.
DEFINITIONS = Access(roles("process_designer", "administrator", "supervisor", "program_director"))
FILE_REPORTS = Access(roles(INTAKE_ROLES))
CASE = Access(record=Record.CASE)
TASK = Access(record=Record.TASK)
# Opening a case that is not one's own, in an emergency: people who work cases.
BREAK_GLASS = Access(emergency.MAY_BREAK_GLASS)

ACCESS: dict[str, Access] = {
    # -- public: the route guards itself or shows nothing private ------------------------------
    "health.healthz": PUBLIC,
    "openapi_document": PUBLIC,
    "static": PUBLIC,
    "web.static": PUBLIC,
    "vendor": PUBLIC,
    "web.sign_in": PUBLIC,
    "web.sign_out": PUBLIC,
    "metrics_view": PUBLIC,  # its own setting: loopback or the metrics token by default
    "webhooks_api.receive": PUBLIC,  # signed by the source's own secret
    # -- the API --------------------------------------------------------------------------------
    "api.me": SIGNED_IN,
    "api.my_settings": SIGNED_IN,
    "api.change_my_settings": SIGNED_IN,
    "api.new_calendar_feed": SIGNED_IN,
    "api.revoke_calendar_feed": SIGNED_IN,
    "api.calendar_feed": PUBLIC,  # the feed's own token: a phone's calendar has no session
    "api.file_intake": FILE_REPORTS,
    "api.list_cases": Access(record=Record.LIST),
    "api.get_case": CASE,
    "api.case_timeline": CASE,
    "api.case_people": CASE,
    "api.case_allegations": CASE,
    "api.case_contacts": CASE,
    "api.case_documents": CASE,
    "api.list_providers": SIGNED_IN,
    "api.save_provider": ADMIN,
    "api.case_referrals": CASE,
    "api.make_referral": CASE,
    "api.move_referral": CASE,
    "api.add_document": CASE,
    "api.document_content": CASE,
    "api.court_report": CASE,
    "api.delete_document": CASE,  # the case's supervision chain (403 for others)
    "api.case_record": CASE,
    "api.case_history": HISTORY_VIEW,
    "api.link_person": LINKS_PEOPLE,
    "api.assign_case": Access(roles(SUPERVISING_ROLES), Record.CASE),
    # The engine lets only who entered an entry, or the case's supervision chain, amend it.
    "api.amend_entry": CASE,
    "api.add_contact": CASE,
    "api.case_position": CASE,
    "api.case_tasks": CASE,
    "api.set_sensitivity": CASE,
    "api.break_glass": BREAK_GLASS,
    "api.my_emergency_access": BREAK_GLASS,
    "api.worklist": Access(record=Record.LIST),
    "api.get_task": TASK,
    "api.claim": TASK,
    "api.unclaim": TASK,
    "api.assign": Access(roles(SUPERVISING_ROLES), Record.TASK),
    "api.comment": TASK,
    "api.save_draft": TASK,
    "api.complete": TASK,
    "api.alerts": Access(record=Record.LIST),
    "api.acknowledge": Access(record=Record.ALERT),
    "api.caseload": OVERSIGHT,
    "api.versions": DEFINITIONS,
    "api.version_file": DEFINITIONS,
    "api.validate_upload": DESIGN,
    "api.deploy": DESIGN,
    "api.activate": DESIGN,
    "api.migrate_running": DESIGN,
    "api.send_message": Access(record=Record.MESSAGE),
    "api.start_process": Access(record=Record.MESSAGE),
    "api.audit_log": AUDIT,
    "webhooks_api.list_subscriptions": ADMIN,
    "webhooks_api.subscribe": ADMIN,
    "webhooks_api.subscription": ADMIN,
    "webhooks_api.change_subscription": ADMIN,
    "webhooks_api.rotate_subscription_secret": ADMIN,
    "webhooks_api.deliveries": ADMIN,
    "webhooks_api.replay_dead": ADMIN,
    "webhooks_api.replay_delivery": ADMIN,
    "webhooks_api.list_sources": ADMIN,
    "webhooks_api.create_source": ADMIN,
    "webhooks_api.change_source": ADMIN,
    "webhooks_api.received": ADMIN,
    # -- pages ----------------------------------------------------------------------------------
    "web.home": SIGNED_IN,
    "web.my_settings": SIGNED_IN,
    "web.save_my_settings": SIGNED_IN,
    "web.new_calendar_feed": SIGNED_IN,
    "web.revoke_calendar_feed": SIGNED_IN,
    "web.inbox": Access(record=Record.LIST),
    "web.acknowledge_alert": Access(record=Record.ALERT),
    "web.task_page": TASK,
    "web.task_action": TASK,
    "web.autosave_draft": TASK,
    "web.assign_task": Access(roles(SUPERVISING_ROLES), Record.TASK),
    "web.assign_tasks": Access(roles(SUPERVISING_ROLES), Record.TASK),
    "web.new_intake": FILE_REPORTS,
    "web.file_intake": FILE_REPORTS,
    "web.cases": Access(record=Record.LIST),
    "web.case_page": CASE,
    "web.add_contact": CASE,
    "web.add_document": CASE,
    "web.make_referral": CASE,
    "web.move_referral": CASE,
    "web.document_download": CASE,
    "web.court_report": CASE,
    "web.keep_court_report": CASE,
    "web.delete_document": CASE,  # the case's supervision chain (403 for others)
    "web.amend_entry_page": CASE,
    "web.link_person": LINKS_PEOPLE,
    "web.start_process": Access(record=Record.MESSAGE),
    "web.assign_case": Access(roles(SUPERVISING_ROLES), Record.CASE),
    "web.amend_entry": CASE,
    "web.phase_diagram": CASE,
    "web.set_sensitivity": CASE,
    "web.break_glass": BREAK_GLASS,
    "web.dashboard": OVERSIGHT,
    "web.designer": DESIGN,
    "web.upload_bundle": DESIGN,
    "web.edit_file": DESIGN,
    "web.raw_file": DESIGN,
    "web.check_edit": DESIGN,
    "web.deploy_edit": DESIGN,
    "web.activate_version": DESIGN,
    "web.check_expression": DESIGN,
    "web.preview_form": DESIGN,
    "web.migrate_instances": DESIGN,
    "web.admin": ADMIN,
    "web.add_user": ADMIN,
    "web.add_team": ADMIN,
    "web.save_provider": ADMIN,
    "web.new_token": ADMIN,
    "web.revoke": ADMIN,
    "web.add_subscription": ADMIN,
    "web.subscription_log": ADMIN,
    "web.replay_dead": ADMIN,
    "web.retry": ADMIN,
    "web.audit": AUDIT,
}


def undecided(app: Flask) -> list[str]:
    """The app's routes the table says nothing of."""
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(ACCESS))


def register(app: Flask) -> None:
    """Enforce the table before every view (after the caller is identified). A route without
    an entry stops the app from starting: nobody ships one without deciding who may call it."""
    missing = undecided(app)
    if missing:
        raise RuntimeError(f"routes without an entry in the access table: {', '.join(missing)}")

    @app.before_request
    def enforce_access_table() -> None:
        access = ACCESS.get(request.endpoint or "")
        if access is None or access.public:
            return  # no such route (404 follows), or one that guards itself
        principal = g.get("principal")
        page = request.blueprint == "web"
        if principal is None:
            if page:
                abort(401)  # the pages send the visitor to sign in, and back
            raise Unauthorized("sign in or send a bearer token")
        if not access.admits(principal.roles):
            raise Forbidden(f"this needs one of the roles {', '.join(sorted(access.roles or []))}")
