"""The append-only audit trail: who did what, when, to which case, and which fields changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine import core_writes
from engine.tables import AuditEvent

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
    # A plain INSERT (no ORM object): audit rows are written, never read back. One statement
    # object for every call: it is compiled once, not built again each time.
    core_writes.execute(
        session,
        _INSERT,
        [
            {
                "at": at,
                "actor": actor_id,
                "actor_role": actor_role,
                "action": action,
                "case_id": case_id,
                "instance_id": instance_id,
                "task_id": task_id,
                "details": details,
            }
        ],
    )


def changed_fields(before: dict[str, Any], submitted: dict[str, Any]) -> list[str]:
    """The submitted fields whose value differs from what the task held before."""
    return sorted(k for k, v in submitted.items() if before.get(k, _MISSING) != v)


_MISSING = object()
