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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, sessionmaker

from engine import core_writes
from engine.event_topics import TOPICS
from engine.tables import OutboxEvent, WebhookDelivery, WebhookSubscription

_PENDING = "casework_outbox"
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
    session.info.setdefault(_PENDING, []).append(
        Published(uuid.uuid4(), topic, case_id, at, payload)
    )


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A nested transaction whose queued events go with it if it rolls back (the outer unit
    of work carries on and commits the rest)."""
    mark = len(session.info.get(_PENDING, []))
    try:
        with session.begin_nested():
            yield
    except Exception:
        del session.info.get(_PENDING, [])[mark:]
        raise


def attach(factory: sessionmaker[Session]) -> None:
    """Make sessions of this factory write their queued events as part of their commit."""
    event.listen(factory, "before_commit", _write)
    event.listen(factory, "after_rollback", _forget)


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
_INSERT_EVENTS = insert(OutboxEvent)
_INSERT_DELIVERIES = insert(WebhookDelivery)
_ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription.id, WebhookSubscription.topics).where(
    WebhookSubscription.active.is_(True)
)


def _write(session: Session) -> None:
    pending: list[Published] = session.info.pop(_PENDING, [])
    if not pending:
        return
    events = [
        {
            "id": p.id,
            "topic": p.topic,
            "case_id": p.case_id,
            "occurred_at": p.at,
            "payload": envelope(p),
        }
        for p in pending
    ]
    if core_writes.dialect(session) == "postgresql":
        # One round trip on every commit: PostgreSQL runs an INSERT placed in a WITH clause
        # even though the query never reads it.
        query = _ACTIVE_SUBSCRIPTIONS.add_cte(insert(OutboxEvent).values(events).cte("written"))
        subscriptions = core_writes.execute(session, query).all()
    else:
        core_writes.execute(session, _INSERT_EVENTS, events)
        subscriptions = session.connection().execute(_ACTIVE_SUBSCRIPTIONS).all()
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
        for p in pending
        for subscription_id, topics in subscriptions
        if topic_matches(topics, p.topic)
    ]
    if deliveries:
        core_writes.execute(session, _INSERT_DELIVERIES, deliveries)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
