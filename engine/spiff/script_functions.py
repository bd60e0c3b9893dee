"""The helper functions BPMN and DMN expressions may call, and nothing else.

They are pure: they read the injected clock and the jurisdiction's calendar, never the database,
the network or the file system. Dates go in and come out as ISO 8601 strings (``2025-03-10``),
instants as ISO strings with an offset, durations as ISO 8601 durations (``PT24H``), so task data
stays plain JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import isodate

from engine.clock import Clock
from engine.deadlines.calendars import BusinessCalendar, first_monday_after
from engine.deadlines.profiles import Period

DateLike = str | date | datetime


def _to_date(value: DateLike, calendar: BusinessCalendar) -> date:
    if isinstance(value, datetime):
        return calendar.local_date(_aware(value))
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if "T" in text or " " in text:
        return calendar.local_date(_aware(datetime.fromisoformat(text)))
    return date.fromisoformat(text)


def _to_instant(value: DateLike, calendar: BusinessCalendar) -> datetime:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return calendar.local_instant(value).astimezone(UTC)
    text = str(value).strip()
    if "T" not in text and " " not in text:
        return calendar.local_instant(date.fromisoformat(text)).astimezone(UTC)
    return _aware(datetime.fromisoformat(text))


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; give an offset or Z")
    return value.astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _months_and_rest(text: str) -> tuple[int, timedelta]:
    """An ISO duration of dates as whole months (years are twelve) and the days beyond."""
    value = isodate.parse_duration(text)
    if isinstance(value, isodate.Duration):
        return int(value.years * 12 + value.months), value.tdelta
    return 0, value


def _elapsed(seconds: int) -> str:
    """Elapsed time as an ISO duration in hours, minutes and seconds (never days)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    parts += f"{secs}S" if secs or not parts else ""
    return "PT" + parts


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _as_months(days: int, ending: date) -> float:
    """A number of days as calendar months ending on ``ending``: whole months, then the rest as
    a fraction of the month it falls in (floored to two decimals, so never overstated)."""
    start = ending - timedelta(days=max(days, 0))
    whole = (ending.year - start.year) * 12 + ending.month - start.month
    if _add_months(start, whole) > ending:
        whole -= 1
    month_start, month_end = _add_months(start, whole), _add_months(start, whole + 1)
    fraction = (ending - month_start).days / (month_end - month_start).days
    return math.floor((whole + fraction) * 100) / 100


# The helpers that read a statutory period of the jurisdiction, by deadline id (their first
# argument): validation checks each profile has the periods its processes name.
PERIOD_HELPERS = frozenset({"due_after", "after_period", "period_months"})


def script_functions(
    calendar: BusinessCalendar, clock: Clock, periods: Mapping[str, Period] | None = None
) -> dict[str, Callable[..., Any]]:
    """The whitelist, bound to one jurisdiction's calendar, its statutory periods and the
    injected clock."""
    periods = periods or {}

    def period_of(deadline_id: str) -> Period:
        period = periods.get(deadline_id)
        if period is None:
            raise ValueError(f"the jurisdiction profile has no period {deadline_id!r}")
        return period

    def now() -> str:
        """The current instant (UTC, ISO 8601)."""
        return clock.now().isoformat()

    def today() -> str:
        """Today's local date in the jurisdiction."""
        return calendar.local_date(clock.now()).isoformat()

    def local_date(value: DateLike) -> str:
        """The local calendar date of an instant in the jurisdiction's time zone."""
        return _to_date(value, calendar).isoformat()

    def add_days(value: DateLike, days: int) -> str:
        return (_to_date(value, calendar) + timedelta(days=days)).isoformat()

    def add_months(value: DateLike, months: int) -> str:
        """Calendar months; the 31st of a short month becomes its last day."""
        return _add_months(_to_date(value, calendar), months).isoformat()

    def add_business_days(value: DateLike, days: int) -> str:
        return calendar.add_business_days(_to_date(value, calendar), days).isoformat()

    def next_working_day(value: DateLike) -> str:
        return calendar.next_working_day(_to_date(value, calendar)).isoformat()

    def is_working_day(value: DateLike) -> bool:
        return calendar.is_working_day(_to_date(value, calendar))

    def first_monday_after_date(value: DateLike) -> str:
        return first_monday_after(_to_date(value, calendar)).isoformat()

    def days_between(start: DateLike, end: DateLike) -> int:
        return (_to_date(end, calendar) - _to_date(start, calendar)).days

    def business_days_between(start: DateLike, end: DateLike) -> int:
        return calendar.business_days_between(_to_date(start, calendar), _to_date(end, calendar))

    def add_hours(value: DateLike, hours: float) -> str:
        """Elapsed hours: 24 hours is 24 real hours, across a daylight-saving change too."""
        return (_to_instant(value, calendar) + timedelta(hours=hours)).isoformat()

    def end_of_day(value: DateLike) -> str:
        """The last instant (23:59:59 local) of a local date, as a UTC instant."""
        day = _to_date(value, calendar)
        local = calendar.local_instant(day, 23, 59) + timedelta(seconds=59)
        return local.astimezone(UTC).isoformat()

    def start_of_day(value: DateLike) -> str:
        return calendar.local_instant(_to_date(value, calendar)).astimezone(UTC).isoformat()

    def duration(days: int = 0, hours: float = 0, minutes: float = 0) -> str:
        """An ISO 8601 duration in the units given: ``duration(hours=24)`` is ``PT24H`` (24
        elapsed hours), ``duration(days=1)`` is ``P1D`` (one calendar day)."""
        if min(days, hours, minutes) < 0:
            raise ValueError("durations must not be negative")
        date_part = f"{_number(days)}D" if days else ""
        time_part = (f"{_number(hours)}H" if hours else "") + (
            f"{_number(minutes)}M" if minutes else ""
        )
        if not date_part and not time_part:
            return "PT0S"
        return "P" + date_part + (f"T{time_part}" if time_part else "")

    def duration_hours(value: str) -> float:
        """The length of an ISO 8601 duration in hours (months and years are refused)."""
        parsed = isodate.parse_duration(value)
        if isinstance(parsed, isodate.Duration):
            raise ValueError(f"{value} has months or years; its length in hours is not fixed")
        return parsed.total_seconds() / 3600

    def until(value: DateLike) -> str:
        """The ISO duration from now until an instant (zero when it has passed)."""
        remaining = _to_instant(value, calendar) - clock.now()
        return _elapsed(max(0, math.ceil(remaining.total_seconds())))

    def is_before(first: DateLike, second: DateLike) -> bool:
        return _to_instant(first, calendar) < _to_instant(second, calendar)

    def care_days(periods: list[Any], on: date, within_months: int) -> int:
        window_start = _add_months(on, -within_months)
        days = 0
        for period in periods:
            start = _to_date(period["start"], calendar)
            end = _to_date(period["end"], calendar) if period.get("end") else on
            days += max(0, (min(end, on) - max(start, window_start)).days)
        return days

    def months_in_care(
        periods: list[Any],
        on: DateLike | None = None,
        within_months: int = 22,
        excluded_days: int = 0,
    ) -> float:
        """Months in care during the last ``within_months`` months up to ``on`` (default
        today): the local days of each care period (``{"start": removal, "end": return or
        None while still in care}``) inside that window, less ``excluded_days`` (trial home
        visits, runaways), as calendar months ending on ``on``. One period removed on
        2025-01-10 counts exactly 15 on 2026-04-10."""
        day = _to_date(on, calendar) if on else calendar.local_date(clock.now())
        return _as_months(care_days(periods, day, within_months) - excluded_days, day)

    def months_in_care_reached_on(
        periods: list[Any],
        months: float,
        within_months: int = 22,
        excluded_days: int = 0,
        since: DateLike | None = None,
    ) -> str | None:
        """The first local date (from ``since``, by default the first removal) on which
        ``months_in_care`` reaches ``months``, past or to come (a period without an end is
        taken to go on); None if it never does."""
        if not periods:
            return None
        day = min(_to_date(p["start"], calendar) for p in periods)
        day = max(day, _to_date(since, calendar)) if since else day
        today_ = calendar.local_date(clock.now())
        last = _add_months(max(day, today_), math.ceil(months) + 1) + timedelta(excluded_days)
        while day <= last:
            if months_in_care(periods, day, within_months, excluded_days) >= months:
                return day.isoformat()
            day += timedelta(days=1)
        return None

    def after_period(deadline_id: str, start: DateLike, times: int = 1) -> str:
        """``times`` of the jurisdiction's period ``deadline_id`` after ``start`` (before it
        when negative): a local date for a period of days, weeks or months (working days when
        the profile counts it so), an instant for a period of hours."""
        period = period_of(deadline_id)
        if period.elapsed:
            length = isodate.parse_duration(period.duration)
            return (_to_instant(start, calendar) + length * times).isoformat()
        day = _to_date(start, calendar)
        if period.working_days:
            days = isodate.parse_duration(period.duration).days * times
            return calendar.add_business_days(day, days).isoformat()
        months, rest = _months_and_rest(period.duration)
        return (_add_months(day, months * times) + rest * times).isoformat()

    def due_after(deadline_id: str, start: DateLike) -> str:
        """When the jurisdiction's period ``deadline_id`` from ``start`` ends: the last instant
        of its last local day, or for a period of hours that many real hours later."""
        end = after_period(deadline_id, start)
        return end if period_of(deadline_id).elapsed else end_of_day(end)

    def period_months(deadline_id: str, part: str = "duration") -> float:
        """The period (or its ``within`` window) in calendar months: 15 of 22 months."""
        period = period_of(deadline_id)
        text = period.within if part == "within" else period.duration
        if text is None:
            raise ValueError(f"the period {deadline_id!r} has no {part}")
        months, rest = _months_and_rest(text)
        if rest:
            raise ValueError(f"the period {deadline_id!r} is not in whole months or years")
        return months

    def age_on(birth_date: DateLike, on: DateLike) -> int:
        """Whole years of age on a date."""
        born, day = _to_date(birth_date, calendar), _to_date(on, calendar)
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    return {
        "now": now,
        "today": today,
        "local_date": local_date,
        "add_days": add_days,
        "add_months": add_months,
        "add_business_days": add_business_days,
        "next_working_day": next_working_day,
        "is_working_day": is_working_day,
        "first_monday_after": first_monday_after_date,
        "days_between": days_between,
        "business_days_between": business_days_between,
        "add_hours": add_hours,
        "end_of_day": end_of_day,
        "start_of_day": start_of_day,
        "duration": duration,
        "duration_hours": duration_hours,
        "until": until,
        "is_before": is_before,
        "age_on": age_on,
        "due_after": due_after,
        "after_period": after_period,
        "period_months": period_months,
        "months_in_care": months_in_care,
        "months_in_care_reached_on": months_in_care_reached_on,
    }
