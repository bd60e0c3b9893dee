"""Where "now" comes from.

Every piece of casework that needs the time asks a ``Clock``. Production uses ``SystemClock``;
tests and the designer's dry run use ``ManualClock`` and move it forward instead of sleeping.
The engine adapter points SpiffWorkflow's own timer checks at the same clock, so a timer is due
exactly when casework thinks it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += delta
        return self._now

    def move_to(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("move_to needs a timezone-aware instant")
        self._now = instant.astimezone(UTC)
        return self._now
