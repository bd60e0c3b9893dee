"""The reporter's identity, kept from whoever may not see it (DOMAIN §5.2), wherever it can
appear: task data and drafts, comments, the case file, narratives, the timeline and audit
details. Pages and exports are drawn from what these reads return, so they inherit it.

Two nets, because the identity comes in two shapes:

- by key: any field whose name says "reporter" (``reporter``, ``reporter_contact``…), at any
  depth, is replaced whole;
- by value: the reporter's name and contact as the case records them are cut out of free
  text (a comment that says "Rita called back"), whatever field the text is in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.identity import Principal
from engine.roles import INTAKE_ROLES, SUPERVISING_ROLES
from engine.tables import CasePerson

REDACTED = "[redacted]"
# Shorter identifiers ("Al", "K") would cut through ordinary words.
_SHORTEST_IDENTIFIER = 3


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
    usable = sorted(
        {i.strip() for i in identifiers or [] if len(i.strip()) >= _SHORTEST_IDENTIFIER},
        key=len,
        reverse=True,  # "Rita Reporter" before "Rita"
    )
    if not usable:
        return Redactor(hides=True)
    pattern = re.compile("|".join(re.escape(i) for i in usable), re.IGNORECASE)
    return Redactor(hides=True, identifiers=pattern)


def for_case(session: Session, principal: Principal, case_id: uuid.UUID) -> Redactor:
    """A redactor for this reader of this case: the reporter as the case records them."""
    if sees_reporter(principal):
        return SHOWS_ALL
    return for_reader(principal, reporter_identifiers(session, case_id))


def reporter_identifiers(session: Session, case_id: uuid.UUID) -> list[str]:
    identifiers: list[str] = []
    for name, details in session.execute(
        select(CasePerson.name, CasePerson.details).where(
            CasePerson.case_id == case_id, CasePerson.role == "reporter"
        )
    ):
        identifiers.append(name or "")
        identifiers += [v for k, v in (details or {}).items() if k == "contact" and v]
    return [i for i in identifiers if isinstance(i, str)]
