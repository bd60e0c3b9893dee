"""The audit trail for auditors: who did what, when, to which case; filtered, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from flask import render_template, request

from engine.errors import InvalidInput
from engine.events import audit_log
from workflows.web.paging import requested
from workflows.web.site import bp, engine, signed_in, who, zone


def _day(name: str) -> datetime | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return datetime.combine(datetime.fromisoformat(raw).date(), time(), tzinfo=zone())
    except ValueError:
        raise InvalidInput(f"{name} must be a date") from None


def _case() -> tuple[uuid.UUID | None, str | None]:
    """The case asked for: its number, as people know it (or its id, from a page's address)."""
    raw = request.args.get("case", "").strip()
    if not raw:
        return None, None
    try:
        return uuid.UUID(raw), None
    except ValueError:
        return None, raw


@bp.get("/audit")
@signed_in
def audit() -> str:
    paging = requested(100)
    case_id, case_number = _case()
    search = audit_log.AuditSearch(
        case_id=case_id,
        case_number=case_number,
        actor=request.args.get("actor") or None,
        action=request.args.get("action") or None,
        since=_day("since"),
        offset=paging.offset,
        limit=paging.per_page,
        newest_first=True,
    )
    rows, total = audit_log.audit_log(engine(), who(), search)
    return render_template("audit.html", rows=rows, paging=paging.of(total))
