"""The case as its readers see it: hotline intakes, the case list and case file, people,
allegations, the contacts log, the timeline and where each phase stands on its diagram.

Every read goes through the access rules; reading a sensitive case and every write are audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from engine.cases import documents, jurisdictions, record, redaction, referrals
from engine.cases.facts import value_in_words
from engine.cases.opening import OpenedCase, open_case
from engine.cases.placements import placements_by_child
from engine.cases.reads import audit_listed, reading_case
from engine.cases.redaction import REDACTED, SHOWS_ALL, Redactor
from engine.context import EngineContext
from engine.deadlines.profiles import Profile, setting
from engine.errors import Conflict, FieldError, Forbidden, InvalidTaskData
from engine.identity.access import readable_case, supervises, visible_cases
from engine.identity.roles import INTAKE_ROLES
from engine.identity.users import Principal
from engine.instances import compacted, stored
from engine.statuses import InstanceStatus, TaskStatus, TimerStatus
from engine.storage.tables import (
    Alert,
    Allegation,
    AuditEvent,
    Case,
    CasePerson,
    Contact,
    Deadline,
    HumanTask,
    ProcessInstance,
    RecordEntry,
    Team,
    Timer,
)
from engine.storage.uow import UnitOfWork
from engine.tasks.form_schemas import field_errors
from engine.tasks.worklists import case_task_rows

T = TypeVar("T")

PERSON: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 300},
        "birth_date": {"type": "string", "format": "date"},
        "sex": {"type": "string", "maxLength": 20},
        "address": {"type": "string", "maxLength": 500},
        "relationship": {"type": "string", "maxLength": 100},
        "notes": {"type": "string", "maxLength": 4000},
    },
}
INTAKE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["children", "allegations"],
    "additionalProperties": False,
    "properties": {
        "team": {"type": "string", "maxLength": 100},
        "county": {"type": "string", "maxLength": 100},
        "summary": {"type": "string", "maxLength": 4000},
        "profile_id": {"type": "string", "maxLength": 64},
        "reporter": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "maxLength": 300},
                "contact": {"type": "string", "maxLength": 300},
                "relationship": {"type": "string", "maxLength": 100},
                "mandated": {"type": "boolean"},
                "anonymous": {"type": "boolean"},
            },
        },
        "children": {"type": "array", "minItems": 1, "maxItems": 30, "items": PERSON},
        "caregivers": {"type": "array", "maxItems": 30, "items": PERSON},
        "alleged_perpetrators": {"type": "array", "maxItems": 30, "items": PERSON},
        "allegations": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["victim", "type"],
                "additionalProperties": False,
                "properties": {
                    "victim": {"type": "integer", "minimum": 0, "description": "index in children"},
                    "perpetrator": {
                        "type": ["integer", "null"],
                        "minimum": 0,
                        "description": "index in alleged_perpetrators; null when unknown",
                    },
                    "type": {"type": "string", "minLength": 1, "maxLength": 32},
                    "narrative": {"type": "string", "maxLength": 8000},
                    "incident_date": {"type": "string", "format": "date"},
                    "severity": {"type": "string", "maxLength": 32},
                },
            },
        },
    },
}
CONTACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["occurred_at", "type", "location", "narrative"],
    "additionalProperties": False,
    "properties": {
        "occurred_at": {"type": "string", "format": "date-time"},
        "type": {"enum": ["face_to_face", "phone", "video", "collateral", "attempt", "letter"]},
        "location": {"enum": ["child_residence", "school", "office", "hospital", "court", "other"]},
        "participants": {
            "type": "array",
            "maxItems": 50,
            "items": {"type": "string", "maxLength": 300},
        },
        "narrative": {"type": "string", "minLength": 1, "maxLength": 8000},
        "attempted_only": {"type": "boolean"},
    },
}


def _validate(schema: dict[str, Any], data: Any, what: str) -> None:
    errors = field_errors(schema, data)
    if errors:
        raise InvalidTaskData(f"the {what} is not valid", errors)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise InvalidTaskData("the time needs a time zone", [])
    return value


# -- intake -------------------------------------------------------------------------------


def intake_choices(ctx: EngineContext) -> dict[str, Any]:
    """What a hotline report may name: the agency's teams, the jurisdictions deployed, and the
    allegation types those profiles name (code → title, from each profile's
    ``data.maltreatment_types``)."""
    with ctx.db.reader() as session:
        # Each by its id, with the name people know it by.
        teams = dict(session.execute(select(Team.id, Team.name).order_by(Team.id)).all())
        profiles = jurisdictions.deployed(ctx, session)
    types: dict[str, str] = {}
    for profile_id in sorted(profiles):
        types.update(profiles[profile_id].data.get("maltreatment_types", {}))
    names = {profile_id: profiles[profile_id].name for profile_id in sorted(profiles)}
    return {"teams": teams, "profiles": names, "maltreatment_types": types}


def file_intake(ctx: EngineContext, principal: Principal, data: dict[str, Any]) -> OpenedCase:
    """A hotline report: open the case with its people and allegations and start intake."""
    if not principal.roles & INTAKE_ROLES:
        raise Forbidden("filing a report needs an intake role")
    _validate(INTAKE_SCHEMA, data, "report")
    people: list[dict[str, Any]] = []
    children = data["children"]
    perpetrators = data.get("alleged_perpetrators", [])

    def person(ref: str, role: str, raw: dict[str, Any]) -> dict[str, Any]:
        details = {k: v for k, v in raw.items() if k not in ("name", "birth_date")}
        entry = {"ref": ref, "role": role, "name": raw["name"], "details": details}
        if raw.get("birth_date"):
            entry["birth_date"] = raw["birth_date"]
        return entry

    people += [person(f"child{i}", "child", c) for i, c in enumerate(children)]
    people += [
        person(f"caregiver{i}", "caregiver", c) for i, c in enumerate(data.get("caregivers", []))
    ]
    people += [person(f"ap{i}", "alleged_perpetrator", p) for i, p in enumerate(perpetrators)]
    reporter = data.get("reporter") or {}
    if reporter:
        details = {k: v for k, v in reporter.items() if k != "name"}
        people.append(
            {
                "ref": "reporter",
                "role": "reporter",
                "name": reporter.get("name"),
                "details": details,
            }
        )
    with ctx.db.reader() as session:
        profile_id, version_id, process_id = jurisdictions.intake(
            ctx, session, data.get("profile_id")
        )
        # The allegation types the report's jurisdiction names (none named: any).
        profile = jurisdictions.profile_of(ctx, session, profile_id)
        kinds = setting(profile, "maltreatment_types", {})
    allegations = []
    problems = []
    for i, item in enumerate(data["allegations"]):
        if kinds and item["type"] not in kinds:
            problems.append((f"/allegations/{i}/type", f"is not one of {', '.join(kinds)}", "enum"))
            continue
        if item["victim"] >= len(children):
            problems.append((f"/allegations/{i}/victim", "names no child of the report", "ref"))
            continue
        perpetrator = item.get("perpetrator")
        if perpetrator is not None and perpetrator >= len(perpetrators):
            problems.append(
                (f"/allegations/{i}/perpetrator", "names no alleged perpetrator", "ref")
            )
            continue
        allegations.append(
            {
                "victim": f"child{item['victim']}",
                "perpetrator": f"ap{perpetrator}" if perpetrator is not None else None,
                "type": item["type"],
                **{k: item[k] for k in ("narrative", "incident_date", "severity") if k in item},
            }
        )
    if problems:
        raise InvalidTaskData(
            "the report is not valid", [FieldError(f, m, code) for f, m, code in problems]
        )
    case = {
        "profile_id": profile_id,
        "summary": data.get("summary", ""),
        "people": [{k: v for k, v in p.items() if v is not None} for p in people],
        "allegations": allegations,
    }
    if data.get("team"):
        case["team"] = data["team"]
    return open_case(
        ctx,
        principal.acting_as("intake_screener"),
        case,
        start_process=process_id,
        start_data=_filed_report(ctx, data, profile),
        filed=data,
        version_id=version_id,
    )


def _filed_report(
    ctx: EngineContext, data: dict[str, Any], profile: Profile | None
) -> dict[str, Any]:
    """What *Record hotline report* starts filled with, so nothing is typed twice: the county,
    the reporter, the narratives and received time of the report just filed, and the
    indicators its allegations tick (the profile's ``report_indicators``: allegation type →
    indicator)."""
    ticks = setting(profile, "report_indicators", {})
    narratives = [data.get("summary", "")] + [
        a.get("narrative", "") for a in data["allegations"] if a.get("narrative")
    ]
    report: dict[str, Any] = {
        "received_at": ctx.clock.now().isoformat(),
        "narrative": "\n\n".join(n for n in narratives if n),
        "indicators": {ticks[a["type"]]: True for a in data["allegations"] if a["type"] in ticks},
    }
    if data.get("county"):
        report["county"] = data["county"]
    if data.get("reporter"):
        report["reporter"] = dict(data["reporter"])
    return {k: v for k, v in report.items() if v not in ("", {})}


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRead:
    """One reader's read of one case: what every part of the case file is built from."""

    ctx: EngineContext
    principal: Principal
    session: Session
    case: Case
    redactor: Redactor


def _read(
    ctx: EngineContext,
    principal: Principal,
    case_id: uuid.UUID,
    what: str,
    build: Callable[[CaseRead], T],
) -> T:
    """One read of a case: the access check, the building, the reporter redacted for this
    reader, and (for a sensitive case) one audit entry naming what was read."""
    with reading_case(ctx, principal, case_id, what) as (session, case):
        redactor = redaction.for_case(session, principal, case.id)
        return build(CaseRead(ctx, principal, session, case, redactor))


def case_page(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    """Everything the case page shows, read (and audited) once: the case file, its tasks,
    contacts, timeline and where each phase stands."""

    def build(read: CaseRead) -> dict[str, Any]:
        return {
            "case": _case_file(read),
            "tasks": case_task_rows(read.session, read.case, read.ctx.clock.now()),
            "contacts": _contacts(read),
            "timeline": _timeline(read),
            "positions": _position(read),
            "may_restrict": may_set_sensitivity(read.session, read.principal, read.case),
            # Entries are amended by who entered them, or by the case's supervision chain.
            "may_amend_any": supervises(read.session, read.principal, read.case),
            "shelf": documents.on_shelf(read.ctx, read.session, read.principal, read.case),
            "referrals": referrals.on_case(read.ctx, read.session, read.case, read.redactor),
        }

    return _read(ctx, principal, case_id, "case page", build)


def report_view(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    """What a court report is made from, read once as this reader may see it."""

    def build(read: CaseRead) -> dict[str, Any]:
        return {
            "case": _case_file(read),
            "contacts": _contacts(read),
            "shelf": documents.on_shelf(read.ctx, read.session, read.principal, read.case),
            "referrals": referrals.on_case(read.ctx, read.session, read.case, read.redactor),
            "redacted": read.redactor.hides,
        }

    return _read(ctx, principal, case_id, "court report", build)


def case_summary(
    session: Session, case: Case, now: datetime, redactor: Redactor = SHOWS_ALL
) -> dict[str, Any]:
    open_tasks = select(func.count()).where(
        HumanTask.case_id == case.id, HumanTask.status == TaskStatus.READY
    )
    overdue = open_tasks.where(or_(HumanTask.due_at < now, HumanTask.overdue_since.is_not(None)))
    children = select(func.count()).where(CasePerson.case_id == case.id, CasePerson.role == "child")
    return {
        "id": str(case.id),
        "case_number": case.case_number,
        "status": case.status,
        "profile_id": case.profile_id,
        "summary": redactor.text(case.summary),
        "sensitive": case.sensitive,
        "team": case.team,
        "assigned_to": case.assigned_to,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        # Soft-expunged: out of public and background-check use, kept here for risk history.
        "expunged_at": case.expunged_at.isoformat() if case.expunged_at else None,
        "children": session.scalar(children),
        "open_tasks": session.scalar(open_tasks),
        "overdue_tasks": session.scalar(overdue),
    }


@dataclass(frozen=True)
class CaseSearch:
    """Which of the cases one may see a list shows, and which page of them."""

    status: str | None = None
    assignee: str | None = None
    team: str | None = None
    overdue: bool | None = None
    text: str | None = None
    offset: int = 0
    limit: int = 50


def list_cases(
    ctx: EngineContext, principal: Principal, search: CaseSearch
) -> tuple[list[dict[str, Any]], int]:
    now = ctx.clock.now()
    query = select(Case).where(visible_cases(principal))
    if search.status:
        query = query.where(Case.status == search.status)
    if search.assignee:
        query = query.where(Case.assigned_to == search.assignee)
    if search.team:
        query = query.where(Case.team == search.team)
    if search.overdue:
        query = query.where(
            select(HumanTask.id)
            .where(
                HumanTask.case_id == Case.id,
                HumanTask.status == TaskStatus.READY,
                or_(HumanTask.due_at < now, HumanTask.overdue_since.is_not(None)),
            )
            .exists()
        )
    if search.text:
        query = query.where(_mentions(principal, search.text))
    with ctx.db.reader() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(Case.opened_at.desc(), Case.id).offset(search.offset).limit(search.limit)
        ).all()
        redactors = redaction.for_cases(session, principal, [c.id for c in rows])
        items = [case_summary(session, c, now, redactors[c.id]) for c in rows]
    audit_listed(ctx, principal, [(c.id, c.sensitive) for c in rows], "case list")
    return items, total


def _mentions(principal: Principal, text: str) -> ColumnElement[bool]:
    """Cases whose number, a person's name (never the reporter's) or, for those who may see
    the reporter, whose summary holds the text. The summary is free text that may name the
    reporter: searched by anyone else, a match would tell them what the page redacts."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    people = select(CasePerson.id).where(
        CasePerson.case_id == Case.id,
        CasePerson.role != "reporter",
        # ILIKE, not lower() LIKE: on PostgreSQL it reads the names' trigram index.
        CasePerson.name.ilike(pattern, escape="\\"),
    )
    found = [func.lower(Case.case_number).like(pattern, escape="\\"), people.exists()]
    born = _date_in(text)
    if born is not None:  # a date of birth, as people type it
        found.append(
            select(CasePerson.id)
            .where(
                CasePerson.case_id == Case.id,
                CasePerson.role != "reporter",
                CasePerson.birth_date == born,
            )
            .exists()
        )
    if redaction.sees_reporter(principal):
        summary: ColumnElement[bool] = func.lower(Case.summary).like(pattern, escape="\\")
        if principal.emergency_cases:  # opened by breaking the glass: redacted for them
            summary = and_(summary, Case.id.not_in(sorted(principal.emergency_cases)))
        found.append(summary)
    return or_(*found)


def _date_in(text: str) -> date | None:
    """2021-11-02 or 11/02/2021 (the agency's month-first way), else None."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    month, _, rest = text.partition("/")
    day, _, year = rest.partition("/")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _person(redactor: Redactor, person: CasePerson) -> dict[str, Any]:
    hidden = person.role == "reporter" and redactor.hides
    return {
        "id": str(person.id),
        "role": person.role,
        "name": REDACTED if hidden else person.name,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "details": {} if hidden else redactor.value(dict(person.details or {})),
    }


def case_file(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> dict[str, Any]:
    return _read(ctx, principal, case_id, "case file", _case_file)


def _case_file(read: CaseRead) -> dict[str, Any]:
    session, case = read.session, read.case
    result = case_summary(session, case, read.ctx.clock.now(), read.redactor)
    result["people"] = _people(read)
    result["allegations"] = _allegations(read)
    profile = jurisdictions.profile_of(read.ctx, session, case.profile_id)
    code_labels = setting(profile, "code_labels", {})
    result["local"] = _local_ways(profile)
    result["decisions"] = _decisions(session, case.id, code_labels)
    result["record"] = _record(read)
    zone = profile.calendar.zone if profile is not None else ZoneInfo("UTC")
    result["placements"] = placements_by_child(result["record"], zone)
    result["deadlines"] = _deadlines(read)
    result["processes"] = [
        {
            "instance_id": str(i.id),
            "process_id": i.process_id,
            "version_id": i.version_id,
            "status": i.status,
            "started_at": i.created_at.isoformat(),
            "next_timer_due_at": i.next_timer_due_at.isoformat() if i.next_timer_due_at else None,
        }
        for i in session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.case_id == case.id)
            .order_by(ProcessInstance.created_at, ProcessInstance.id)
        )
    ]
    return result


def _decisions(
    session: Session, case_id: uuid.UUID, code_labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Each decision table's outcome on the case with its reasons, in words."""
    return [
        {
            "at": e.occurred_at.isoformat(),
            "process_id": e.process_id,
            "element_id": e.element_id,
            "table": e.title,
            "outputs": e.data.get("outputs", {}),
            "inputs": e.data.get("inputs", {}),
            "rules": e.data.get("rules", []),
            "explanation": explain(e.title, e.data, code_labels),
        }
        for e in session.scalars(
            select(RecordEntry)
            .where(
                RecordEntry.case_id == case_id,
                RecordEntry.kind == "decision",
                RecordEntry.amends_id.is_(None),
            )
            .order_by(RecordEntry.occurred_at, RecordEntry.id)
        )
    ]


def explain(table: str, data: dict[str, Any], code_labels: dict[str, str] | None = None) -> str:
    """ "Priority: P1 (24 hours) · Response within (hours): 24. <annotation> (rule 6 of D2
    Response priority)": the table's own labels, and its codes in the jurisdiction's words."""
    labels = data.get("labels", {})
    outputs = " · ".join(
        f"{labels.get(name) or name.replace('_', ' ').capitalize()}: "
        f"{value_in_words(value, code_labels or {})}"
        for name, value in data.get("outputs", {}).items()
    )
    rules = data.get("rules", [])
    reasons = "; ".join(str(r.get("annotation")) for r in rules if r.get("annotation"))
    rows = " and ".join(str(r.get("row")) for r in rules if r.get("row") is not None)
    said = outputs + "." if outputs else ""
    if reasons:
        said += f" {reasons[:1].upper()}{reasons[1:]}" + ("" if reasons.endswith(".") else ".")
    if rows:
        said += f" (rule {rows} of {table})"
    return said.strip()


def record_of(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> list[dict[str, Any]]:
    return _read(ctx, principal, case_id, "record", _record)


def _record(read: CaseRead, **which: Any) -> list[dict[str, Any]]:
    forms = record.forms_typed_in(read.ctx, read.session, read.case, INTAKE_SCHEMA)
    return record.entries(read.session, read.case.id, read.redactor, forms, **which)


def local_ways(ctx: EngineContext) -> dict[str, dict[str, Any]]:
    """How each deployed jurisdiction writes dates and names roles, by profile id (for lists
    of many cases' rows)."""
    with ctx.db.reader() as session:
        profiles = jurisdictions.deployed(ctx, session)
    return {profile_id: _local_ways(profile) for profile_id, profile in profiles.items()}


def _local_ways(profile: Profile | None) -> dict[str, Any]:
    """How the case's jurisdiction writes dates and names roles, for the pages to show its
    case as its people read it (None where it says nothing)."""
    if profile is None:
        return {"time_zone": None, "date": None, "date_time": None, "role_titles": {}}
    return {
        "time_zone": profile.calendar.time_zone,
        "date": profile.dates.date,
        "date_time": profile.dates.date_time,
        "role_titles": {role: title for _name, title, role in profile.roles},
    }


def time_zone_of(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> str | None:
    """The zone a case's local times are typed in (its jurisdiction's), for a form about it;
    NotFound for a case this principal may not read."""
    with ctx.db.reader() as session:
        case = readable_case(session, principal, case_id)
        profile = jurisdictions.profile_of(ctx, session, case.profile_id)
    return profile.calendar.time_zone if profile is not None else None


def _deadlines(read: CaseRead) -> list[dict[str, Any]]:
    """Each statutory clock of the case and how it ended, judged by event time."""
    return [
        {
            "deadline_id": d.deadline_id,
            "title": d.title,
            "measure": d.measure,
            "started_at": d.started_at.isoformat(),
            "due_at": d.due_at.isoformat(),
            "status": d.status,
            "done_at": d.met_at.isoformat() if d.met_at else None,
            "entered_at": d.entered_at.isoformat() if d.entered_at else None,
            "late_entry": bool(
                d.entered_at is not None and d.met_at is not None and d.entered_at > d.due_at
            ),
            "task_id": str(d.task_id) if d.task_id else None,
        }
        for d in read.session.scalars(
            select(Deadline)
            .where(Deadline.case_id == read.case.id)
            .order_by(Deadline.due_at, Deadline.id)
        )
    ]


def _people(read: CaseRead) -> list[dict[str, Any]]:
    return [
        _person(read.redactor, p)
        for p in read.session.scalars(
            select(CasePerson)
            .where(CasePerson.case_id == read.case.id)
            .order_by(CasePerson.role, CasePerson.name)
        )
    ]


def _allegations(read: CaseRead) -> list[dict[str, Any]]:
    return [
        {
            "id": str(a.id),
            "victim_id": str(a.victim_id),
            "perpetrator_id": str(a.perpetrator_id) if a.perpetrator_id else None,
            "type": a.maltreatment_type,
            "narrative": read.redactor.text(a.narrative),
            "incident_date": a.incident_date.isoformat() if a.incident_date else None,
            "severity": a.severity,
            "disposition": a.disposition,
        }
        for a in read.session.scalars(
            select(Allegation).where(Allegation.case_id == read.case.id).order_by(Allegation.id)
        )
    ]


def people(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> list[dict[str, Any]]:
    return _read(ctx, principal, case_id, "people", _people)


def allegations(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID
) -> list[dict[str, Any]]:
    return _read(ctx, principal, case_id, "allegations", _allegations)


def _contact(c: Contact, redactor: Redactor = SHOWS_ALL) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "occurred_at": c.occurred_at.isoformat(),
        "type": c.contact_type,
        "location": c.location,
        "participants": redactor.value(list(c.participants or [])),
        "narrative": redactor.text(c.narrative),
        "attempted_only": c.attempted_only,
        "recorded_by": c.recorded_by,
        "recorded_at": c.recorded_at.isoformat(),
    }


def contacts(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> list[dict[str, Any]]:
    return _read(ctx, principal, case_id, "contacts", _contacts)


def _contacts(read: CaseRead) -> list[dict[str, Any]]:
    return [
        _contact(c, read.redactor)
        for c in read.session.scalars(
            select(Contact)
            .where(Contact.case_id == read.case.id)
            .order_by(Contact.occurred_at, Contact.id)
        )
    ]


def record_contact(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, Any]:
    _validate(CONTACT_SCHEMA, data, "contact")
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        case = readable_case(uow.session, principal, case_id)
        row = Contact(
            id=uuid.uuid4(),
            case_id=case.id,
            occurred_at=_instant(data["occurred_at"]),
            contact_type=data["type"],
            location=data["location"],
            participants=data.get("participants", []),
            narrative=data["narrative"],
            attempted_only=data.get("attempted_only", data["type"] == "attempt"),
            recorded_by=principal.id,
            recorded_at=now,
        )
        uow.session.add(row)
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="contact.recorded",
            case_id=case.id,
            contact=str(row.id),
            type=row.contact_type,
        )
        redactor = redaction.for_case(uow.session, principal, case.id)
        uow.commit()
    return _contact(row, redactor)


SENSITIVITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["sensitive", "reason"],
    "additionalProperties": False,
    "properties": {
        "sensitive": {"type": "boolean", "description": "true restricts the case; false lifts it"},
        "reason": {"type": "string", "minLength": 10, "maxLength": 2000},
    },
}


def may_set_sensitivity(
    session: Session, principal: Principal, case: Case, restrict: bool | None = None
) -> bool:
    """The security group restricts and lifts; the supervision chain restricts. ``restrict``
    None: the change the case's state calls for."""
    if restrict is None:
        restrict = not case.sensitive
    return principal.security_group or (restrict and supervises(session, principal, case))


def set_sensitivity(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID, data: dict[str, Any]
) -> dict[str, Any]:
    """Restrict a case to its assignees, its supervision chain and the security group (a
    public figure's family, an employee's), or lift the restriction, with a stated reason
    (DOMAIN §5.8). The chain and the security group may restrict; only the security group
    may lift a restriction."""
    with UnitOfWork(ctx.db.writer) as uow:
        case = readable_case(uow.session, principal, case_id)
        restrict = data.get("sensitive") is True
        if not may_set_sensitivity(uow.session, principal, case, restrict):
            raise Forbidden(
                "restricting a case is for its supervisors and the security group; lifting a "
                "restriction is for the security group"
            )
        _validate(SENSITIVITY_SCHEMA, data, "request")
        if case.sensitive == restrict:
            raise Conflict(
                f"case {case.case_number} is {'already' if restrict else 'not'} restricted"
            )
        now = ctx.clock.now()
        case.sensitive = restrict
        case.updated_at = now
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="case.restricted" if restrict else "case.restriction_lifted",
            case_id=case.id,
            reason=data["reason"],
        )
        uow.publish(
            "case.sensitivity_changed",
            now,
            case_id=case.id,
            case_number=case.case_number,
            sensitive=restrict,
        )
        uow.commit()
    return {"case_id": str(case.id), "case_number": case.case_number, "sensitive": restrict}


def timeline(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """Tasks, decisions, alerts, contacts and the audit trail of a case, in order."""
    return _read(ctx, principal, case_id, "timeline", _timeline)


def _timeline(read: CaseRead) -> list[dict[str, Any]]:
    session, case = read.session, read.case
    events: list[dict[str, Any]] = []
    tasks = {
        t.id: t for t in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))
    }
    audited = select(AuditEvent).where(
        AuditEvent.case_id == case.id,
        # A draft saves itself as one types: the audit keeps each save, the timeline the work.
        # Nor does every look at the prior history (each task page of intake searches it).
        AuditEvent.action.not_in(("task.draft_saved", "history.searched")),
    )
    for row in session.scalars(audited):
        task = tasks.get(row.task_id) if row.task_id else None
        events.append(
            {
                "at": row.at.isoformat(),
                "kind": "audit",
                "action": row.action,
                "actor": row.actor,
                "details": read.redactor.value(row.details or {}),
                # The task an entry is about, by its name (which names the child it is for).
                **({"name": task.name} if task else {}),
            }
        )
    for task in tasks.values():
        events.append(
            {
                "at": task.created_at.isoformat(),
                "kind": "task",
                "action": "task.created",
                "task_id": str(task.id),
                "name": task.name,
                "role": task.role,
            }
        )
    for alert in session.scalars(select(Alert).where(Alert.case_id == case.id)):
        events.append(
            {
                "at": alert.raised_at.isoformat(),
                "kind": "alert",
                "action": f"alert.{alert.kind}",
                "deadline": alert.deadline_id,
                "message": alert.message,
            }
        )
    for contact in session.scalars(select(Contact).where(Contact.case_id == case.id)):
        events.append(
            {
                "at": contact.occurred_at.isoformat(),
                "kind": "contact",
                "action": f"contact.{contact.contact_type}",
                "location": contact.location,
            }
        )
    return sorted(events, key=lambda e: (e["at"], e["kind"], e["action"]))


def position(ctx: EngineContext, principal: Principal, case_id: uuid.UUID) -> list[dict[str, Any]]:
    """Where each phase of the case stands: active and passed elements, pending timers."""
    return _read(ctx, principal, case_id, "position", _position)


def _position(read: CaseRead) -> list[dict[str, Any]]:
    ctx, session, case = read.ctx, read.session, read.case
    instances = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.case_id == case.id)
        .order_by(ProcessInstance.created_at)
    ).all()
    result = []
    for instance in instances:
        if compacted.is_compacted(instance):
            result.append(_compacted_position(instance))
            continue
        compiled = ctx.definitions.compiled(session, instance.version_id)
        definition = compiled.process(instance.process_id)
        profile = compiled.profile(case.profile_id)
        if definition is None or profile is None:
            continue
        workflow = stored.read_workflow(ctx, session, instance, definition, profile)
        snapshot = ctx.runtime.snapshot(workflow)
        timers = session.scalars(
            select(Timer)
            .where(Timer.instance_id == instance.id, Timer.status == TimerStatus.PENDING)
            .order_by(Timer.due_at)
        ).all()
        result.append(
            {
                "instance_id": str(instance.id),
                "process_id": instance.process_id,
                "version_id": instance.version_id,
                "status": instance.status,
                "active": snapshot.active_elements
                if instance.status == InstanceStatus.ACTIVE
                else [],
                "completed": ctx.runtime.completed_elements(workflow),
                "waiting_at": ctx.runtime.waiting_at(workflow)
                if instance.status == InstanceStatus.ACTIVE
                else [],
                # What its call activities run, each drawn from its own diagram.
                "called": [
                    {
                        "element_id": c.element_id,
                        "name": c.element_name,
                        "caller_process_id": c.caller_process_id,
                        "process_id": c.process_id,
                        "active": c.active if instance.status == InstanceStatus.ACTIVE else [],
                        "completed": c.completed,
                        "finished": c.finished,
                    }
                    for c in ctx.runtime.called_processes(workflow)
                ],
                "pending_timers": [
                    {"element_id": t.bpmn_id, "name": t.name, "due_at": t.due_at.isoformat()}
                    for t in timers
                ],
            }
        )
    return result


def _compacted_position(instance: ProcessInstance) -> dict[str, Any]:
    """A finished phase whose engine state retention gave up: the path it kept. Nothing of it
    is active, waiting or pending (only finished instances are compacted)."""
    kept = compacted.path_of(instance)
    return {
        "instance_id": str(instance.id),
        "process_id": instance.process_id,
        "version_id": instance.version_id,
        "status": instance.status,
        "active": [],
        "completed": kept.completed,
        "waiting_at": [],
        "called": [
            {
                "element_id": str(c.get("element_id", "")),
                "name": str(c.get("name", "")),
                "caller_process_id": str(c.get("caller_process_id", "")),
                "process_id": str(c.get("process_id", "")),
                "active": [],
                "completed": [str(e) for e in c.get("completed", [])],
                "finished": bool(c.get("finished", True)),
            }
            for c in kept.called
        ],
        "pending_timers": [],
        "compacted_at": kept.compacted_at or None,
    }
