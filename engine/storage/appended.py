"""What a unit of work appends and never reads back, written by its commit: audit rows, outbox
events, and one webhook delivery per event and subscription that wants its topic. On
PostgreSQL the rows and the subscriptions read go in one round trip (``statements.Inserts``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.events.outbox import Published, delivered_to, envelope, new_message_id
from engine.statuses import DeliveryStatus
from engine.storage import statements
from engine.storage.tables import AuditEvent, OutboxEvent, WebhookDelivery, WebhookSubscription

# Built once: these run on every commit that published anything.
_INSERT_DELIVERIES = insert(WebhookDelivery)
_ACTIVE_SUBSCRIPTIONS = select(
    WebhookSubscription.id, WebhookSubscription.topics, WebhookSubscription.provider_id
).where(WebhookSubscription.active.is_(True))


def write(session: Session, audited: list[dict[str, Any]], published: list[Published]) -> None:
    if not audited and not published:
        return
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
    inserts = statements.Inserts()
    inserts.add(AuditEvent, audited)
    inserts.add(OutboxEvent, events)
    if not published:
        inserts.write(session)
        return
    # One round trip on PostgreSQL: the rows, then the subscriptions that may want them.
    subscriptions: list[Any] = inserts.write(session, then=_ACTIVE_SUBSCRIPTIONS)
    deliveries = [
        {
            "message_id": new_message_id(),
            "subscription_id": subscription_id,
            "event_id": p.id,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": p.at,
            "created_at": p.at,
        }
        for p in published
        for subscription_id, topics, provider_id in subscriptions
        if delivered_to(topics, provider_id, p)
    ]
    if deliveries:
        statements.execute(session, _INSERT_DELIVERIES, deliveries)
