"""Delivering the outbox: claim, POST outside any transaction, record, retry, give up.

- **Claims** take the head of each active subscription's queue (its oldest pending delivery),
  plus the deliveries right behind it, under a lease (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so any number of workers share the work). A later delivery is never claimed
  while an earlier one of the same subscription is pending, so a receiver never hears
  "case closed" before "case opened".
- **Posts** happen with no transaction open, one thread per subscription, each bounded by a
  timeout: a receiver that hangs holds up its own queue only.
- **Results** are recorded only where this worker still holds the lease; a worker that died
  mid-delivery leaves a lease that expires, and the delivery goes out again with the same
  webhook id (at least once).
- **Retries** back off exponentially with jitter over about a day, then the delivery is dead
  (and can be replayed). A receiver answering 410 Gone disables its subscription.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from engine.context import EngineContext
from engine.statuses import DeliveryStatus
from engine.storage.tables import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from engine.storage.uow import UnitOfWork
from webhooks import signing
from webhooks.transport import Outcome, Transport

# Waits between attempts: 11 attempts over about 24 hours.
BACKOFF = tuple(
    timedelta(seconds=s) for s in (10, 60, 300, 900, 1800, 3600, 7200, 14400, 21600, 36000)
)


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 10.0
    lease: timedelta = timedelta(minutes=2)
    backoff: tuple[timedelta, ...] = BACKOFF
    jitter: float = 0.2
    batch: int = 50  # deliveries of one subscription posted under one claim
    threads: int = 8  # subscriptions served at once
    tick_seconds: float = 20.0  # a tick stops claiming after this long

    @property
    def max_attempts(self) -> int:
        return len(self.backoff) + 1

    def retry_delay(self, attempts: int, rng: random.Random) -> timedelta:
        base = self.backoff[min(attempts, len(self.backoff)) - 1]
        return base * (1 + rng.uniform(-self.jitter, self.jitter))


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    disabled: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead
        self.disabled += other.disabled


@dataclass(frozen=True)
class Claimed:
    seq: int
    message_id: str
    attempts: int
    body: bytes


@dataclass(frozen=True)
class Batch:
    subscription_id: uuid.UUID
    url: str
    secrets: tuple[str, ...]
    deliveries: list[Claimed]


def wall_clock() -> datetime:
    # Signatures are stamped with the real time: receivers check them against their own clock.
    return datetime.now(UTC)


def claim(
    ctx: EngineContext,
    worker: str,
    policy: DeliveryPolicy,
    *,
    skip: frozenset[uuid.UUID] = frozenset(),
    limit: int = 8,
) -> list[Batch]:
    """Lease the queue heads of up to ``limit`` subscriptions, with what follows each head."""
    now = ctx.clock.now()
    earlier = aliased(WebhookDelivery)
    claimable = (
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
    )
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        heads_query = (
            select(WebhookDelivery.seq, WebhookDelivery.subscription_id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                *claimable,
                WebhookSubscription.active.is_(True),
                ~exists().where(
                    earlier.subscription_id == WebhookDelivery.subscription_id,
                    earlier.status == DeliveryStatus.PENDING,
                    earlier.seq < WebhookDelivery.seq,
                ),
            )
            .order_by(WebhookDelivery.seq)
            .limit(limit)
        )
        if skip:
            heads_query = heads_query.where(WebhookDelivery.subscription_id.not_in(skip))
        # Any number of workers take turns: a head one holds, the others skip (SQLite, one
        # writer at a time, renders no lock clause).
        heads_query = heads_query.with_for_update(skip_locked=True, of=WebhookDelivery)
        heads = session.execute(heads_query).all()
        if not heads:
            return []
        batches: list[Batch] = []
        for head_seq, subscription_id in heads:
            # Behind a head nothing else can be claimed (the head is pending), so no lock race.
            rows = session.execute(
                select(WebhookDelivery, OutboxEvent.payload)
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
                .where(
                    WebhookDelivery.subscription_id == subscription_id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.seq >= head_seq,
                )
                .order_by(WebhookDelivery.seq)
                .limit(policy.batch)
            ).all()
            # Only the unbroken run from the head: a delivery that is not due yet stops it, or
            # what follows would overtake it.
            claimed: list[Claimed] = []
            for row, payload in rows:
                if row.next_attempt_at > now or (row.lease_until and row.lease_until >= now):
                    break
                claimed.append(Claimed(row.seq, row.message_id, row.attempts, _body(payload)))
            run = [c.seq for c in claimed]
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.seq.in_(run))
                .values(lease_until=now + policy.lease, leased_by=worker)
            )
            subscription = session.get(WebhookSubscription, subscription_id)
            assert subscription is not None
            batches.append(
                Batch(
                    subscription_id, subscription.url, _signing_secrets(subscription, now), claimed
                )
            )
        uow.commit()
        return batches


def _signing_secrets(subscription: WebhookSubscription, now: datetime) -> tuple[str, ...]:
    if subscription.previous_secret and subscription.previous_secret_until:
        if subscription.previous_secret_until > now:
            return (subscription.secret, subscription.previous_secret)
    return (subscription.secret,)


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class Posted:
    claimed: Claimed
    outcome: Outcome
    at: datetime


def post_batch(
    batch: Batch,
    transport: Transport,
    policy: DeliveryPolicy,
    now: Callable[[], datetime],
    stamp: Callable[[], datetime] = wall_clock,
) -> list[Posted]:
    """POST in order until one fails (the rest wait behind it) or the lease runs short."""
    posted: list[Posted] = []
    started = time.monotonic()
    for claimed in batch.deliveries:
        if time.monotonic() - started > policy.lease.total_seconds() / 2:
            break
        body = claimed.body.decode()
        headers = signing.headers(batch.secrets, claimed.message_id, stamp(), body)
        outcome = transport.post(batch.url, claimed.body, headers, policy.timeout_seconds)
        posted.append(Posted(claimed, outcome, now()))
        if not outcome.delivered:
            break
    return posted


def record(
    ctx: EngineContext,
    worker: str,
    batch: Batch,
    posted: list[Posted],
    policy: DeliveryPolicy,
    rng: random.Random,
) -> DeliveryReport:
    """Write the attempts and their consequences; let go of what was not attempted."""
    report = DeliveryReport()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        mine = set(
            session.scalars(
                select(WebhookDelivery.seq).where(
                    WebhookDelivery.seq.in_([c.seq for c in batch.deliveries]),
                    WebhookDelivery.leased_by == worker,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                )
            ).all()
        )
        attempts = []
        for item in posted:
            seq = item.claimed.seq
            attempts.append(
                {
                    "id": uuid.uuid4(),
                    "delivery_seq": seq,
                    "attempted_at": item.at,
                    "status_code": item.outcome.status_code,
                    "latency_ms": item.outcome.latency_ms,
                    "error": item.outcome.error,
                }
            )
            if seq not in mine:
                continue  # the lease passed to another worker; it decides now
            tried = item.claimed.attempts + 1
            values: dict[str, Any] = {
                "attempts": tried,
                "last_status": item.outcome.status_code,
                "last_error": item.outcome.error,
                "lease_until": None,
                "leased_by": None,
            }
            if item.outcome.delivered:
                values.update(status=DeliveryStatus.DELIVERED, delivered_at=item.at)
                report.delivered += 1
            elif tried >= policy.max_attempts:
                values.update(status=DeliveryStatus.DEAD)
                report.dead += 1
            else:
                values.update(next_attempt_at=item.at + policy.retry_delay(tried, rng))
                report.retrying += 1
            session.execute(
                update(WebhookDelivery).where(WebhookDelivery.seq == seq).values(**values)
            )
            if item.outcome.status_code == 410:
                _disable(session, batch.subscription_id, item.at)
                report.disabled.append(str(batch.subscription_id))
        attempted = {item.claimed.seq for item in posted}
        untouched = [c.seq for c in batch.deliveries if c.seq in mine and c.seq not in attempted]
        if untouched:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.seq.in_(untouched))
                .values(lease_until=None, leased_by=None)
            )
        if attempts:
            session.execute(insert(WebhookAttempt), attempts)
        uow.commit()
    return report


def _disable(session: Session, subscription_id: uuid.UUID, at: datetime) -> None:
    session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id)
        .values(active=False, disabled_at=at, disabled_reason="the receiver answered 410 Gone")
    )


def deliver_due(
    ctx: EngineContext,
    *,
    worker: str,
    policy: DeliveryPolicy | None = None,
    rng: random.Random | None = None,
    stamp: Callable[[], datetime] = wall_clock,
) -> DeliveryReport:
    """One tick: serve every subscription with due deliveries, a thread each, until nothing
    is due or the tick's time is up. Returns what happened."""
    policy = policy or DeliveryPolicy()
    rng = rng or random.Random()
    report = DeliveryReport()
    started = time.monotonic()

    def serve(batch: Batch) -> tuple[Batch, list[Posted]]:
        transport = Transport()
        try:
            return batch, post_batch(batch, transport, policy, ctx.clock.now, stamp)
        finally:
            transport.close()

    in_flight: dict[Future[tuple[Batch, list[Posted]]], uuid.UUID] = {}
    with ThreadPoolExecutor(policy.threads, thread_name_prefix="webhooks") as pool:
        while True:
            free = policy.threads - len(in_flight)
            if free and time.monotonic() - started < policy.tick_seconds:
                busy = frozenset(in_flight.values())
                for batch in claim(ctx, worker, policy, skip=busy, limit=free):
                    in_flight[pool.submit(serve, batch)] = batch.subscription_id
            if not in_flight:
                return report
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                del in_flight[future]
                batch, posted = future.result()
                report.add(record(ctx, worker, batch, posted, policy, rng))
