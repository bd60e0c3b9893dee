"""The append-only audit trail: who did what, when, to which case, and which fields changed.

Entries are queued on the unit of work (``UnitOfWork.audit``) and written by its commit."""

from __future__ import annotations

from typing import Any


def changed_fields(before: dict[str, Any], submitted: dict[str, Any]) -> list[str]:
    """The submitted fields whose value differs from what the task held before."""
    return sorted(k for k, v in submitted.items() if before.get(k, _MISSING) != v)


_MISSING = object()
