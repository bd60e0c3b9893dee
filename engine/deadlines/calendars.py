"""Business calendars: which local dates are working days in a jurisdiction.

Holidays come from the ``holidays`` package (a country and optional subdivision), adjusted by
the profile's own lists of extra closures and holidays it does not observe. Day-based rules
count local calendar dates in the profile's time zone (DESIGN.md, Configuration).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

_MONDAY = 0
_SATURDAY = 5


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str
    country: str | None = None
    subdivision: str | None = None
    extra_closures: tuple[date, ...] = ()
    not_observed: tuple[str, ...] = field(default=())

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if self.country is None:
            return None
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_closures:
            return "agency closure"
        if self._holidays is None:
            return None
        names = self._holidays.get_list(day)
        observed = [n for n in names if n not in self.not_observed]
        return "; ".join(observed) or None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < _SATURDAY and self.holiday_name(day) is None

    def add_business_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (before it when negative; ``start``
        itself never counts)."""
        step = timedelta(days=1 if days >= 0 else -1)
        current = start
        remaining = abs(days)
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def next_working_day(self, after: date) -> date:
        """The first working day strictly after ``after``."""
        return self.add_business_days(after, 1)

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def business_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.business_days_between(end, start)
        return sum(1 for d in _days(start + timedelta(days=1), end) if self.is_working_day(d))

    def local_date(self, instant: datetime) -> date:
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        return instant.astimezone(self.zone).date()

    def local_instant(self, day: date, hour: int = 0, minute: int = 0) -> datetime:
        """The aware instant of a local wall-clock time on ``day`` in this calendar's zone."""
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)


def first_monday_after(day: date) -> date:
    """The first Monday strictly after ``day``."""
    return day + timedelta(days=(_MONDAY - day.weekday() - 1) % 7 + 1)


def _days(first: date, last: date) -> Iterable[date]:
    current = first
    while current <= last:
        yield current
        current += timedelta(days=1)
