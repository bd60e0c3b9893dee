"""Business calendars and the date helpers BPMN expressions use (DOMAIN §7 dates)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.clock import ManualClock
from engine.deadlines.calendars import BusinessCalendar, first_monday_after
from engine.spiff.script_functions import script_functions

TEXAS = BusinessCalendar("America/Chicago", "US", "TX")
ENGLAND = BusinessCalendar("Europe/London", "GB", "ENG")


def helpers(calendar: BusinessCalendar, now: datetime) -> dict:
    return script_functions(calendar, ManualClock(now))


def test_england_s47_chain_of_scenario_12() -> None:
    fn = helpers(ENGLAND, datetime(2025, 3, 3, 10, tzinfo=UTC))

    assert fn["next_working_day"]("2025-03-03") == "2025-03-04"  # referral decision
    assert fn["add_business_days"]("2025-03-03", 15) == "2025-03-24"  # ICPC
    assert fn["add_business_days"]("2025-03-24", 10) == "2025-04-07"  # core group
    assert fn["add_months"]("2025-03-24", 3) == "2025-06-24"  # first review conference
    assert fn["add_months"]("2025-06-24", 6) == "2025-12-24"  # next review
    # 45 working days, skipping Good Friday, Easter Monday and the early May bank holiday.
    assert fn["add_business_days"]("2025-03-03", 45) == "2025-05-08"


def test_texas_removal_chain_of_scenario_6() -> None:
    # Possession without a court order on Friday 2025-03-07 at 18:00 Central (00:00 UTC Sat).
    removal = "2025-03-08T00:00:00+00:00"
    fn = helpers(TEXAS, datetime(2025, 3, 8, tzinfo=UTC))
    tmc = "2025-03-10"

    assert fn["local_date"](removal) == "2025-03-07"  # still Friday in Texas
    assert fn["next_working_day"](removal) == "2025-03-10"  # ex parte hearing
    assert fn["add_days"](removal, 14) == "2025-03-21"  # adversary hearing
    assert fn["add_business_days"](removal, 3) == "2025-03-12"  # medical exam
    assert fn["add_days"](removal, 30) == "2025-04-06"  # relative notices
    assert fn["add_days"](tmc, 45) == "2025-04-24"  # service plan
    assert fn["add_days"](tmc, 60) == "2025-05-09"  # status hearing
    assert fn["add_days"](removal, 60) == "2025-05-06"  # case plan, reasonable efforts
    assert fn["add_days"](tmc, 180) == "2025-09-06"  # initial permanency hearing
    dismissal = fn["first_monday_after"](fn["add_months"](tmc, 12))
    assert dismissal == "2026-03-16"
    assert fn["add_days"](dismissal, -60) == "2026-01-15"  # notice to the parties


def test_hour_durations_are_elapsed_time_across_daylight_saving() -> None:
    fn = helpers(TEXAS, datetime(2025, 3, 8, tzinfo=UTC))

    # Saturday 8 March 12:00 CST + 24 h = Sunday 9 March 13:00 CDT (clocks went forward).
    due = fn["add_hours"]("2025-03-08T18:00:00+00:00", 24)

    assert due == "2025-03-09T18:00:00+00:00"
    assert TEXAS.local_instant(date(2025, 3, 9), 13).astimezone(UTC).isoformat() == due


def test_texas_holidays_are_not_working_days() -> None:
    assert not TEXAS.is_working_day(date(2025, 3, 2))  # Texas Independence Day (a Sunday)
    assert not TEXAS.is_working_day(date(2025, 11, 28))  # day after Thanksgiving
    assert TEXAS.add_business_days(date(2025, 11, 26), 1) == date(2025, 12, 1)


def test_a_profile_can_drop_a_holiday_and_add_a_closure() -> None:
    calendar = BusinessCalendar(
        "America/Chicago",
        "US",
        "TX",
        extra_closures=(date(2025, 3, 4),),
        not_observed=("Cesar Chavez Day",),
    )

    assert not calendar.is_working_day(date(2025, 3, 4))
    assert calendar.is_working_day(date(2025, 3, 31))
    assert not TEXAS.is_working_day(date(2025, 3, 31))


def test_first_monday_after_is_strictly_after() -> None:
    assert first_monday_after(date(2026, 3, 9)) == date(2026, 3, 16)  # a Monday itself
    assert first_monday_after(date(2026, 3, 10)) == date(2026, 3, 16)


def test_duration_helpers() -> None:
    fn = helpers(TEXAS, datetime(2025, 3, 3, 15, 15, tzinfo=UTC))

    assert fn["duration"](hours=24) == "PT24H"
    assert fn["duration"](days=3) == "P3D"
    assert fn["duration_hours"]("PT72H") == 72
    assert fn["until"]("2025-03-04T15:15:00+00:00") == "PT24H"
    assert fn["until"]("2025-03-01T00:00:00+00:00") == "PT0S"
    with pytest.raises(ValueError):
        fn["duration_hours"]("P1M")


def test_today_and_end_of_day_are_local() -> None:
    # 03:00 UTC on 4 March is still 3 March in Texas.
    fn = helpers(TEXAS, datetime(2025, 3, 4, 3, tzinfo=UTC))

    assert fn["today"]() == "2025-03-03"
    assert fn["end_of_day"]("2025-03-03") == "2025-03-04T05:59:59+00:00"


def test_naive_instants_are_refused() -> None:
    fn = helpers(TEXAS, datetime(2025, 3, 4, tzinfo=UTC))

    with pytest.raises(ValueError, match="no time zone"):
        fn["add_hours"]("2025-03-03T09:00:00", 1)


def test_age_on() -> None:
    fn = helpers(TEXAS, datetime(2025, 3, 4, tzinfo=UTC))

    assert fn["age_on"]("2019-03-05", "2025-03-04") == 5
    assert fn["age_on"]("2019-03-04", "2025-03-04") == 6


def test_months_in_care_counts_the_last_22_months_of_care_periods() -> None:
    # Removed Friday 2025-01-10 09:00 Central; asked on 2025-04-01.
    fn = helpers(TEXAS, datetime(2025, 4, 1, 15, tzinfo=UTC))
    removal = [{"start": "2025-01-10T15:00:00+00:00", "end": None}]

    assert fn["months_in_care"](removal) == 2.7  # today: 2 months and 22 of 31 days
    assert fn["months_in_care"](removal, "2025-11-10") == 10
    assert fn["months_in_care"](removal, "2026-04-09") == 14.96  # never rounded up
    assert fn["months_in_care"](removal, "2026-04-10") == 15
    assert fn["months_in_care"](removal, "2026-05-10", excluded_days=10) == 15.66
    assert fn["months_in_care"](removal, "2024-12-01") == 0  # before the removal
    assert fn["months_in_care_reached_on"](removal, 15) == "2026-04-10"
    # Ten days on a trial home visit do not count: the 15th month ends ten days later.
    assert fn["months_in_care_reached_on"](removal, 15, 22, 10) == "2026-04-20"


def test_months_in_care_adds_episodes_and_drops_what_left_the_window() -> None:
    fn = helpers(TEXAS, datetime(2025, 4, 1, 15, tzinfo=UTC))
    episodes = [
        {"start": "2023-01-01", "end": "2023-09-01"},  # 8 months; 3 of them in the window
        {"start": "2024-06-01", "end": None},  # 10 months so far
    ]

    assert fn["months_in_care"](episodes) == 13
    assert fn["months_in_care"](episodes, within_months=30) == 17.96  # 547 days
    # By 2025-09-01 the first episode has left the window; the second alone makes 15.
    assert fn["months_in_care_reached_on"](episodes, 15) == "2025-09-01"
    # Past dates too: an episode of 16 months, ended, reached 15 a month before its end.
    ended = [{"start": "2022-01-05", "end": "2023-05-05"}]
    assert fn["months_in_care_reached_on"](ended, 15) == "2023-04-05"
    assert fn["months_in_care_reached_on"](ended, 17) is None
    assert fn["months_in_care_reached_on"](ended, 15, since="2025-04-01") is None
    # 13 was first reached in 2024; from today on, the count stands still while the first
    # episode leaves the window, and reaches 14 only in August.
    assert fn["months_in_care_reached_on"](episodes, 13) == "2024-11-30"
    assert fn["months_in_care_reached_on"](episodes, 14, since="2025-04-01") == "2025-08-01"
    assert fn["months_in_care_reached_on"]([], 15) is None
