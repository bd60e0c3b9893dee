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


def _case() -> uuid.UUID | None:
    raw = request.args.get("case", "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput("case must be a case id (as in its page's address)") from None


@bp.get("/audit")
@signed_in
def audit() -> str:
    paging = requested(100)
    search = audit_log.AuditSearch(
        case_id=_case(),
        actor=request.args.get("actor") or None,
        action=request.args.get("action") or None,
        since=_day("since"),
        offset=paging.offset,
        limit=paging.per_page,
        newest_first=True,
    )
    rows, total = audit_log.audit_log(engine(), who(), search)
    return render_template("audit.html", rows=rows, paging=paging.of(total))
