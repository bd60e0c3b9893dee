"""Soft expunction of unsubstantiated reports (DOMAIN §5 rule 5).

A closed case whose finding was unsubstantiated is taken out of anything public or used for
employment and background checks; it stays in the case file, for the risk assessments of later
reports. So nothing is deleted: the case records when it was expunged, the record says so, and
other systems (a central registry that answers background checks) hear ``case.expunged``.

Which finding counts is the jurisdiction's: its profile names the decision table output that
holds the finding and the values that are unsubstantiated; the newest decision giving that
output (an amended one as amended) is the case's finding.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.deadlines.profiles import Expunction, Profile
from engine.retention.periods import due_before
from engine.statuses import CaseStatus
from engine.storage.tables import Case, RecordEntry

DECISION = "decision"


@dataclass(frozen=True)
class Expunged:
    case_id: uuid.UUID
    case_number: str
    finding: str


def finding_of(output: str) -> Select[str | None]:
    """The case's finding: the output of its newest decision that gave one, unless amended."""
    found = RecordEntry.data[("outputs", output)].as_string()
    amending = aliased(RecordEntry)
    return (
        select(found)
        .where(
            RecordEntry.case_id == Case.id,
            RecordEntry.kind == DECISION,
            found.is_not(None),
            ~exists().where(amending.amends_id == RecordEntry.id),
        )
        .order_by(RecordEntry.occurred_at.desc(), RecordEntry.entered_at.desc())
        .limit(1)
    )


def _rule(profile_id: str, rule: Expunction, now: datetime) -> ColumnElement[bool]:
    finding = finding_of(rule.decision_output).scalar_subquery()
    return (
        (Case.profile_id == profile_id)
        & (Case.closed_at <= due_before(now, rule.after))
        & finding.in_(sorted(rule.unsubstantiated))
    )


def due(profiles: dict[str, Profile], now: datetime) -> Select[uuid.UUID] | None:
    """Closed cases due to be expunged, by jurisdiction (None when none expunges)."""
    rules = [
        _rule(profile_id, rule, now)
        for profile_id, profile in sorted(profiles.items())
        if (rule := profile.retention.expunction) is not None
    ]
    if not rules:
        return None
    return select(Case.id).where(
        Case.status == CaseStatus.CLOSED,
        Case.closed_at.is_not(None),
        Case.expunged_at.is_(None),
        or_(*rules),
    )


def count_due(session: Session, profiles: dict[str, Profile], now: datetime) -> int:
    query = due(profiles, now)
    if query is None:
        return 0
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def expunge_batch(
    session: Session, profiles: dict[str, Profile], now: datetime, limit: int
) -> list[Expunged]:
    query = due(profiles, now)
    if query is None:
        return []
    done = []
    for case_id in session.scalars(query.order_by(Case.id).limit(limit)).all():
        case = session.get(Case, case_id, with_for_update=True, populate_existing=True)
        if case is None or case.expunged_at is not None:
            continue
        rule = profiles[case.profile_id].retention.expunction
        assert rule is not None  # the query took only cases of jurisdictions that expunge
        finding = session.scalar(finding_of(rule.decision_output).where(Case.id == case.id))
        case.expunged_at = now
        case.updated_at = now
        done.append(Expunged(case.id, case.case_number, str(finding)))
    session.flush()
    return done
