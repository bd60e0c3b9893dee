"""What retention has due, and doing it: ``casework retention`` and the worker's daily run.

Each kind of work goes in batches, each batch one unit of work (its changes and its audit
rows commit together), so a long first run holds no lock for long and a run stopped halfway
has done whole batches only. Who acts is the system; the audit rows say what, how many and
on which cases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine.context import SYSTEM, Actor, EngineContext
from engine.retention import compaction, expunction, outbox, periods
from engine.storage import audit_partitions
from engine.storage.uow import UnitOfWork


@dataclass(frozen=True)
class RetentionPolicy:
    # Delivered webhook rows are kept this long after delivery (None: kept for good).
    outbox_keep: timedelta | None = timedelta(days=30)
    batch: int = 200


@dataclass(frozen=True)
class Due:
    """What a run would do now."""

    instances_to_compact: int
    cases_to_expunge: int
    deliveries_to_prune: int
    events_to_prune: int
    audit: audit_partitions.Partitions

    def as_dict(self) -> dict[str, Any]:
        return {
            "instances_to_compact": self.instances_to_compact,
            "cases_to_expunge": self.cases_to_expunge,
            "outbox_deliveries_to_prune": self.deliveries_to_prune,
            "outbox_events_to_prune": self.events_to_prune,
            "audit_partitions": {
                "partitioned": self.audit.partitioned,
                "months": len(self.audit.months),
                "to_create": list(self.audit.missing),
                "rows_in_default": self.audit.in_default,
            },
        }


@dataclass
class Done:
    """What a run did."""

    instances_compacted: int = 0
    cases_expunged: int = 0
    deliveries_pruned: int = 0
    events_pruned: int = 0
    partitions_created: list[str] = field(default_factory=list)
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "instances_compacted": self.instances_compacted,
            "cases_expunged": self.cases_expunged,
            "outbox_deliveries_pruned": self.deliveries_pruned,
            "outbox_events_pruned": self.events_pruned,
            "audit_partitions_created": self.partitions_created,
            "batches": self.batches,
        }


def due(ctx: EngineContext, policy: RetentionPolicy) -> Due:
    """Counts of what is due, read in one snapshot; nothing is changed."""
    now = ctx.clock.now()
    with ctx.db.reader() as session:
        profiles = periods.profiles(ctx, session)
        pruned = (
            outbox.count_due(session, now - policy.outbox_keep)
            if policy.outbox_keep is not None
            else outbox.Pruned()
        )
        return Due(
            compaction.count_due(session, profiles, now),
            expunction.count_due(session, profiles, now),
            pruned.deliveries,
            pruned.events,
            audit_partitions.survey(session.connection(), now),
        )


def perform(ctx: EngineContext, policy: RetentionPolicy, actor: Actor = SYSTEM) -> Done:
    done = Done()
    _create_partitions(ctx, actor, done)
    while _expunge(ctx, policy, actor, done):
        pass
    while _compact(ctx, policy, actor, done):
        pass
    if policy.outbox_keep is not None:
        while _prune(ctx, policy, actor, done):
            pass
    return done


def _create_partitions(ctx: EngineContext, actor: Actor, done: Done) -> None:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        created = audit_partitions.create_upcoming(uow.session.connection(), now)
        if not created:
            return
        uow.audit(
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="retention.audit_partitions_created",
            partitions=created,
        )
        uow.commit()
    done.partitions_created += created
    done.batches += 1


def _expunge(ctx: EngineContext, policy: RetentionPolicy, actor: Actor, done: Done) -> bool:
    """One batch; whether another may be due."""
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        profiles = periods.profiles(ctx, uow.session)
        expunged = expunction.expunge_batch(uow.session, profiles, now, policy.batch)
        if not expunged:
            return False
        for case in expunged:
            # One entry per case, in its own trail: expunction is an act on that record.
            uow.audit(
                at=now,
                actor_id=actor.id,
                actor_role=actor.role,
                action="case.expunged",
                case_id=case.case_id,
                finding=case.finding,
                reason="unsubstantiated report: out of public and background-check use",
            )
            uow.publish(
                "case.expunged",
                now,
                case_id=case.case_id,
                case_number=case.case_number,
                expunged_at=now.isoformat(),
            )
        uow.commit()
    done.cases_expunged += len(expunged)
    done.batches += 1
    return len(expunged) == policy.batch


def _compact(ctx: EngineContext, policy: RetentionPolicy, actor: Actor, done: Done) -> bool:
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        profiles = periods.profiles(ctx, uow.session)
        compacted = compaction.compact_batch(ctx, uow.session, profiles, policy.batch)
        if not compacted:
            return False
        by_case: dict[uuid.UUID, list[compaction.Compacted]] = {}
        for one in compacted:
            by_case.setdefault(one.case_id, []).append(one)
        for case_id, ones in by_case.items():
            # One entry per case, in its own trail: what of that record was given up.
            uow.audit(
                at=now,
                actor_id=actor.id,
                actor_role=actor.role,
                action="retention.engine_state_compacted",
                case_id=case_id,
                instances=len(ones),
                instance_ids=[str(c.instance_id) for c in ones],
                paths_not_kept=[str(c.instance_id) for c in ones if not c.path_kept],
            )
        uow.commit()
    done.instances_compacted += len(compacted)
    done.batches += 1
    return len(compacted) == policy.batch


def _prune(ctx: EngineContext, policy: RetentionPolicy, actor: Actor, done: Done) -> bool:
    assert policy.outbox_keep is not None
    now = ctx.clock.now()
    before = now - policy.outbox_keep
    with UnitOfWork(ctx.db.writer) as uow:
        pruned = outbox.prune_batch(uow.session, before, policy.batch)
        if not pruned.deliveries and not pruned.events:
            return False
        uow.audit(
            at=now,
            actor_id=actor.id,
            actor_role=actor.role,
            action="retention.outbox_pruned",
            deliveries=pruned.deliveries,
            events=pruned.events,
            delivered_before=before.isoformat(),
        )
        uow.commit()
    done.deliveries_pruned += pruned.deliveries
    done.events_pruned += pruned.events
    done.batches += 1
    # Events go once their deliveries have gone: another batch may find some.
    return True
