"""Messages addressed to casework itself, which a process throws to change its case: close it
(ending every other phase), restrict it, record where it stands."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.errors import Conflict
from engine.spiff.definitions import HOST_MESSAGES
from engine.statuses import CaseStatus, InstanceStatus
from engine.storage import step_writes
from engine.storage.tables import ProcessInstance

if TYPE_CHECKING:
    from engine.instances.steps import Run


def _close_case(run: Run, payload: Any, origin: uuid.UUID | None) -> None:
    """``casework.close_case``: the case is closed and every other phase still running ends."""
    ctx, uow, actor, case = run.ctx, run.uow, run.actor, run.case
    session = uow.session
    now = ctx.clock.now()
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.updated_at = now
    others = session.scalars(
        select(ProcessInstance.id).where(
            ProcessInstance.case_id == case.id,
            ProcessInstance.status == InstanceStatus.ACTIVE,
            ProcessInstance.id != origin,
        )
    ).all()
    for instance_id in others:
        step_writes.cancel_instance(uow, instance_id, now)
    reason = payload.get("reason") if isinstance(payload, dict) else None
    uow.audit(
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="case.closed",
        case_id=case.id,
        instance_id=origin,
        reason=reason,
        cancelled_instances=[str(i) for i in others],
    )
    uow.publish("case.closed", now, case_id=case.id, case_number=case.case_number)


def _mark_sensitive(run: Run, payload: Any, origin: uuid.UUID | None) -> None:
    """``casework.mark_sensitive``: access to the case narrows to its assignees and the
    security group (DOMAIN §5)."""
    ctx, uow, actor, case = run.ctx, run.uow, run.actor, run.case
    now = ctx.clock.now()
    case.sensitive = True
    case.updated_at = now
    reason = payload.get("reason") if isinstance(payload, dict) else None
    uow.audit(
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="case.marked_sensitive",
        case_id=case.id,
        instance_id=origin,
        reason=reason,
    )


SETTABLE_STATUSES = frozenset({CaseStatus.SCREENED_OUT})


def _set_status(run: Run, payload: Any, origin: uuid.UUID | None) -> None:
    """``casework.set_status``: a process records where the case stands (a report screened out
    at intake is then visible to intake staff only)."""
    ctx, uow, actor, case = run.ctx, run.uow, run.actor, run.case
    status = payload.get("status") if isinstance(payload, dict) else None
    if status not in SETTABLE_STATUSES:
        raise Conflict(f"casework.set_status: {status!r} is not one of {sorted(SETTABLE_STATUSES)}")
    now = ctx.clock.now()
    case.status = status
    case.updated_at = now
    uow.audit(
        at=now,
        actor_id=actor.id,
        actor_role=actor.role,
        action="case.status_set",
        case_id=case.id,
        instance_id=origin,
        status=status,
        reason=payload.get("reason"),
    )


HOST_COMMANDS = {
    "casework.set_status": _set_status,
    "casework.close_case": _close_case,
    "casework.mark_sensitive": _mark_sensitive,
}
assert set(HOST_COMMANDS) == HOST_MESSAGES
