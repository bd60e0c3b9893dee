"""Pruning the webhook outbox: what was delivered long ago has done its work.

A delivery is deleted once it has been delivered for longer than the setting, with its attempt
log; an event, once no delivery of it remains and it is older than the setting (an event no
subscription wanted has none). A pending delivery, a dead one (which can be replayed) and a
replayed one are never deleted, nor their event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.orm import Session

from engine.statuses import DeliveryStatus
from engine.storage import statements
from engine.storage.tables import OutboxEvent, WebhookAttempt, WebhookDelivery


@dataclass(frozen=True)
class Pruned:
    deliveries: int = 0
    events: int = 0


def _deliveries(before: datetime) -> Select[int]:
    return select(WebhookDelivery.seq).where(
        WebhookDelivery.status == DeliveryStatus.DELIVERED,
        WebhookDelivery.delivered_at < before,
    )


def _events(before: datetime) -> Select[uuid.UUID]:
    return select(OutboxEvent.id).where(
        OutboxEvent.occurred_at < before,
        ~exists().where(WebhookDelivery.event_id == OutboxEvent.id),
    )


def count_due(session: Session, before: datetime) -> Pruned:
    """What a prune would delete now (an event whose deliveries are all due counts once
    they are gone, in a later run)."""
    return Pruned(
        session.scalar(select(func.count()).select_from(_deliveries(before).subquery())) or 0,
        session.scalar(select(func.count()).select_from(_events(before).subquery())) or 0,
    )


def prune_batch(session: Session, before: datetime, limit: int) -> Pruned:
    """Up to ``limit`` due deliveries and ``limit`` due events. The deletes say again what
    is due: a row another run deleted meanwhile, or one replayed or newly wanted, is neither
    deleted nor counted."""
    deliveries = events = 0
    seqs = list(session.scalars(_deliveries(before).order_by(WebhookDelivery.seq).limit(limit)))
    if seqs:
        attempts = delete(WebhookAttempt).where(
            WebhookAttempt.delivery_seq.in_(
                _deliveries(before).where(WebhookDelivery.seq.in_(seqs))
            )
        )
        statements.execute(session, attempts)
        deleted = delete(WebhookDelivery).where(
            WebhookDelivery.seq.in_(seqs),
            WebhookDelivery.status == DeliveryStatus.DELIVERED,
            WebhookDelivery.delivered_at < before,
        )
        deliveries = statements.execute(session, deleted).rowcount
    ids = list(session.scalars(_events(before).order_by(OutboxEvent.occurred_at).limit(limit)))
    if ids:
        gone = delete(OutboxEvent).where(
            OutboxEvent.id.in_(ids),
            ~exists().where(WebhookDelivery.event_id == OutboxEvent.id),
        )
        events = statements.execute(session, gone).rowcount
    return Pruned(deliveries, events)
