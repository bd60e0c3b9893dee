"""The append-only audit trail: who did what, when, to which case, and which fields changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine import appends, core_writes
from engine.tables import AuditEvent

AUDIT = "audit"
_INSERT = insert(AuditEvent)


def record(
    session: Session,
    *,
    at: datetime,
    actor_id: str,
    actor_role: str | None,
    action: str,
    case_id: uuid.UUID | None = None,
    instance_id: uuid.UUID | None = None,
    task_id: uuid.UUID | None = None,
    **details: Any,
) -> None:
    row = {
        "at": at,
        "actor": actor_id,
        "actor_role": actor_role,
        "action": action,
        "case_id": case_id,
        "instance_id": instance_id,
        "task_id": task_id,
        "details": details,
    }
    # Audit rows are written, never read back: a unit of work's go with its commit (see
    # engine.appends); a session that does not queue writes a plain INSERT at once.
    if not appends.queue(session, AUDIT, row):
        core_writes.execute(session, _INSERT, [row])


def changed_fields(before: dict[str, Any], submitted: dict[str, Any]) -> list[str]:
    """The submitted fields whose value differs from what the task held before."""
    return sorted(k for k, v in submitted.items() if before.get(k, _MISSING) != v)


_MISSING = object()
