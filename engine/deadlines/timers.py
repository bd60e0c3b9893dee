"""Firing due timers: claim, fire each in its own unit of work, retry, or open an incident.

The ``timers`` table is the source of truth, written in the same transaction as the engine
state. A worker leases due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of
workers share the work; SQLite runs one poller), then fires each timer under its instance's row
lock. A timer fires exactly once: its row leaves ``pending`` in the same commit as the engine
state that consumed it, and a worker that finds it no longer pending or no longer its own does
nothing. Timers that came due while nothing ran are simply due rows at the next poll.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from engine.cases import referrals
from engine.context import SYSTEM, EngineContext
from engine.deadlines.alerts import raise_due_alerts
from engine.errors import Conflict, EngineError, NotFound, ScriptFailed
from engine.identity import emergency
from engine.instances import steps
from engine.statuses import InstanceStatus, TimerStatus
from engine.storage.tables import Case, Incident, ProcessInstance, Timer
from engine.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimerPolicy:
    batch: int = 50
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 5
    first_retry: timedelta = timedelta(seconds=30)
    longest_retry: timedelta = timedelta(hours=1)
    not_yet_delay: timedelta = timedelta(seconds=1)

    def backoff(self, attempts: int) -> timedelta:
        return min(self.first_retry * 2 ** max(attempts - 1, 0), self.longest_retry)


@dataclass
class FireReport:
    fired: int = 0
    not_yet: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    alerts: int = 0
    errors: list[str] = field(default_factory=list)


def fire_due_timers(
    ctx: EngineContext,
    *,
    worker: str,
    policy: TimerPolicy | None = None,
    max_rounds: int | None = None,
) -> FireReport:
    """Fire every timer that is due now, then raise every ladder alert that is due."""
    policy = policy or TimerPolicy()
    report = FireReport()
    rounds = 0
    seen: set[uuid.UUID] = set()
    while max_rounds is None or rounds < max_rounds:
        rounds += 1
        claimed = [t for t in _claim(ctx, worker, policy) if t not in seen]
        if not claimed:
            break
        seen.update(claimed)
        for timer_id in claimed:
            _fire_one(ctx, worker, timer_id, policy, report)
    report.alerts = (
        raise_due_alerts(ctx, worker=worker)
        + emergency.send_due_notices(ctx)
        + referrals.raise_unanswered(ctx)
    )
    return report


def _claim(ctx: EngineContext, worker: str, policy: TimerPolicy) -> list[uuid.UUID]:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        due = (
            select(Timer.id)
            .where(
                Timer.status == TimerStatus.PENDING,
                Timer.due_at <= now,
                (Timer.next_attempt_at.is_(None)) | (Timer.next_attempt_at <= now),
                (Timer.claimed_until.is_(None)) | (Timer.claimed_until < now),
            )
            .order_by(Timer.due_at)
            .limit(policy.batch)
            .with_for_update(skip_locked=True)
        )
        ids = list(
            uow.session.scalars(
                update(Timer)
                .where(Timer.id.in_(due.scalar_subquery()))
                .values(claimed_by=worker, claimed_until=now + policy.lease)
                .returning(Timer.id)
            )
        )
        uow.commit()
    return ids


# The timer, its instance and its case in one read that locks the timer and the instance
# (FOR UPDATE on PostgreSQL; the SQLite writer's BEGIN IMMEDIATE already serializes).
_TIMER_TO_FIRE = (
    select(Timer, ProcessInstance, Case)
    .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
    .join(Case, Case.id == ProcessInstance.case_id)
    .where(Timer.id == bindparam("timer_id"))
    .with_for_update(of=[Timer, ProcessInstance])
    .execution_options(populate_existing=True)
)


def _fire_one(
    ctx: EngineContext, worker: str, timer_id: uuid.UUID, policy: TimerPolicy, report: FireReport
) -> None:
    try:
        with UnitOfWork(ctx.db.writer) as uow:
            found = uow.session.execute(_TIMER_TO_FIRE, {"timer_id": timer_id}).first()
            if found is None:
                report.skipped += 1
                return
            timer, instance, case = found
            if timer.status != TimerStatus.PENDING or timer.claimed_by != worker:
                report.skipped += 1  # fired with its instance's other timers, or re-leased
                return
            expect = (timer.task_id, timer.due_at)
            if instance.status != InstanceStatus.ACTIVE:
                outcome = "ended"
            else:
                outcome = steps.fire_timers_on(ctx, uow, SYSTEM, instance, case, expect=expect)
            if outcome == "ended":
                # Its instance already ended (cancelled, say): this row can never fire.
                timer.status = TimerStatus.CANCELLED
                timer.claimed_until = None
                report.skipped += 1
            elif outcome == "not yet":
                # The engine's own clock says "not yet" (skew): keep it pending and look
                # again a moment later, without counting an attempt.
                timer.claimed_until = None
                timer.next_attempt_at = ctx.clock.now() + policy.not_yet_delay
                report.not_yet += 1
            else:
                uow.audit(
                    at=ctx.clock.now(),
                    actor_id=SYSTEM.id,
                    actor_role=SYSTEM.role,
                    action="timer.fired",
                    case_id=timer.case_id,
                    instance_id=timer.instance_id,
                    timer=timer.bpmn_id,
                    due_at=timer.due_at.isoformat(),
                )
                uow.publish(
                    "timer.fired",
                    ctx.clock.now(),
                    case_id=timer.case_id,
                    instance_id=timer.instance_id,
                    element_id=timer.bpmn_id,
                    due_at=timer.due_at,
                )
                report.fired += 1
            uow.commit()
    except EngineError as exc:
        _retry_or_fail(ctx, timer_id, exc, policy, report)


def _retry_or_fail(
    ctx: EngineContext,
    timer_id: uuid.UUID,
    error: EngineError,
    policy: TimerPolicy,
    report: FireReport,
) -> None:
    """Record a failed run in its own short transaction (the run itself was rolled back)."""
    now = ctx.clock.now()
    text = error.describe() if isinstance(error, ScriptFailed) else error.message
    with UnitOfWork(ctx.db.writer) as uow:
        timer = uow.session.get(Timer, timer_id, with_for_update=True)
        if timer is None or timer.status != TimerStatus.PENDING:
            return
        timer.attempts += 1
        timer.last_error = text
        timer.claimed_until = None
        if timer.attempts >= policy.max_attempts:
            timer.status = TimerStatus.FAILED
            uow.session.add(
                Incident(
                    id=uuid.uuid4(),
                    kind="timer_failed",
                    case_id=timer.case_id,
                    instance_id=timer.instance_id,
                    timer_id=timer.id,
                    element_id=timer.bpmn_id,
                    error=text,
                    attempts=timer.attempts,
                    opened_at=now,
                )
            )
            uow.audit(
                at=now,
                actor_id=SYSTEM.id,
                actor_role=SYSTEM.role,
                action="incident.opened",
                case_id=timer.case_id,
                instance_id=timer.instance_id,
                timer=timer.bpmn_id,
                error=text,
            )
            report.failed += 1
            log.error("timer %s of case %s failed for good: %s", timer.id, timer.case_id, text)
        else:
            timer.next_attempt_at = now + policy.backoff(timer.attempts)
            report.retried += 1
            log.warning("timer %s failed (attempt %d): %s", timer.id, timer.attempts, text)
        report.errors.append(text)
        uow.commit()


def retry_incident(ctx: EngineContext, incident_id: uuid.UUID, actor_id: str) -> None:
    """An administrator fixed the cause: put the timer back in the queue."""
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        incident = uow.session.get(Incident, incident_id, with_for_update=True)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if incident.resolved_at is not None:
            raise Conflict(f"incident {incident_id} is already resolved")
        if incident.timer_id is not None:
            uow.session.execute(
                update(Timer)
                .where(Timer.id == incident.timer_id, Timer.status == TimerStatus.FAILED)
                .values(
                    status=TimerStatus.PENDING, attempts=0, next_attempt_at=None, claimed_until=None
                )
            )
        incident.resolved_at = now
        incident.resolved_by = actor_id
        uow.audit(
            at=now,
            actor_id=actor_id,
            actor_role="administrator",
            action="incident.retried",
            case_id=incident.case_id,
            instance_id=incident.instance_id,
        )
        uow.commit()
