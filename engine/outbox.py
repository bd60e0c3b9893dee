"""The outbox: every meaningful change publishes an event, and the event (with one delivery row
per webhook subscription that wants its topic) is written by the same commit as the change. If
the change rolls back, so does the event; a receiver can never hear of something that did not
happen, and nothing that happened goes unheard.

Events are minimal and redacted by construction: ids, case numbers, element ids, statuses and
dates; never names, narratives, form data or the reporter.
"""

from __future__ import annotations

import fnmatch
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine import appends, audit, core_writes
from engine.event_topics import TOPICS
from engine.tables import AuditEvent, OutboxEvent, WebhookDelivery, WebhookSubscription

EVENTS = "events"
# A delivery is pending until delivered or dead; a dead one that was requeued is "replayed".
PENDING, DELIVERED, DEAD, REPLAYED = "pending", "delivered", "dead", "replayed"


@dataclass(frozen=True)
class Published:
    id: uuid.UUID
    topic: str
    case_id: uuid.UUID | None
    at: datetime
    data: dict[str, Any]


def publish(
    session: Session, topic: str, at: datetime, *, case_id: uuid.UUID | None = None, **data: Any
) -> None:
    """Queue an event on this unit of work; it is written when (and only if) the unit commits."""
    if topic not in TOPICS:
        raise ValueError(f"unknown event topic {topic!r}")
    payload = {k: _plain(v) for k, v in data.items()}
    if case_id is not None:
        payload["case_id"] = str(case_id)
    if not appends.queue(session, EVENTS, Published(uuid.uuid4(), topic, case_id, at, payload)):
        raise RuntimeError("events are published on a unit of work's session (engine.db)")


def topic_matches(patterns: Iterable[str], topic: str) -> bool:
    return any(fnmatch.fnmatchcase(topic, pattern) for pattern in patterns)


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(16)}"


def envelope(published: Published) -> dict[str, Any]:
    """The body receivers get (the Standard Webhooks shape: type, timestamp, data)."""
    return {
        "id": str(published.id),
        "type": published.topic,
        "timestamp": published.at.isoformat(),
        "data": published.data,
    }


# Built once: these run on every commit that published anything.
_INSERT_DELIVERIES = insert(WebhookDelivery)
_ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription.id, WebhookSubscription.topics).where(
    WebhookSubscription.active.is_(True)
)


def write_at_commit(session: Session, pending: appends.Pending) -> None:
    """Write a unit of work's queued audit rows and events, and one delivery per event and
    subscription that wants its topic (the ``appends`` writer of the writer sessions)."""
    audited: list[dict[str, Any]] = pending.get(audit.AUDIT, [])
    published: list[Published] = pending.get(EVENTS, [])
    events = [
        {
            "id": p.id,
            "topic": p.topic,
            "case_id": p.case_id,
            "occurred_at": p.at,
            "payload": envelope(p),
        }
        for p in published
    ]
    inserts = core_writes.Inserts()
    inserts.add(AuditEvent, audited)
    inserts.add(OutboxEvent, events)
    if not published:
        inserts.write(session)
        return
    # One round trip on PostgreSQL: the rows, then the subscriptions that may want them.
    subscriptions = inserts.write(session, then=_ACTIVE_SUBSCRIPTIONS)
    deliveries = [
        {
            "message_id": new_message_id(),
            "subscription_id": subscription_id,
            "event_id": p.id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": p.at,
            "created_at": p.at,
        }
        for p in published
        for subscription_id, topics in subscriptions
        if topic_matches(topics, p.topic)
    ]
    if deliveries:
        core_writes.execute(session, _INSERT_DELIVERIES, deliveries)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
