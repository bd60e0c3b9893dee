"""The event catalogue: every topic casework publishes and the JSON Schema of its ``data``.

The OpenAPI document lists these under ``webhooks``, so receivers can generate their types.
Payloads carry identifiers, statuses and dates only (never names, narratives, form data or
the reporter), which keeps them safe for any receiver the agency connects. The provider topics
are the exception, and addressed: a referral offered to a partner agency names the person and
says why (never the reporter, never an allegation), and only that agency's own subscription
hears it.
"""

from __future__ import annotations

from typing import Any

UUID = {"type": "string", "format": "uuid"}
INSTANT = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": ["string", "null"]}


def _data(description: str, required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "required": required,
        "properties": properties,
    }


CASE = {"case_id": UUID, "case_number": TEXT}
TASK = {
    "case_id": UUID,
    "task_id": UUID,
    "process_id": TEXT,
    "element_id": TEXT,
    "role": NULLABLE_TEXT,
}

REFERRAL = {
    **CASE,
    "referral_id": UUID,
    "provider_id": TEXT,
    "service": TEXT,
    "status": {
        "enum": [
            "sent",
            "accepted",
            "declined",
            "scheduled",
            "attending",
            "completed",
            "not_engaged",
        ]
    },
}

# What a provider needs to take a family member on, and nothing more.
OFFERED = _data(
    "A referral made to this provider (only its own subscriptions hear it): who, for which "
    "service, why, by when to answer, and whom to call. Answer with a signed referral.status "
    "event to casework's inbound address for this provider.",
    ["case_id", "case_number", "referral_id", "provider_id", "service", "person", "reason"],
    **REFERRAL,
    service_title=TEXT,
    reason=TEXT,
    answer_by=INSTANT,
    person={
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": TEXT,
            "birth_date": {"type": ["string", "null"], "format": "date"},
            "role": TEXT,
            "languages": {"type": "array", "items": TEXT},
        },
    },
    worker={
        "type": "object",
        "properties": {"name": TEXT, "email": NULLABLE_TEXT},
    },
)
PROVIDER_TOPICS = frozenset({"referral.offered"})

TOPICS: dict[str, dict[str, Any]] = {
    "referral.offered": OFFERED,
    "referral.sent": _data(
        "A family member was referred to a provider for a service.",
        ["case_id", "referral_id", "provider_id", "service", "status"],
        **REFERRAL,
    ),
    "referral.status_changed": _data(
        "What became of a referral: accepted, declined, scheduled, attending, completed, not "
        "engaged.",
        ["case_id", "referral_id", "provider_id", "service", "status"],
        **REFERRAL,
    ),
    "case.opened": _data(
        "A case was opened (a report filed, or a case created by another system).",
        ["case_id", "case_number", "status"],
        **CASE,
        status=TEXT,
        team=NULLABLE_TEXT,
        profile_id=TEXT,
    ),
    "case.screened": _data(
        "Intake finished: the report was screened in (investigation) or out.",
        ["case_id", "case_number", "decision"],
        **CASE,
        decision={"enum": ["screened_in", "screened_out"]},
    ),
    "case.assigned": _data(
        "The case has a new worker.",
        ["case_id", "case_number", "assigned_to"],
        **CASE,
        assigned_to=TEXT,
        previous=NULLABLE_TEXT,
        team=NULLABLE_TEXT,
    ),
    "case.sensitivity_changed": _data(
        "A case was restricted to its assignees, supervisors and the security group, or the "
        "restriction was lifted.",
        ["case_id", "case_number", "sensitive"],
        **CASE,
        sensitive={"type": "boolean"},
    ),
    # The closure's reason is free text from a form: it stays in the audit trail.
    "case.closed": _data("The case was closed.", ["case_id", "case_number"], **CASE),
    "case.expunged": _data(
        "An unsubstantiated report was soft-expunged: from this instant it is out of anything "
        "public or used for employment and background checks (the agency keeps it for risk "
        "history). A registry that answers background checks drops it.",
        ["case_id", "case_number", "expunged_at"],
        **CASE,
        expunged_at=INSTANT,
    ),
    "task.created": _data(
        "A human task is waiting.",
        ["case_id", "task_id", "element_id"],
        **TASK,
        name=TEXT,
        assignee=NULLABLE_TEXT,
        due_at={"type": ["string", "null"], "format": "date-time"},
    ),
    "task.claimed": _data(
        "Someone took a task.", ["case_id", "task_id", "assignee"], **TASK, assignee=TEXT
    ),
    "task.unclaimed": _data(
        "A task went back to its queue.", ["case_id", "task_id"], **TASK, by=TEXT
    ),
    "task.assigned": _data(
        "A supervisor gave a task to someone.",
        ["case_id", "task_id", "assignee"],
        **TASK,
        assignee=TEXT,
        by=TEXT,
    ),
    "task.completed": _data(
        "A human task was completed (its form data stays in casework).",
        ["case_id", "task_id", "completed_by"],
        **TASK,
        completed_by=TEXT,
    ),
    "decision.made": _data(
        "A decision table was evaluated in a case's process.",
        ["case_id", "process_id", "element_id", "outputs"],
        case_id=UUID,
        process_id=TEXT,
        element_id=TEXT,
        outputs={"type": "object", "description": "the table's output columns and values"},
    ),
    "alert.raised": _data(
        "A reminder, due notice or overdue escalation was raised, or the notice of an "
        "emergency access (kind break_glass, with no deadline).",
        ["alert_id", "case_id", "kind", "deadline_id"],
        alert_id=UUID,
        case_id=UUID,
        kind=TEXT,
        deadline_id=NULLABLE_TEXT,
        due_at={"type": ["string", "null"], "format": "date-time"},
        recipients={"type": "array", "items": TEXT},
    ),
    "alert.acknowledged": _data(
        "Someone acknowledged an alert.",
        ["alert_id", "case_id", "by"],
        alert_id=UUID,
        case_id=UUID,
        by=TEXT,
    ),
    "timer.fired": _data(
        "A BPMN timer fired and its instance moved on.",
        ["case_id", "instance_id", "element_id", "due_at"],
        case_id=UUID,
        instance_id=UUID,
        process_id=TEXT,
        element_id=TEXT,
        due_at=INSTANT,
    ),
    "deadline.missed": _data(
        "A statutory deadline passed with its work still open (it stays open, counted late).",
        ["case_id", "deadline_id", "due_at"],
        case_id=UUID,
        deadline_id=TEXT,
        due_at=INSTANT,
        measure=NULLABLE_TEXT,
    ),
    "deadline.recomputed": _data(
        "A deadline's outcome changed because the record says the work happened at another "
        "time than it was entered (a late entry of work done in time, or an amended event "
        "time): the outcome and the event time it now rests on.",
        ["case_id", "deadline_id", "due_at", "status", "met_at"],
        case_id=UUID,
        deadline_id=TEXT,
        due_at=INSTANT,
        status={"enum": ["met", "missed"]},
        met_at=INSTANT,
        previous_status={"enum": ["met", "missed"]},
        measure=NULLABLE_TEXT,
    ),
    "definition.deployed": _data(
        "A new version of the process definitions was deployed.",
        ["version_id", "content_hash", "processes"],
        version_id={"type": "integer"},
        content_hash=TEXT,
        processes={"type": "array", "items": TEXT},
    ),
    "definition.activated": _data(
        "An earlier version became the current one again (a rollback, or its files deployed "
        "again): new cases and phases start on it.",
        ["version_id", "content_hash"],
        version_id={"type": "integer"},
        previous_version_id={"type": ["integer", "null"]},
        content_hash=TEXT,
    ),
}


def envelope_schema(topic: str) -> dict[str, Any]:
    """The whole body a receiver gets for this topic."""
    return {
        "type": "object",
        "required": ["id", "type", "timestamp", "data"],
        "properties": {
            "id": {**UUID, "description": "the event's id (one event, many subscriptions)"},
            "type": {"const": topic},
            "timestamp": INSTANT,
            "data": TOPICS[topic],
        },
    }
