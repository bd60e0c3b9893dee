"""The words pages use for what the engine keeps as ids and instants: a person's name for their
user id, a due date's distance from now ("due in 3 h", "2 days overdue")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import select

from engine.cases.facts import value_in_words
from engine.storage.tables import User
from workflows.web.site import bp, engine, local_time, role_title

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def person(user_id: str | None) -> str:
    """The name a user goes by; an id no longer known (a system actor…) is shown as it is."""
    if not user_id:
        return ""
    if "people_names" not in g:
        # One read per page: every name it shows comes from the same small table.
        with engine().db.reader() as session:
            g.people_names = dict(session.execute(select(User.id, User.display_name)).all())
    name: str = g.people_names.get(user_id) or user_id
    return name


def distance(delta: timedelta) -> str:
    """A stretch of time as people say it, to the unit that matters."""
    if delta < HOUR:
        return f"{max(1, round(delta / MINUTE))} min"
    if delta < 2 * DAY:
        return f"{round(delta / HOUR)} h"
    days = round(delta / DAY)
    return f"{days} days"


def _instant(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else None


def due_hint(value: str | datetime | None) -> str:
    """ "due in 3 h" or "2 days overdue", from the agency's clock."""
    moment = _instant(value)
    if moment is None:
        return ""
    left = moment - engine().clock.now()
    if abs(left) < MINUTE:
        return "due now"
    return f"due in {distance(left)}" if left > timedelta(0) else f"{distance(-left)} overdue"


def ago(value: str | datetime | None) -> str:
    """ "3 h ago", "in 2 days": how far an instant is from now."""
    moment = _instant(value)
    if moment is None:
        return ""
    gone = engine().clock.now() - moment
    if abs(gone) < MINUTE:
        return "just now"
    return f"{distance(gone)} ago" if gone > timedelta(0) else f"in {distance(-gone)}"


def in_words(message: str) -> str:
    """A conflict as a person reads it: what changed, without the task's id or version."""
    if re.search(r"is at version \d+, not \d+", message):
        return (
            "The task changed since this page was opened (a draft saved in another window, "
            "a claim or an assignment)."
        )
    holder = re.search(r"is assigned to (\S+)$", message)
    if holder:
        return f"The task is now assigned to {person(holder.group(1))}."
    said = re.sub(r"task [0-9a-f-]{36} ", "the task ", message)
    return said[0].upper() + said[1:] + ("" if said.endswith(".") else ".")


def _words(code: object) -> str:
    return str(code or "").replace("_", " ").replace(".", " ")


# What a timeline entry says, by its action: who did what to which task, as a sentence.
SENTENCES: dict[str, str] = {
    "task.created": "“{name}” is waiting for the {role}",
    "task.completed": "{actor} completed “{name}”",
    "task.claimed": "{actor} took “{name}”",
    "task.unclaimed": "{actor} put “{name}” back in the queue",
    "task.assigned": "{actor} gave “{name}” to {to}",
    "task.commented": "{actor} commented on “{name}”",
    "case.opened": "{actor} opened the case from the report",
    "case.assigned": "{actor} made {assigned_to} the case's worker",
    "case.closed": "{actor} closed the case",
    "case.read": "{actor} read the case",
    "case.marked_sensitive": "{actor} marked the case sensitive",
    "case.restricted": "{actor} restricted the case: {reason}",
    "case.restriction_lifted": "{actor} lifted the case's restriction",
    "case.status_set": "{actor} set the case's status to {status}",
    "case.emergency_access": "{actor} opened the case through emergency access: {reason}",
    "contact.recorded": "{actor} recorded a {type} contact",
    "record.amended": "{actor} amended an entry of the record: {reason}",
    "person.linked": "{actor} linked a person to their earlier case",
    "person.unlinked": "{actor} unlinked a person from an earlier case",
    "history.searched": "{actor} searched the people's prior history",
    "alert.acknowledged": "{actor} acknowledged an alert",
    "deadline.extended": "{actor} extended a deadline",
    "deadline.recomputed": "A deadline was judged again by when its event happened",
    "instance.started": "The {process_id} phase began",
    "instance.completed": "The {process_id} phase ended",
    "timer.fired": "A timer fell due ({timer})",
    "message.delivered": "“{message}” arrived",
    "document.added": "{actor} kept a document ({category})",
    "referral.sent": "{actor} made a referral to {provider} ({service})",
    "referral.status_changed": "{actor} recorded a referral to {provider} as {status}",
    "document.read": "{actor} downloaded a document",
    "document.deleted": "{actor} deleted a document's file: {reason}",
}


def happened(entry: dict[str, object]) -> str:
    """A timeline entry as a sentence: "Sue Supervisor completed “Approve the safety plan”"."""
    action = str(entry.get("action", ""))
    details = entry.get("details")
    said = {
        key: _words(value) for key, value in (details if isinstance(details, dict) else {}).items()
    }
    said.update(
        actor=person(str(entry.get("actor") or "")) or "Someone",
        name=str(entry.get("name") or "a task"),
        role=role_title(str(entry.get("role") or "")).lower(),
        to=person(str(said.get("to") or "")) or "someone",
        assigned_to=person(str(said.get("assigned_to") or "")) or "someone",
    )
    if action.startswith("alert.") and entry.get("message"):
        return f"Alert: {entry['message']}"
    if action.startswith("contact.") and action not in SENTENCES:
        where = f" at {_words(entry['location'])}" if entry.get("location") else ""
        return f"Contact: {_words(action.removeprefix('contact.'))}{where}"
    template = SENTENCES.get(action)
    if template is None:
        return f"{_words(action).capitalize()} by {said['actor']}"
    # A detail an older entry did not keep leaves its words out, not the sentence.
    return template.format_map(_Said(said)).removesuffix(": ").replace(" ()", "")


class _Said(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*")


def file_size(size: int) -> str:
    """ "840 KB", "2.4 MB"."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def said(value: object) -> str:
    """Any value the process holds, as a page shows it: dates and instants in the agency's
    zone, yes or no, codes made readable."""
    if isinstance(value, str) and ISO_INSTANT.fullmatch(value):
        return local_time(value)
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return local_time(value, False)
    return value_in_words(value, {})


@bp.app_context_processor
def words_context() -> dict[str, object]:
    return {
        "person": person,
        "due_hint": due_hint,
        "ago": ago,
        "happened": happened,
        "said": said,
        "file_size": file_size,
    }
