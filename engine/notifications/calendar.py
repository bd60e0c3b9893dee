"""A person's calendar feed (iCalendar): the due dates of the tasks they hold and the court
hearings of their cases, so their phone's calendar shows them beside their home visits. An
event names the task or hearing (without the child it is for) and the case by number; the link
opens it in casework. Phones copy calendars to other services: no child's or reporter's name
goes there.

Hearings are what the designer's forms say they are (``x-casework-hearing``): a hearing task
open on one of the person's cases (the case is theirs, or they hold work on it), by its due
date, and a hearing date a completed form set."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.statuses import TaskStatus
from engine.storage.tables import Case, HumanTask, ProcessInstance, RecordEntry
from engine.tasks.form_schemas import hearing_of

EVENT_LENGTH = timedelta(minutes=30)


def calendar_of(ctx: EngineContext, user_id: str, base_url: str) -> bytes:
    now = ctx.clock.now()
    base = base_url.rstrip("/")
    with ctx.db.reader() as session:
        tasks = session.execute(
            select(HumanTask, Case)
            .join(Case, Case.id == HumanTask.case_id)
            .where(
                HumanTask.assignee == user_id,
                HumanTask.status == TaskStatus.READY,
                HumanTask.due_at.is_not(None),
            )
            .order_by(HumanTask.due_at, HumanTask.id)
        ).all()
        calendar = Calendar()
        calendar.add("prodid", "-//casework//due dates//EN")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", "casework: my due dates and hearings")
        for task, case in tasks:
            assert task.due_at is not None
            name = task.name.removesuffix(f" — {task.subject}") if task.subject else task.name
            event = _event(str(task.id), f"Due: {name}", case)
            # The event ends at the due moment: the calendar shows the work before it is late.
            event.add("dtstart", task.due_at - EVENT_LENGTH)
            event.add("dtend", task.due_at)
            _link(event, f"{base}/tasks/{task.id}")
            calendar.add_component(event)
        for hearing in _hearings(ctx, session, user_id, base):
            calendar.add_component(hearing)
    for component in calendar.walk("VEVENT"):
        component.add("dtstamp", now)
    return bytes(calendar.to_ical())


def _hearings(ctx: EngineContext, session: Session, user_id: str, base: str) -> list[Event]:
    holds_work = select(HumanTask.case_id).where(
        HumanTask.assignee == user_id, HumanTask.status == TaskStatus.READY
    )
    cases = {
        case.id: case
        for case in session.scalars(
            select(Case).where(
                Case.closed_at.is_(None),
                or_(Case.assigned_to == user_id, Case.id.in_(holds_work)),
            )
        )
    }
    if not cases:
        return []
    events: list[Event] = []
    held_by_task: set[tuple[uuid.UUID, str, date]] = set()
    for task, version_id in session.execute(
        select(HumanTask, ProcessInstance.version_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.case_id.in_(cases),
            HumanTask.status == TaskStatus.READY,
            HumanTask.due_at.is_not(None),
        )
    ):
        spec = hearing_of(ctx.definitions.compiled(session, version_id).form(task.bpmn_id))
        if spec is None or spec.on:
            continue
        assert task.due_at is not None
        held_by_task.add((task.case_id, spec.title, task.due_at.date()))
        if task.assignee == user_id:
            continue  # already there, as the task they hold
        event = _event(f"{task.id}-hearing", f"Hearing by then: {spec.title}", cases[task.case_id])
        event.add("dtstart", task.due_at - EVENT_LENGTH)
        event.add("dtend", task.due_at)
        _link(event, f"{base}/cases/{task.case_id}")
        events.append(event)
    for day, title, case, entry_id in _hearings_set(ctx, session, list(cases.values())):
        if (case.id, title, day) in held_by_task or day < ctx.clock.now().date():
            continue
        event = _event(f"{entry_id}-hearing", f"Hearing: {title}", case)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        _link(event, f"{base}/cases/{case.id}")
        events.append(event)
    return events


def _hearings_set(
    ctx: EngineContext, session: Session, cases: list[Case]
) -> list[tuple[date, str, Case, uuid.UUID]]:
    """The hearing dates completed forms set on these cases (as last amended)."""
    by_id = {case.id: case for case in cases}
    entries = session.scalars(
        select(RecordEntry).where(
            RecordEntry.case_id.in_(by_id), RecordEntry.version_id.is_not(None)
        )
    ).all()
    amended = {entry.amends_id for entry in entries if entry.amends_id is not None}
    found = []
    for entry in entries:
        if entry.id in amended or entry.version_id is None or entry.element_id is None:
            continue
        spec = hearing_of(
            ctx.definitions.compiled(session, entry.version_id).form(entry.element_id)
        )
        if spec is None or not spec.on:
            continue
        value: Any = entry.data
        for part in spec.on:
            value = value.get(part) if isinstance(value, dict) else None
        try:
            day = date.fromisoformat(str(value)[:10])
        except ValueError:
            continue
        found.append((day, spec.title, by_id[entry.case_id], entry.id))
    return found


def _event(uid: str, what: str, case: Case) -> Event:
    event = Event()
    event.add("uid", f"{uid}@casework")
    event.add("summary", f"{what} (case {case.case_number})")
    return event


def _link(event: Event, url: str) -> None:
    event.add("url", url)
    event.add("description", f"Open in casework: {url}")
