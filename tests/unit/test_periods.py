"""Statutory periods as profile data: how the helpers count them (working days around bank
holidays, calendar months, elapsed hours across a clock change), what a profile may say, and
how validation finds the periods a diagram reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from engine.clock import ManualClock
from engine.deadlines.calendars import BusinessCalendar
from engine.deadlines.profiles import Period, parse_profile
from engine.spiff.definitions import periods_named
from engine.spiff.script_functions import script_functions

ENGLAND = BusinessCalendar("Europe/London", "GB", "ENG")
PERIODS = {
    "U01": Period("P1D", working_days=True),
    "U02": Period("P45D", working_days=True),
    "U05": Period("P3M"),
    "T04": Period("PT72H"),
    "T34": Period("P15M", within="P22M"),
    "T39-exit-age": Period("P18Y"),
}


@pytest.fixture
def helpers() -> dict[str, object]:
    return script_functions(ENGLAND, ManualClock(datetime(2025, 3, 3, tzinfo=UTC)), PERIODS)


def test_working_days_skip_weekends_and_englands_bank_holidays(helpers: dict) -> None:
    # DOMAIN scenario 12: 45 working days from Mon 03-03 skip 04-18, 04-21 and 05-05.
    assert helpers["after_period"]("U02", "2025-03-03") == "2025-05-08"
    assert helpers["due_after"]("U02", "2025-03-03") == "2025-05-08T22:59:59+00:00"
    # Thursday before Easter: the next working day is the Tuesday.
    assert helpers["after_period"]("U01", "2025-04-17") == "2025-04-22"
    # Counted back, the same days are skipped.
    assert helpers["after_period"]("U01", "2025-04-22", -1) == "2025-04-17"


def test_months_are_calendar_months_and_hours_are_elapsed(helpers: dict) -> None:
    assert helpers["due_after"]("U05", "2025-03-24") == "2025-06-24T22:59:59+00:00"
    assert helpers["after_period"]("U05", "2025-11-30") == "2026-02-28"  # the month's last day
    assert helpers["after_period"]("T39-exit-age", "2008-02-29") == "2026-02-28"
    # 72 real hours across the change to summer time (30 March in London).
    assert helpers["due_after"]("T04", "2025-03-29T12:00:00+00:00") == "2025-04-01T12:00:00+00:00"
    assert helpers["period_months"]("T34") == 15
    assert helpers["period_months"]("T34", "within") == 22


def test_a_period_the_profile_lacks_is_named_when_read(helpers: dict) -> None:
    with pytest.raises(ValueError, match="no period 'U03'"):
        helpers["due_after"]("U03", "2025-03-03")


def test_a_profile_says_its_periods_as_durations() -> None:
    def problems(periods: dict) -> list[str]:
        raw = {"id": "x", "time_zone": "Europe/London", "periods": periods}
        return [p.message for p in parse_profile("profiles/x.json", json.dumps(raw).encode())[1]]

    assert problems({"U01": {"duration": "P1D", "days": "working"}}) == []
    assert problems({"U01": {"duration": "one day"}}) == [
        "periods/U01: 'one day' is not an ISO 8601 duration"
    ]
    assert problems({"U05": {"duration": "P3M", "days": "working"}}) == [
        "periods/U05: working days count whole days; write 'P3M' in days"
    ]


def test_validation_reads_the_deadline_ids_a_script_names() -> None:
    assert periods_named('due = due_after("U03", held_on)') == (["U03"], False)
    assert periods_named('d = after_period("T38-on-request" if asked else "T38", on)') == (
        ["T38-on-request", "T38"],
        False,
    )
    # An id computed otherwise cannot be checked: validation says so.
    assert periods_named("d = due_after(which, on)") == ([], True)
