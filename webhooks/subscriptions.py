"""Webhook subscriptions, for administrators: who hears which events, with which secret, and
what became of each delivery (its attempts, and replays of the ones that died)."""

from __future__ import annotations

import fnmatch
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.errors import Conflict, FieldError, InvalidTaskData, NotFound
from engine.events.topics import PROVIDER_TOPICS, TOPICS
from engine.identity.access import require
from engine.identity.users import Principal
from engine.statuses import DeliveryStatus
from engine.storage.tables import (
    Provider,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from engine.storage.uow import UnitOfWork
from webhooks.signing import new_secret

ADMIN = "administrator"
DEFAULT_GRACE = timedelta(hours=24)


def _check(url: str | None, topics: list[str] | None, provider_id: str | None = None) -> None:
    """A subscription hears topics that exist; a provider's hears the provider topics only
    (what is addressed to it), the agency's the others."""
    errors = []
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(FieldError("/url", "must be an http or https URL", "format"))
    hearable = PROVIDER_TOPICS if provider_id else set(TOPICS) - PROVIDER_TOPICS
    whose = "a provider's subscription" if provider_id else "the agency's subscriptions"
    if topics is not None:
        if not topics:
            errors.append(FieldError("/topics", "name at least one topic or pattern", "minItems"))
        for i, pattern in enumerate(topics):
            matched = {topic for topic in TOPICS if fnmatch.fnmatchcase(topic, pattern)}
            if not matched:
                errors.append(
                    FieldError(f"/topics/{i}", f"{pattern!r} matches no event topic", "enum")
                )
            elif not matched & hearable:
                errors.append(
                    FieldError(
                        f"/topics/{i}",
                        f"{pattern!r} is not for {whose}: it hears "
                        + ", ".join(sorted(hearable)[:3])
                        + ("…" if len(hearable) > 3 else ""),
                        "enum",
                    )
                )
    if errors:
        raise InvalidTaskData("the subscription is not valid", errors)


def view(row: WebhookSubscription, now: datetime) -> dict[str, Any]:
    """A subscription as shown after creation: never its secrets."""
    return {
        "id": str(row.id),
        "url": row.url,
        "topics": list(row.topics),
        "description": row.description,
        "active": row.active,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "disabled_at": row.disabled_at.isoformat() if row.disabled_at else None,
        "disabled_reason": row.disabled_reason,
        "provider_id": row.provider_id,
        "previous_secret_valid_until": (
            row.previous_secret_until.isoformat()
            if row.previous_secret_until and row.previous_secret_until > now
            else None
        ),
    }


def _audit(
    uow: UnitOfWork, principal: Principal, action: str, at: datetime, **details: Any
) -> None:
    uow.audit(
        at=at,
        actor_id=principal.id,
        actor_role=ADMIN,
        action=action,
        **details,
    )


def create(
    ctx: EngineContext,
    principal: Principal,
    url: str,
    topics: list[str],
    description: str = "",
    provider_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new subscription and its secret; the secret is shown this once. A provider's own
    (``provider_id``) hears the referrals made to that provider."""
    require(principal, ADMIN)
    _check(url, topics, provider_id)
    now = ctx.clock.now()
    secret = new_secret()
    with UnitOfWork(ctx.db.writer) as uow:
        if provider_id is not None and uow.session.get(Provider, provider_id) is None:
            raise InvalidTaskData(
                "the subscription is not valid",
                [
                    FieldError(
                        "/provider_id", f"no provider {provider_id!r} in the directory", "enum"
                    )
                ],
            )
        row = WebhookSubscription(
            id=uuid.uuid4(),
            url=url,
            topics=topics,
            description=description,
            active=True,
            secret=secret,
            created_at=now,
            created_by=principal.id,
            provider_id=provider_id,
        )
        uow.session.add(row)
        _audit(
            uow,
            principal,
            "webhook.subscribed",
            now,
            subscription=str(row.id),
            url=url,
            provider=provider_id,
        )
        uow.commit()
        return view(row, now), secret


def _get(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no webhook subscription {subscription_id}")
    return row


def list_all(ctx: EngineContext, principal: Principal) -> list[dict[str, Any]]:
    require(principal, ADMIN)
    now = ctx.clock.now()
    with ctx.db.reader() as session:
        rows = session.scalars(
            select(WebhookSubscription).order_by(WebhookSubscription.created_at)
        ).all()
        return [view(row, now) for row in rows]


def get(ctx: EngineContext, principal: Principal, subscription_id: uuid.UUID) -> dict[str, Any]:
    require(principal, ADMIN)
    with ctx.db.reader() as session:
        row = session.get(WebhookSubscription, subscription_id)
        if row is None:
            raise NotFound(f"no webhook subscription {subscription_id}")
        result = view(row, ctx.clock.now())
        result["pending"] = session.scalar(
            select(func.count()).where(
                WebhookDelivery.subscription_id == row.id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
        )
        result["dead"] = session.scalar(
            select(func.count()).where(
                WebhookDelivery.subscription_id == row.id,
                WebhookDelivery.status == DeliveryStatus.DEAD,
            )
        )
        return result


@dataclass(frozen=True)
class SubscriptionChange:
    """What to change of a subscription; None leaves it as it is."""

    url: str | None = None
    topics: list[str] | None = None
    description: str | None = None
    active: bool | None = None


def change(
    ctx: EngineContext,
    principal: Principal,
    subscription_id: uuid.UUID,
    asked: SubscriptionChange,
) -> dict[str, Any]:
    require(principal, ADMIN)
    url, topics, description, active = asked.url, asked.topics, asked.description, asked.active
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        row = _get(uow.session, subscription_id)
        _check(url, topics, row.provider_id)
        if url is not None:
            row.url = url
        if topics is not None:
            row.topics = topics
        if description is not None:
            row.description = description
        if active is not None:
            row.active = active
            if active:  # switched back on by hand: whatever disabled it is over
                row.disabled_at = None
                row.disabled_reason = None
        changed = [
            name
            for name, value in (
                ("url", url),
                ("topics", topics),
                ("description", description),
                ("active", active),
            )
            if value is not None
        ]
        _audit(
            uow,
            principal,
            "webhook.changed",
            now,
            subscription=str(row.id),
            changed_fields=changed,
        )
        uow.commit()
        return view(row, now)


def rotate_secret(
    ctx: EngineContext,
    principal: Principal,
    subscription_id: uuid.UUID,
    grace: timedelta = DEFAULT_GRACE,
) -> tuple[dict[str, Any], str]:
    """A new secret; the old one keeps signing beside it for ``grace`` (receivers switch
    over without losing a delivery). The new secret is shown this once."""
    require(principal, ADMIN)
    if not timedelta(0) <= grace <= timedelta(days=7):
        raise InvalidTaskData(
            "invalid grace period", [FieldError("/grace_hours", "between 0 and 168", "range")]
        )
    now = ctx.clock.now()
    secret = new_secret()
    with UnitOfWork(ctx.db.writer) as uow:
        row = _get(uow.session, subscription_id)
        row.previous_secret = row.secret
        row.previous_secret_until = now + grace
        row.secret = secret
        _audit(
            uow,
            principal,
            "webhook.secret_rotated",
            now,
            subscription=str(row.id),
            grace_seconds=int(grace.total_seconds()),
        )
        uow.commit()
        return view(row, now), secret


def deliveries(
    ctx: EngineContext,
    principal: Principal,
    subscription_id: uuid.UUID,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """The delivery log, newest first, each with its attempts."""
    require(principal, ADMIN)
    with ctx.db.reader() as session:
        if session.get(WebhookSubscription, subscription_id) is None:
            raise NotFound(f"no webhook subscription {subscription_id}")
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(WebhookDelivery.seq.desc()).offset(offset).limit(limit)
        ).all()
        attempts: dict[int, list[dict[str, Any]]] = {}
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_seq.in_([r.seq for r in rows]))
            .order_by(WebhookAttempt.attempted_at)
        ):
            attempts.setdefault(attempt.delivery_seq, []).append(
                {
                    "at": attempt.attempted_at.isoformat(),
                    "status_code": attempt.status_code,
                    "latency_ms": round(attempt.latency_ms, 2),
                    "error": attempt.error,
                }
            )
        return [delivery_view(r, attempts.get(r.seq, [])) for r in rows], total


def delivery_view(row: WebhookDelivery, attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.seq,
        "message_id": row.message_id,
        "event_id": str(row.event_id),
        "subscription_id": str(row.subscription_id),
        "status": row.status,
        "attempts": attempts,
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat()
        if row.status == DeliveryStatus.PENDING
        else None,
        "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
        "last_status": row.last_status,
        "last_error": row.last_error,
    }


def _requeue(session: Session, rows: list[WebhookDelivery], now: datetime) -> None:
    # A replay is a new delivery at the back of the queue with the same webhook id, so the
    # subscription's order holds and a receiver that did get it can tell it is a repeat.
    if rows:
        session.execute(
            insert(WebhookDelivery),
            [
                {
                    "message_id": row.message_id,
                    "subscription_id": row.subscription_id,
                    "event_id": row.event_id,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for row in rows
            ],
        )


def replay(ctx: EngineContext, principal: Principal, delivery_id: int) -> int:
    require(principal, ADMIN)
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        row = uow.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        if row.status == DeliveryStatus.PENDING:
            raise Conflict(f"delivery {delivery_id} is still pending; it will be retried")
        _requeue(uow.session, [row], now)
        if row.status == DeliveryStatus.DEAD:
            row.status = DeliveryStatus.REPLAYED
        _audit(uow, principal, "webhook.replayed", now, deliveries=[delivery_id])
        uow.commit()
        return 1


def replay_dead(ctx: EngineContext, principal: Principal, subscription_id: uuid.UUID) -> int:
    """Every dead delivery of the subscription, requeued in their original order."""
    require(principal, ADMIN)
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        _get(uow.session, subscription_id)
        dead = list(
            uow.session.scalars(
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.subscription_id == subscription_id,
                    WebhookDelivery.status == DeliveryStatus.DEAD,
                )
                .order_by(WebhookDelivery.seq)
            )
        )
        _requeue(uow.session, dead, now)
        # The dead rows stay in the log as they were, marked as replayed.
        uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.seq.in_([row.seq for row in dead]))
            .values(status=DeliveryStatus.REPLAYED)
        )
        _audit(
            uow,
            principal,
            "webhook.replayed",
            now,
            subscription=str(subscription_id),
            deliveries=[row.seq for row in dead],
        )
        uow.commit()
        return len(dead)
