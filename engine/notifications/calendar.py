"""A person's calendar feed (iCalendar): the due dates of the tasks they hold, so their
phone's calendar shows them beside their home visits. An event names the task (without the
child it is for) and the case by number; the link opens the task in casework. Phones copy
calendars to other services: no child's or reporter's name goes there."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from engine.context import EngineContext
from engine.statuses import TaskStatus
from engine.storage.tables import Case, HumanTask

EVENT_LENGTH = timedelta(minutes=30)


def calendar_of(ctx: EngineContext, user_id: str, base_url: str) -> bytes:
    now = ctx.clock.now()
    with ctx.db.reader() as session:
        rows = session.execute(
            select(HumanTask, Case.case_number)
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
    calendar.add("x-wr-calname", "casework: my due dates")
    base = base_url.rstrip("/")
    for task, case_number in rows:
        assert task.due_at is not None
        name = task.name.removesuffix(f" — {task.subject}") if task.subject else task.name
        event = Event()
        event.add("uid", f"{task.id}@casework")
        event.add("dtstamp", now)
        # The event ends at the due moment: the calendar shows the work before it is late.
        event.add("dtstart", task.due_at - EVENT_LENGTH)
        event.add("dtend", task.due_at)
        event.add("summary", f"Due: {name} (case {case_number})")
        event.add("url", f"{base}/tasks/{task.id}")
        event.add("description", f"Open in casework: {base}/tasks/{task.id}")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
