"""The audit trail as auditors read it: filtered by who, what, which case and when, the
reporter redacted; a look that shows sensitive cases is itself recorded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from engine.cases import redaction
from engine.context import EngineContext
from engine.identity.access import require
from engine.identity.users import Principal
from engine.storage.tables import (
    AuditEvent,
    Case,
)
from engine.storage.uow import UnitOfWork

AUDIT_READ = "audit.read"


@dataclass(frozen=True)
class AuditSearch:
    """Which entries of the trail, and which page of them."""

    case_id: uuid.UUID | None = None
    case_number: str | None = None  # as people know a case: its number
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    offset: int = 0
    limit: int = 100
    newest_first: bool = False


def audit_log(
    ctx: EngineContext, principal: Principal, search: AuditSearch
) -> tuple[list[dict[str, Any]], int]:
    require(principal, "auditor")
    query = select(AuditEvent)
    conditions = []
    if search.case_id:
        conditions.append(AuditEvent.case_id == search.case_id)
    if search.case_number:
        conditions.append(
            AuditEvent.case_id.in_(
                select(Case.id).where(Case.case_number == search.case_number.strip().upper())
            )
        )
    if search.actor:
        conditions.append(AuditEvent.actor == search.actor)
    if search.action:
        conditions.append(AuditEvent.action == search.action)
    if search.since:
        conditions.append(AuditEvent.at >= search.since)
    if search.until:
        conditions.append(AuditEvent.at < search.until)
    if conditions:
        query = query.where(and_(*conditions))
    with ctx.db.reader() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = AuditEvent.id.desc() if search.newest_first else AuditEvent.id
        rows = session.scalars(
            query.order_by(order).offset(search.offset).limit(search.limit)
        ).all()
        named = sorted({r.case_id for r in rows if r.case_id is not None})
        redactors = redaction.for_cases(session, principal, named)
        no_case = redaction.for_reader(principal)  # entries about no case name no reporter
        sensitive = session.scalars(
            select(Case.id).where(Case.id.in_(named), Case.sensitive.is_(True))
        ).all()
        numbers = dict(
            session.execute(select(Case.id, Case.case_number).where(Case.id.in_(named))).all()
        )
    if sensitive:
        # One entry for the look at the trail, naming the sensitive cases it showed, and not
        # in their own trails: there it would be shown by the next look, and audited again.
        _audit_trail_read(ctx, principal, sorted(sensitive))
    return [
        {
            "id": r.id,
            "at": r.at.isoformat(),
            "actor": r.actor,
            "actor_role": r.actor_role,
            "action": r.action,
            "case_id": str(r.case_id) if r.case_id else None,
            "case_number": numbers.get(r.case_id) if r.case_id else None,
            "instance_id": str(r.instance_id) if r.instance_id else None,
            "task_id": str(r.task_id) if r.task_id else None,
            "details": (redactors[r.case_id] if r.case_id else no_case).value(r.details or {}),
        }
        for r in rows
    ], total


def _audit_trail_read(ctx: EngineContext, principal: Principal, cases: list[uuid.UUID]) -> None:
    with UnitOfWork(ctx.db.writer) as uow:
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action=AUDIT_READ,
            sensitive_cases=[str(case_id) for case_id in cases],
        )
        uow.commit()
