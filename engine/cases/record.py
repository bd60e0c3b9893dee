"""The case record: every completed task's form becomes an entry of the case file, typed by
what its form says it records, with two clocks — when it happened (event time) and when it was
entered, by whom.

A form says what it records with ``x-casework-record`` at its top::

    "x-casework-record": {"kind": "safety_assessment", "title": "Safety assessment",
                          "occurred": "assessed_at"}

``kind`` groups entries on the case page and in the API; ``occurred`` names the field holding
the event time (a dotted path; a date or a date-time). A form without it records under its
task's id, at the time of entry. An event dated ahead of the clock (beyond the profile's
tolerance) is refused with a field error; an entry typed long after its event is marked late
(the profile's ``records.late_entry_after``), as records practice expects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.cases.facts import describe
from engine.cases.redaction import Redactor
from engine.cases.subjects import form_for_case
from engine.context import Actor, EngineContext
from engine.deadlines.calendars import BusinessCalendar
from engine.deadlines.profiles import RecordRules
from engine.errors import FieldError, InvalidTaskData
from engine.spiff.views import DecisionView
from engine.storage.tables import Case, HumanTask, RecordEntry
from engine.storage.uow import UnitOfWork
from engine.tasks.form_schemas import RecordSpec


@dataclass(frozen=True)
class EventTime:
    at: datetime  # the instant (a date-only event: the start of its local day)
    on: date | None  # the date, when the form gave a date only


def event_time(
    spec: RecordSpec,
    data: dict[str, Any],
    calendar: BusinessCalendar,
    rules: RecordRules,
    now: datetime,
) -> EventTime:
    """When the recorded event happened: the form's event-time field, or now. Raises
    InvalidTaskData (the field, nothing written) for an event dated in the future."""
    if not spec.occurred:
        return EventTime(now, None)
    value = _value_at(data, spec.occurred)
    if value is None or value == "":
        return EventTime(now, None)
    pointer = "/" + "/".join(spec.occurred)
    text = str(value).upper()
    try:
        if "T" not in text:
            day = date.fromisoformat(text)
            if day > calendar.local_date(now):
                raise _future(pointer, f"{day.strftime('%a %d %b %Y')} is after today")
            return EventTime(calendar.local_instant(day), day)
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=calendar.zone)
        at.astimezone(UTC)  # an instant that cannot be kept (year 1 east of UTC) is refused
    except (ValueError, OverflowError):
        raise InvalidTaskData(
            "the event time is not a time",
            [FieldError(pointer, f"{value!r} is not a date or time", "format")],
        ) from None
    if at > now + rules.future_tolerance:
        local = at.astimezone(calendar.zone).strftime("%a %d %b %Y %H:%M")
        raise _future(pointer, f"{local} is later than now")
    return EventTime(at, None)


def is_late(event: EventTime, entered_at: datetime, rules: RecordRules) -> bool:
    """Typed longer after the event than records practice allows. A date-only event counts
    from the end of its day: the worker is not blamed for the hour the form did not ask."""
    end = event.at + timedelta(days=1) if event.on is not None else event.at
    return entered_at - end > rules.late_entry_after


def record_completion(
    uow: UnitOfWork,
    *,
    case: Case,
    task: HumanTask,
    version_id: int,
    spec: RecordSpec,
    data: dict[str, Any],
    event: EventTime,
    actor: Actor,
    now: datetime,
    rules: RecordRules,
) -> RecordEntry:
    entry = RecordEntry(
        id=uuid.uuid4(),
        case_id=case.id,
        kind=spec.kind,
        title=spec.title,
        task_id=task.id,
        version_id=version_id,
        process_id=task.process_id,
        element_id=task.bpmn_id,
        subject_id=task.subject_id,
        subject=task.subject,
        data=data,
        occurred_at=event.at,
        occurred_on=event.on,
        entered_at=now,
        entered_by=actor.id,
        entered_role=actor.role,
        late_entry=is_late(event, now, rules),
    )
    uow.session.add(entry)
    return entry


def record_filing(
    uow: UnitOfWork, case: Case, filed: dict[str, Any], actor: Actor, now: datetime
) -> RecordEntry:
    """The report as the screener filed it: the first entry of the case file."""
    entry = RecordEntry(
        id=uuid.uuid4(),
        case_id=case.id,
        kind="intake",
        title="Report filed",
        data=filed,
        occurred_at=now,
        entered_at=now,
        entered_by=actor.id,
        entered_role=actor.role,
        late_entry=False,
    )
    uow.session.add(entry)
    return entry


def record_decision(
    uow: UnitOfWork,
    *,
    case: Case,
    version_id: int,
    decision: DecisionView,
    actor: Actor,
    now: datetime,
) -> RecordEntry:
    """A decision table's outcome with its reasons: the inputs it read, the rows that matched
    and their annotations, so that the record answers "why"."""
    explanation = decision.explanation
    entry = RecordEntry(
        id=uuid.uuid4(),
        case_id=case.id,
        kind="decision",
        title=str(explanation.get("table") or decision.bpmn_id),
        version_id=version_id,
        process_id=decision.process_id,
        element_id=decision.bpmn_id,
        data={
            "outputs": decision.outputs,
            "inputs": explanation.get("inputs", {}),
            "rules": explanation.get("rules", []),
            "labels": explanation.get("labels", {}),
        },
        occurred_at=now,
        entered_at=now,
        entered_by=actor.id,
        entered_role=actor.role,
        late_entry=False,
    )
    uow.session.add(entry)
    return entry


def _future(pointer: str, detail: str) -> InvalidTaskData:
    return InvalidTaskData(
        "the event is dated in the future",
        [FieldError(pointer, f"{detail}: a record says what has happened", "future")],
    )


def _value_at(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


# -- reading ------------------------------------------------------------------------------------

# Where each kind of entry sits in the case file, as a caseworker reads it; kinds a designer
# adds follow, in the order they were first recorded.
KIND_ORDER = (
    "intake",
    "decision",
    "report",
    "screening",
    "initiation",
    "interview",
    "safety_assessment",
    "safety_plan",
    "safety_plan_follow_up",
    "removal",
    "placement",
    "finding",
    "notice",
    "appeal",
    "risk_assessment",
    "medical",
    "service_plan",
    "services",
    "service_progress",
    "contact",
    "visit",
    "case_plan",
    "court",
    "permanency_goal",
    "reunification",
    "review",
    "relatives",
    "transition_plan",
    "closure",
    "approval",
    "supervision",
)

FormOf = Callable[[RecordEntry], dict[str, Any]]


def forms_typed_in(
    ctx: EngineContext, session: Session, case: Case, intake_form: dict[str, Any]
) -> FormOf:
    """The form each entry was typed in (its version's), as the case fills it, for its
    labels."""

    def form(entry: RecordEntry) -> dict[str, Any]:
        if entry.version_id is None or entry.element_id is None:
            return intake_form if entry.kind == "intake" else {}
        compiled = ctx.definitions.compiled(session, entry.version_id)
        typed = compiled.form(entry.element_id) or {}
        profile = compiled.profile(case.profile_id)
        if profile is None:
            return dict(typed)
        return form_for_case(session, typed, case.id, profile, entry.entered_at)

    return form


def entries(
    session: Session,
    case_id: uuid.UUID,
    redactor: Redactor,
    form_of: FormOf,
    *,
    kinds: Iterable[str] | None = None,
    task_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """The case's entries, each with its amendments and its current data in words, ordered by
    kind and then by event time; the reporter redacted for this reader."""
    query = select(RecordEntry).where(RecordEntry.case_id == case_id)
    if kinds is not None:
        query = query.where(RecordEntry.kind.in_(list(kinds)))
    rows = session.scalars(query.order_by(RecordEntry.entered_at, RecordEntry.id)).all()
    amendments: dict[uuid.UUID, list[RecordEntry]] = {}
    originals = []
    for row in rows:
        if row.amends_id is not None:
            amendments.setdefault(row.amends_id, []).append(row)
        else:
            originals.append(row)
    if task_id is not None:
        originals = [row for row in originals if row.task_id == task_id]
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    originals.sort(key=lambda r: (order.get(r.kind, len(order)), r.occurred_at, r.entered_at))
    return [
        _entry_json(row, amendments.get(row.id, []), redactor, form_of(row)) for row in originals
    ]


def entry_as_shown(
    session: Session, case_id: uuid.UUID, redactor: Redactor, form_of: FormOf, original: RecordEntry
) -> dict[str, Any]:
    """One entry (an original, not an amendment) as the record shows it, amendments included."""
    [shown] = [
        e
        for e in entries(session, case_id, redactor, form_of, task_id=original.task_id)
        if e["id"] == str(original.id)
    ]
    return shown


def _entry_json(
    row: RecordEntry, amendments: list[RecordEntry], redactor: Redactor, form: dict[str, Any]
) -> dict[str, Any]:
    current = amendments[-1] if amendments else row
    data = redactor.value(dict(current.data))
    result = {
        "id": str(row.id),
        "kind": row.kind,
        "title": row.title,
        "task_id": str(row.task_id) if row.task_id else None,
        "process_id": row.process_id,
        "element_id": row.element_id,
        "subject_id": row.subject_id,
        "subject": row.subject,
        **_times(current),
        "entered_by": row.entered_by,
        "entered_role": row.entered_role,
        "data": data,
        "facts": describe(form, data),
        "amended": bool(amendments),
        "amendments": [
            {
                "id": str(a.id),
                **_times(a),
                "entered_by": a.entered_by,
                "reason": redactor.text(a.amendment_reason or ""),
            }
            for a in amendments
        ],
    }
    if amendments:
        original = redactor.value(dict(row.data))
        result["original"] = {**_times(row), "data": original, "facts": describe(form, original)}
    return result


def _times(row: RecordEntry) -> dict[str, Any]:
    return {
        "occurred_at": row.occurred_at.isoformat(),
        "occurred_on": row.occurred_on.isoformat() if row.occurred_on else None,
        "entered_at": row.entered_at.isoformat(),
        "late_entry": row.late_entry,
    }
