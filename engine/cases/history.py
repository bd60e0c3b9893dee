"""Prior history: the children and adults of a report matched against earlier cases and reports,
so that the screener sees "Lia Moreno (3) — case 2024-7F3A, closed 2024-11-02, physical abuse:
reason to believe" before deciding, and a second report on the same child says so.

A match says why it was made (same name and date of birth; a name 92% alike with the same
date of birth; the same name and address; linked by a screener). People a screener links
share one person key, and so are one person across their cases; a link can be undone.

Matches stay within the access rules: a restricted (sensitive) case is shown only as "a
restricted case" to those who may not read it (no name, no id to link). Every look is audited
on the case searched from (how many matches; the cases themselves are not named there, where
the case's other readers would see them), and each restricted case shown is audited as read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.cases.reads import audit_reads, reading_case
from engine.context import EngineContext
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity.access import readable_case, supervises
from engine.identity.roles import INTAKE_ROLES
from engine.identity.users import Principal
from engine.storage.tables import Allegation, Case, CasePerson
from engine.storage.uow import UnitOfWork

# How alike two names must be (difflib's ratio, 0..1) to count with the same date of birth.
NAME_LIKENESS = 0.85
REPORTER = "reporter"
CANDIDATES = 50  # per way of being alike, the newest first


def prior_history(
    ctx: EngineContext, principal: Principal, case_id: uuid.UUID
) -> list[dict[str, Any]]:
    """For each person of the case (the reporter aside), the earlier cases they may be in."""
    with reading_case(ctx, principal, case_id, "prior history") as (session, case):
        people = session.scalars(
            select(CasePerson)
            .where(CasePerson.case_id == case.id, CasePerson.role != REPORTER)
            .order_by(CasePerson.role, CasePerson.name)
        ).all()
        found: list[dict[str, Any]] = [
            {
                "person_id": str(person.id),
                "name": person.name,
                "role": person.role,
                "birth_date": person.birth_date.isoformat() if person.birth_date else None,
                "matches": [
                    _shown(session, principal, match) for match in _matches(session, person)
                ],
            }
            for person in people
        ]
    # The searched case's trail says a search was made (not what it found: other readers of
    # this case may not know of those cases); a restricted case shown is audited as read.
    with UnitOfWork(ctx.db.writer) as uow:
        uow.audit(
            at=ctx.clock.now(),
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="history.searched",
            case_id=case_id,
            matches=sum(len(p["matches"]) for p in found),
        )
        uow.commit()
    watched_cases = sorted(
        {uuid.UUID(m["case_id"]) for p in found for m in p["matches"] if m.get("sensitive")}
    )
    if watched_cases:
        audit_reads(ctx, principal, watched_cases, "prior history")
    return found


@dataclass(frozen=True)
class Match:
    person: CasePerson
    case: Case
    reason: str
    linked: bool


def _matches(session: Session, person: CasePerson) -> list[Match]:
    name = (person.name or "").strip().lower()
    if not name and person.birth_date is None and person.person_key is None:
        return []
    # Each way of being alike is looked up on its own, so that many people sharing a birth
    # date cannot crowd out an exact name.
    alike = [func.lower(CasePerson.name) == name] if name else []
    if person.birth_date is not None:
        alike.append(CasePerson.birth_date == person.birth_date)
    if person.person_key is not None:
        alike.append(CasePerson.person_key == person.person_key)
    seen: set[uuid.UUID] = set()
    rows = []
    for condition in alike:
        for other, case in session.execute(
            select(CasePerson, Case)
            .join(Case, Case.id == CasePerson.case_id)
            .where(CasePerson.case_id != person.case_id, CasePerson.role != REPORTER, condition)
            .order_by(Case.opened_at.desc())
            .limit(CANDIDATES)
        ).all():
            if other.id not in seen:
                seen.add(other.id)
                rows.append((other, case))
    matches = []
    for other, case in rows:
        reason = _why(person, other)
        if reason is not None:
            linked = person.person_key is not None and other.person_key == person.person_key
            matches.append(Match(other, case, reason, linked))
    return matches


def _why(person: CasePerson, other: CasePerson) -> str | None:
    """Why ``other`` may be ``person``, in words; None when they are not alike enough."""
    if person.person_key is not None and other.person_key == person.person_key:
        return "linked as the same person"
    mine, theirs = (person.name or "").strip().lower(), (other.name or "").strip().lower()
    same_address = _address(person) is not None and _address(person) == _address(other)
    if person.birth_date is not None and person.birth_date == other.birth_date:
        if mine == theirs:
            return "same name and date of birth"
        likeness = SequenceMatcher(None, mine, theirs).ratio()
        if likeness >= NAME_LIKENESS:
            return f"same date of birth, name {round(likeness * 100)}% alike"
        if same_address:
            return "same date of birth and address"
        return None
    if mine and mine == theirs:
        if same_address:
            return "same name and address"
        if person.birth_date is None or other.birth_date is None:
            return "same name; a date of birth is not known"
    return None


def _address(person: CasePerson) -> str | None:
    raw = (person.details or {}).get("address")
    return " ".join(str(raw).lower().split()) if raw else None


def _shown(session: Session, principal: Principal, match: Match) -> dict[str, Any]:
    case = match.case
    readable = True
    if case.sensitive:
        try:
            readable_case(session, principal, case.id)
        except NotFound:
            readable = False
    if not readable:
        # Only that such a case exists: nothing of its people, not even an id to link to.
        return {
            "person_id": None,
            "case_number": None,
            "restricted": True,
            "reason": match.reason,
            "linked": match.linked,
        }
    findings = session.execute(
        select(Allegation.maltreatment_type, Allegation.disposition).where(
            Allegation.case_id == case.id, Allegation.victim_id == match.person.id
        )
    ).all()
    return {
        "person_id": str(match.person.id),
        "name": match.person.name,
        "role": match.person.role,
        "case_id": str(case.id),
        "case_number": case.case_number,
        "status": case.status,
        "opened_at": case.opened_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        # An expunged (unsubstantiated) report still informs the risk assessment; it is shown
        # as such, and never for a background check.
        "expunged": case.expunged_at is not None,
        "allegations": [{"type": t, "disposition": d} for t, d in findings],
        "restricted": False,
        "sensitive": case.sensitive,
        "reason": match.reason,
        "linked": match.linked,
    }


@dataclass(frozen=True)
class Link:
    case_id: uuid.UUID
    person_id: uuid.UUID
    other_person_id: uuid.UUID
    linked: bool


def link(ctx: EngineContext, principal: Principal, change: Link) -> dict[str, Any]:
    """A screener (or the case's supervisor) says a suggested match is, or is not, the same
    person. Linked people share a key; unlinking gives the other person a key of their own."""
    now = ctx.clock.now()
    with UnitOfWork(ctx.db.writer) as uow:
        session = uow.session
        case = readable_case(session, principal, change.case_id)
        if not (principal.roles & INTAKE_ROLES or supervises(session, principal, case)):
            raise Forbidden("linking people is for intake staff and the case's supervisor")
        person = session.get(CasePerson, change.person_id)
        other = session.get(CasePerson, change.other_person_id)
        if person is None or person.case_id != case.id:
            raise NotFound(f"no person {change.person_id} in this case")
        if other is None or other.case_id == case.id or other.role == REPORTER:
            raise InvalidInput("link a person of another case")
        other_case = session.get(Case, other.case_id)
        if other_case is not None and other_case.sensitive:
            readable_case(session, principal, other_case.id, "link a person of another case")
        if change.linked:
            if _why(person, other) is None:
                raise InvalidInput("these two are not a suggested match: nothing links them")
            key = person.person_key or other.person_key or uuid.uuid4()
            for row in (person, other):
                if row.person_key not in (None, key):
                    # Everyone already linked to either is the same person too.
                    session.execute(
                        update(CasePerson)
                        .where(CasePerson.person_key == row.person_key)
                        .values(person_key=key)
                        .execution_options(synchronize_session=False)
                    )
                row.person_key = key
        elif person.person_key is not None and other.person_key == person.person_key:
            other.person_key = uuid.uuid4()
        uow.audit(
            at=now,
            actor_id=principal.id,
            actor_role=principal.actor.role,
            action="person.linked" if change.linked else "person.unlinked",
            case_id=case.id,
            person=str(person.id),
            other_person=str(other.id),
            other_case=str(other.case_id),
        )
        result = {
            "person_id": str(person.id),
            "other_person_id": str(other.id),
            "linked": change.linked,
            "person_key": str(person.person_key) if person.person_key else None,
        }
        uow.commit()
    return result
