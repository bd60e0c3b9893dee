"""The reporter's identity, kept from whoever may not see it (DOMAIN §5.2), wherever it can
appear: task data and drafts, comments, the case file, narratives, the timeline and audit
details. Pages and exports are drawn from what these reads return, so they inherit it.

Two nets, because the identity comes in two shapes:

- by key: any field whose name says "reporter" (``reporter``, ``reporter_contact``…), at any
  depth, is replaced whole;
- by value: the reporter's name (whole, and each of its words) and contact (a telephone
  number however it is written) as the case records them are cut out of free text (a comment
  that says "Rita called back on 555 0100"), whatever field the text is in. The case records
  the reporter from the hotline report and from the intake form (``note_reporter``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.identity.roles import INTAKE_ROLES, SUPERVISING_ROLES
from engine.identity.users import Principal
from engine.storage.tables import CasePerson

REDACTED = "[redacted]"
# Shorter names ("Al", "K") would cut through ordinary words; shorter numbers through dates.
_SHORTEST_IDENTIFIER = 3
_SHORTEST_NUMBER = 6


def sees_reporter(principal: Principal) -> bool:
    return bool(principal.roles & (INTAKE_ROLES | SUPERVISING_ROLES))


@dataclass(frozen=True)
class Redactor:
    """What one reader may see of one case's data: ``hides`` is False for those who may see
    the reporter, and everything passes unchanged."""

    hides: bool
    identifiers: re.Pattern[str] | None = None

    def value(self, value: Any) -> Any:
        """``value`` (a dict, list, string or scalar, at any depth) with the reporter cut."""
        if not self.hides:
            return value
        if isinstance(value, dict):
            return {
                key: REDACTED if _names_reporter(key) else self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def text(self, text: str) -> str:
        if not self.hides or self.identifiers is None:
            return text
        return self.identifiers.sub(REDACTED, text)


SHOWS_ALL = Redactor(hides=False)


def _names_reporter(key: Any) -> bool:
    return isinstance(key, str) and "reporter" in key.lower()


def for_reader(principal: Principal, identifiers: list[str] | None = None) -> Redactor:
    """A redactor for this reader; ``identifiers`` are the strings to cut out of free text."""
    if sees_reporter(principal):
        return SHOWS_ALL
    return _hiding(identifiers or [])


def for_case(session: Session, principal: Principal, case_id: uuid.UUID) -> Redactor:
    """A redactor for this reader of this case: the reporter as the case records them. A
    case opened by breaking the glass hides the reporter whatever the reader's roles: the
    grant is for the child's safety, not for the reporter's name."""
    return for_cases(session, principal, [case_id])[case_id]


def for_cases(
    session: Session, principal: Principal, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Redactor]:
    """``for_case`` for several cases (a page of a list), in one query."""
    hiding = [c for c in case_ids if not sees_reporter(principal) or c in principal.emergency_cases]
    found = _reporters(session, hiding)
    return {c: _hiding(found[c]) if c in found else SHOWS_ALL for c in case_ids}


def for_outsider(session: Session, case_id: uuid.UUID) -> Redactor:
    """What leaves the agency (a referral to a partner agency): the reporter always cut."""
    return _hiding(_reporters(session, [case_id])[case_id])


def _reporters(session: Session, hiding: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each case's reporter identifiers: names, contacts, what forms recorded them as."""
    found: dict[uuid.UUID, list[str]] = {case_id: [] for case_id in hiding}
    if hiding:
        for case_id, name, details in session.execute(
            select(CasePerson.case_id, CasePerson.name, CasePerson.details).where(
                CasePerson.case_id.in_(hiding), CasePerson.role == "reporter"
            )
        ):
            found[case_id] += [name or "", *_contacts(details)]
    return found


def _contacts(details: Any) -> list[str]:
    """The contact, and whatever else a form recorded the reporter as (cases.note_reporter)."""
    if not isinstance(details, dict):
        return []
    said = [details.get("contact"), *details.get("recorded_as", [])]
    return [s for s in said if isinstance(s, str)]


def _hiding(identifiers: list[str]) -> Redactor:
    """A redactor that cuts these identifiers out of free text: a name whole and each of its
    words (as whole words: "Rita" called back, "Ms Reporter"), and a telephone number however
    its digits are spaced or punctuated."""
    patterns: set[str] = set()
    for identifier in (i.strip() for i in identifiers):
        digits = re.sub(r"\D", "", identifier)
        if len(digits) >= _SHORTEST_NUMBER:
            patterns.add(r"\D?".join(digits))
        words = [identifier, *identifier.split()]
        patterns |= {
            rf"\b{re.escape(word)}\b" for word in words if len(word) >= _SHORTEST_IDENTIFIER
        }
    if not patterns:
        return Redactor(hides=True)
    ordered = sorted(patterns, key=len, reverse=True)  # "Rita Reporter" before "Rita"
    return Redactor(hides=True, identifiers=re.compile("|".join(ordered), re.IGNORECASE))


def note_reporter(session: Session, case_id: uuid.UUID, recorded: Any) -> None:
    """The reporter as a form recorded them (the hotline form's ``reporter``): kept on the
    case's reporter, so that whatever name or number the screener typed is redacted from
    everyone who may not see it, wherever it shows up later."""
    if not isinstance(recorded, dict):
        return
    said = [recorded.get(k) for k in ("name", "contact")]
    said = [s.strip() for s in said if isinstance(s, str) and s.strip()]
    if not said:
        return
    reporter = session.scalar(
        select(CasePerson).where(CasePerson.case_id == case_id, CasePerson.role == "reporter")
    )
    if reporter is None:
        session.add(
            CasePerson(
                id=uuid.uuid4(),
                case_id=case_id,
                role="reporter",
                name=recorded.get("name") or None,
                details={k: v for k, v in recorded.items() if k != "name"},
            )
        )
        return
    known = {reporter.name or "", *(reporter.details or {}).get("recorded_as", [])}
    known.add((reporter.details or {}).get("contact", ""))
    new = [s for s in said if s not in known]
    if new:
        details = dict(reporter.details or {})
        details["recorded_as"] = [*details.get("recorded_as", []), *new]
        reporter.details = details
