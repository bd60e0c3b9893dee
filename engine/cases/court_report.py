"""The court report: what a caseworker takes to a hearing, built from the case record as the
reader may see it (the reporter redacted unless they may see them) and rendered from the
jurisdiction's own template (``reports/*.html`` in the bundle, named by the profile's
``data.court_report``), in a sandbox. Generating one is audited, whoever reads it.

The report is HTML here; the workflows layer prints it to PDF."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import TemplateError
from sqlalchemy import select

from engine.cases import casefile, documents, jurisdictions
from engine.context import EngineContext
from engine.deadlines.profiles import setting
from engine.errors import NotFound, ScriptFailed
from engine.identity.users import Principal
from engine.spiff.definitions import report_templates
from engine.spiff.watchdog import BudgetExceeded, cpu_budget
from engine.storage.tables import HumanTask, ProcessInstance, RecordEntry
from engine.storage.uow import UnitOfWork
from engine.tasks.form_schemas import files_court_report

# What one report may take: a five-year case renders in a fraction of either.
REPORT_CPU_SECONDS = 10
MAX_REPORT_CHARACTERS = 20_000_000

# The record's sections, in the order a court reads them.
ASSESSMENTS = ("safety_assessment", "safety_plan", "risk_assessment", "reunification")
CHRONOLOGY = ("initiation", "contact", "interview", "visit", "medical", "removal", "placement")
SERVICES = ("service_plan", "services", "service_progress", "case_plan", "transition_plan")
PERMANENCY = ("permanency_goal",)
COURT = ("court",)


def court_report_html(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> str:
    return court_report(ctx, principal, case_id)[0]


def court_report(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> tuple[str, bool]:
    """The report's HTML, and whether it names the reporter (the reader may see them): a
    copy kept on the case is then marked so, and only who may see the reporter sees it."""
    html, names_reporter, _zone = _rendered(ctx, principal, case_id)
    return html, names_reporter


def keep(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID, entry_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """The report as the record makes it now, printed and kept on the case as a document
    (concerning ``entry_id``, the report task's entry, if given): what went to court stays as
    it was, whatever is amended later."""
    if ctx.printer is None:
        raise NotFound("this installation does not print court reports")
    html, names_reporter, zone = _rendered(ctx, principal, case_id)
    when = ctx.clock.now().astimezone(zone).date().isoformat()
    report = documents.NewDocument(
        filename=f"court-report-{when}.pdf",
        declared_type="application/pdf",
        content=ctx.printer(html),
        title=f"Court report, {when}",
        category="court_report",
        identifies_reporter=names_reporter,
        link_kind="entry" if entry_id else None,
        link_id=str(entry_id) if entry_id else None,
    )
    return documents.upload(ctx, principal, case_id, report)


def file_for_task(
    ctx: EngineContext, principal: Principal, task: HumanTask
) -> dict[str, Any] | None:
    """After a task is done: if its form says so (``x-casework-court-report``), the report,
    with the recommendation just recorded, kept on the case and concerning that entry."""
    if ctx.printer is None:
        return None
    with ctx.db.reader() as session:
        instance = session.get(ProcessInstance, task.instance_id)
        assert instance is not None
        form = ctx.definitions.compiled(session, instance.version_id).form(task.bpmn_id)
        if not files_court_report(form):
            return None
        entry_id = session.scalar(
            select(RecordEntry.id).where(
                RecordEntry.task_id == task.id, RecordEntry.amends_id.is_(None)
            )
        )
    return keep(ctx, principal, task.case_id, entry_id)


def _rendered(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID
) -> tuple[str, bool, ZoneInfo]:
    view = casefile.report_view(ctx, principal, case_id)
    template, zone = _template(ctx, view["case"]["profile_id"])
    context = _context(view, zone, principal, ctx.clock.now())
    html = _filled(template, context)
    with UnitOfWork(ctx.db.writer) as uow:
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="court_report.generated",
            case_id=case_id,
            redacted=view["redacted"],
        )
        uow.commit()
    return html, not view["redacted"], zone


def _filled(template: str, context: dict[str, Any]) -> str:
    """The template rendered in its sandbox, within a CPU budget and a size: a designer's loop
    that never ends, or writes without end, stops with a reason and changes nothing."""
    parts: list[str] = []
    size = 0
    try:
        with cpu_budget(REPORT_CPU_SECONDS):
            for chunk in report_templates().from_string(template).generate(**context):
                size += len(chunk)
                if size > MAX_REPORT_CHARACTERS:
                    raise ScriptFailed(
                        f"the court report's template wrote more than {MAX_REPORT_CHARACTERS:,} "
                        "characters and was stopped"
                    )
                parts.append(chunk)
    except BudgetExceeded:
        raise ScriptFailed(
            f"the court report's template used more than {REPORT_CPU_SECONDS} s of CPU and was "
            "stopped",
            reason="timeout",
        ) from None
    except TemplateError as exc:  # a sandbox refusal included
        raise ScriptFailed(f"the court report's template failed: {exc}") from exc
    except MemoryError:
        raise ScriptFailed("the court report's template built a value too large") from None
    return "".join(parts)


def _template(ctx: EngineContext, profile_id: str) -> tuple[str, ZoneInfo]:
    with ctx.db.reader() as session:
        compiled = jurisdictions.bundle_of(ctx, session, profile_id)
    profile = compiled.profile(profile_id) if compiled is not None else None
    named = setting(profile, "court_report", None)
    if compiled is None or profile is None or named not in compiled.reports:
        raise NotFound(f"the {profile_id} jurisdiction has no court report template")
    return compiled.reports[named], profile.calendar.zone


def _context(
    view: dict[str, Any], zone: ZoneInfo, principal: Principal, now: datetime
) -> dict[str, Any]:
    case = view["case"]
    record = case["record"]
    names = {p["id"]: p["name"] for p in case["people"]}

    def kinds(wanted: tuple[str, ...]) -> list[dict[str, Any]]:
        return [e for e in record if e["kind"] in wanted]

    chronology = sorted(
        [
            {
                "at": c["occurred_at"],
                "title": f"{c['type'].replace('_', ' ').capitalize()}"
                + (" (attempt)" if c.get("attempted_only") else ""),
                "where": c["location"].replace("_", " "),
                "text": c["narrative"],
                "late": False,
                "facts": [],
            }
            for c in view["contacts"]
        ]
        + [
            {
                "at": e["occurred_at"],
                "title": e["title"] + (f" — {e['subject']}" if e.get("subject") else ""),
                "where": "",
                "text": "",
                "late": e["late_entry"],
                "facts": e["facts"],
            }
            for e in kinds(CHRONOLOGY)
        ],
        key=lambda item: str(item["at"]),
    )
    return {
        "case": case,
        "children": [p for p in case["people"] if p["role"] == "child"],
        "people": [p for p in case["people"] if p["role"] != "child"],
        "findings": kinds(("finding",)),
        "assessments": kinds(ASSESSMENTS),
        "chronology": chronology,
        # Each child's placements, with the child's name (two children may share one).
        "placements": [
            {"child": names.get(child, "a child"), "stays": stays}
            for child, stays in case["placements"].items()
        ],
        "services": kinds(SERVICES),
        "referrals": view["referrals"],
        "permanency": kinds(PERMANENCY),
        "court": kinds(COURT),
        "recommendation": next((e for e in reversed(record) if e["kind"] == "court_report"), None),
        # The whole record, and its entries of the kinds a jurisdiction's template names
        # (entries_of("strategy_discussion", "conference")), in the record's order.
        "record": record,
        "entries_of": lambda *wanted: kinds(tuple(wanted)),
        "documents": [d for d in view["shelf"]["documents"] if not d["deleted"]],
        "categories": view["shelf"]["categories"],
        "prepared_by": principal.display_name,
        "prepared_at": now,
        "redacted": view["redacted"],
        # How the template writes times and dates: in the jurisdiction's zone.
        "local": lambda value: _local(value, zone, "%a %d %b %Y %H:%M"),
        "day": lambda value: _local(value, zone, "%d %b %Y"),
    }


def _local(value: Any, zone: ZoneInfo, layout: str) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    elif isinstance(value, date):
        return value.strftime("%d %b %Y")
    else:
        return ""
    if moment.tzinfo is None:
        return moment.strftime("%d %b %Y")
    return moment.astimezone(zone).strftime(layout)
