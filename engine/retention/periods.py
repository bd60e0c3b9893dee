"""A retention period as a moment: what ended before it is due."""

from __future__ import annotations

from datetime import datetime

import isodate
from sqlalchemy.orm import Session

from engine.cases import jurisdictions
from engine.context import EngineContext
from engine.deadlines.profiles import Profile


def due_before(now: datetime, period: str) -> datetime:
    """Now less a profile's ISO 8601 period (months and years counted on the calendar):
    a case closed before this moment has kept its things for the whole period."""
    moment: datetime = now - isodate.parse_duration(period)
    return moment


def profiles(ctx: EngineContext, session: Session) -> dict[str, Profile]:
    """Each deployed jurisdiction's profile as its newest work has it: retention law as it
    stands now applies to old cases too."""
    return jurisdictions.deployed(ctx, session)
