"""SLA calendar arithmetic on fixed instants: adding and measuring business time over
weekends, holidays and DST changes, and the calendars that are refused."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from serviceops.domain.incident import BusinessCalendar, SlaKind, start_clock
from tests.unit.sla_support import ALWAYS, OFFICE, PARIS, PARIS_OFFICE, H, paris, utc

# --- BusinessCalendar.add ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Friday 16:00 + 2 h business = Monday 10:00
        (utc(2025, 1, 10, 16), 2 * H, utc(2025, 1, 13, 10)),
        # inside one day
        (utc(2025, 1, 13, 10), 3 * H, utc(2025, 1, 13, 13)),
        # filling the day exactly ends at closing, not the next morning
        (utc(2025, 1, 13, 9), 8 * H, utc(2025, 1, 13, 17)),
        (utc(2025, 1, 13, 9), 8 * H + timedelta(minutes=1), utc(2025, 1, 14, 9, 1)),
        # before opening: the clock starts at opening
        (utc(2025, 1, 13, 7), H, utc(2025, 1, 13, 10)),
        (utc(2025, 1, 13, 0), 30 * timedelta(minutes=1), utc(2025, 1, 13, 9, 30)),
        # after closing: the clock starts the next working morning
        (utc(2025, 1, 13, 18), H, utc(2025, 1, 14, 10)),
        (utc(2025, 1, 13, 17), H, utc(2025, 1, 14, 10)),
        # Friday evening and the weekend wait until Monday
        (utc(2025, 1, 10, 20), H, utc(2025, 1, 13, 10)),
        (utc(2025, 1, 11, 12), H, utc(2025, 1, 13, 10)),
        (utc(2025, 1, 12, 23, 59), 2 * H, utc(2025, 1, 13, 11)),
        # a whole working week, and one hour more
        (utc(2025, 1, 13, 9), 40 * H, utc(2025, 1, 17, 17)),
        (utc(2025, 1, 13, 9), 41 * H, utc(2025, 1, 20, 10)),
        # P3 24 h business from Wednesday noon: 5 + 8 + 8 + 3 = Monday 12:00
        (utc(2025, 1, 15, 12), 24 * H, utc(2025, 1, 20, 12)),
    ],
)
def test_add_business_hours(start: datetime, duration: timedelta, expected: datetime) -> None:
    assert OFFICE.add(start, duration) == expected


def test_add_zero_inside_hours_is_start() -> None:
    assert OFFICE.add(utc(2025, 1, 13, 11), timedelta(0)) == utc(2025, 1, 13, 11)


def test_add_with_a_holiday_on_monday() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2025, 1, 13)}))
    assert calendar.add(utc(2025, 1, 10, 16), 2 * H) == utc(2025, 1, 14, 10)


def test_add_over_consecutive_holidays() -> None:
    # Christmas 2025: Thursday 25 and Friday 26 off; Wednesday 24 at 16:00 + 2 h = Monday 29 10:00
    calendar = BusinessCalendar(holidays=frozenset({date(2025, 12, 25), date(2025, 12, 26)}))
    assert calendar.add(utc(2025, 12, 24, 16), 2 * H) == utc(2025, 12, 29, 10)
    assert OFFICE.add(utc(2025, 12, 24, 16), 2 * H) == utc(2025, 12, 25, 10)


def test_add_starting_on_a_holiday() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2025, 1, 13)}))
    assert calendar.add(utc(2025, 1, 13, 11), H) == utc(2025, 1, 14, 10)


def test_add_with_other_workdays_and_hours() -> None:
    # Sunday to Thursday, 08:00-16:00
    calendar = BusinessCalendar(workdays=frozenset({6, 0, 1, 2, 3}), opens=time(8), closes=time(16))
    # Thursday 15:00 + 2 h = Sunday 09:00 (Friday and Saturday are off)
    assert calendar.add(utc(2025, 1, 16, 15), 2 * H) == utc(2025, 1, 19, 9)


def test_add_always_open_counts_every_hour() -> None:
    assert ALWAYS.add(utc(2025, 1, 10, 16), 2 * H) == utc(2025, 1, 10, 18)
    assert ALWAYS.add(utc(2025, 1, 10, 23), 50 * H) == utc(2025, 1, 13, 1)


def test_add_always_open_ignores_holidays() -> None:
    calendar = BusinessCalendar(always_open=True, holidays=frozenset({date(2025, 1, 13)}))
    assert calendar.add(utc(2025, 1, 13, 3), H) == utc(2025, 1, 13, 4)


def test_add_accepts_instants_in_any_timezone() -> None:
    # 10:00 in New York is 15:00 UTC (EST, UTC-5): two hours on a UTC office calendar
    new_york = datetime(2025, 1, 10, 10, tzinfo=ZoneInfo("America/New_York"))
    assert OFFICE.add(new_york, 2 * H) == utc(2025, 1, 10, 17)
    assert OFFICE.add(new_york, 3 * H) == utc(2025, 1, 13, 10)


# --- BusinessCalendar.elapsed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (utc(2025, 1, 10, 16), utc(2025, 1, 13, 10), 2 * H),
        (utc(2025, 1, 13, 10), utc(2025, 1, 13, 13), 3 * H),
        (utc(2025, 1, 13, 6), utc(2025, 1, 13, 8), timedelta(0)),  # before opening
        (utc(2025, 1, 13, 18), utc(2025, 1, 13, 23), timedelta(0)),  # after closing
        (utc(2025, 1, 11, 0), utc(2025, 1, 13, 0), timedelta(0)),  # the weekend
        (utc(2025, 1, 13, 7), utc(2025, 1, 13, 19), 8 * H),  # whole day from outside
        (utc(2025, 1, 13, 0), utc(2025, 1, 20, 0), 40 * H),  # a week
        (utc(2025, 1, 13, 16, 30), utc(2025, 1, 14, 9, 15), timedelta(minutes=45)),
    ],
)
def test_elapsed_business_hours(start: datetime, end: datetime, expected: timedelta) -> None:
    assert OFFICE.elapsed(start, end) == expected


def test_elapsed_is_zero_when_end_is_not_after_start() -> None:
    assert OFFICE.elapsed(utc(2025, 1, 13, 12), utc(2025, 1, 13, 10)) == timedelta(0)
    assert OFFICE.elapsed(utc(2025, 1, 13, 12), utc(2025, 1, 13, 12)) == timedelta(0)
    assert ALWAYS.elapsed(utc(2025, 1, 13, 12), utc(2025, 1, 13, 10)) == timedelta(0)


def test_elapsed_skips_holidays() -> None:
    calendar = BusinessCalendar(holidays=frozenset({date(2025, 1, 13)}))
    assert calendar.elapsed(utc(2025, 1, 10, 16), utc(2025, 1, 14, 10)) == 2 * H


def test_elapsed_always_open() -> None:
    assert ALWAYS.elapsed(utc(2025, 1, 11, 0), utc(2025, 1, 12, 6)) == 30 * H


@pytest.mark.parametrize("calendar", [OFFICE, ALWAYS], ids=["office", "always"])
@pytest.mark.parametrize(
    "start",
    [utc(2025, 1, 10, 16), utc(2025, 1, 11, 3), utc(2025, 1, 13, 8, 59), utc(2025, 1, 14, 17)],
)
@pytest.mark.parametrize("minutes", [1, 59, 60, 480, 481, 1440, 2900])
def test_elapsed_undoes_add(calendar: BusinessCalendar, start: datetime, minutes: int) -> None:
    duration = timedelta(minutes=minutes)
    assert calendar.elapsed(start, calendar.add(start, duration)) == duration


# --- DST in Europe/Paris (2025: 30 March 02:00 -> 03:00, 26 October 03:00 -> 02:00) ----------

PARIS_ALWAYS = BusinessCalendar(timezone="Europe/Paris", always_open=True)


def test_business_hours_stay_local_across_spring_change() -> None:
    # Friday 16:00 CET (15:00 UTC) + 2 h = Monday 10:00 CEST (08:00 UTC)
    due = PARIS_OFFICE.add(paris(2025, 3, 28, 16), 2 * H)
    assert due == utc(2025, 3, 31, 8)
    assert due.astimezone(PARIS).time() == time(10)
    # Monday opens at 09:00 local, which is now 07:00 UTC
    assert PARIS_OFFICE.add(utc(2025, 3, 31, 6), H) == utc(2025, 3, 31, 8)


def test_business_hours_stay_local_across_autumn_change() -> None:
    # Friday 16:00 CEST (14:00 UTC) + 2 h = Monday 10:00 CET (09:00 UTC)
    due = PARIS_OFFICE.add(paris(2025, 10, 24, 16), 2 * H)
    assert due == utc(2025, 10, 27, 9)
    assert due.astimezone(PARIS).time() == time(10)


def test_elapsed_in_local_business_hours_across_dst() -> None:
    assert PARIS_OFFICE.elapsed(paris(2025, 3, 28, 9), paris(2025, 3, 31, 17)) == 16 * H
    assert PARIS_OFFICE.elapsed(paris(2025, 10, 24, 9), paris(2025, 10, 27, 17)) == 16 * H
    # 08:00 UTC on Friday is 09:00 CET: the first hour; 08:00 UTC on Monday is 10:00 CEST
    assert PARIS_OFFICE.elapsed(utc(2025, 3, 28, 8), utc(2025, 3, 28, 9)) == H
    assert PARIS_OFFICE.elapsed(utc(2025, 3, 31, 6), utc(2025, 3, 31, 8)) == H


def test_round_the_clock_adds_real_time_across_spring_change() -> None:
    # Saturday 12:00 CET is 11:00 UTC; 24 real hours later is 11:00 UTC = 13:00 CEST
    due = PARIS_ALWAYS.add(paris(2025, 3, 29, 12), 24 * H)
    assert due == utc(2025, 3, 30, 11)
    assert due.astimezone(PARIS) == paris(2025, 3, 30, 13)
    # the night of the change is one hour short
    assert PARIS_ALWAYS.add(paris(2025, 3, 30, 1), 2 * H) == utc(2025, 3, 30, 2)
    assert PARIS_ALWAYS.add(paris(2025, 3, 30, 1), 2 * H).astimezone(PARIS).hour == 4


def test_round_the_clock_adds_real_time_across_autumn_change() -> None:
    # Saturday 12:00 CEST is 10:00 UTC; 24 real hours later is 10:00 UTC = 11:00 CET
    due = PARIS_ALWAYS.add(paris(2025, 10, 25, 12), 24 * H)
    assert due == utc(2025, 10, 26, 10)
    assert due.astimezone(PARIS) == paris(2025, 10, 26, 11)


def test_round_the_clock_elapsed_is_real_time_across_dst() -> None:
    assert PARIS_ALWAYS.elapsed(paris(2025, 3, 29, 12), paris(2025, 3, 30, 12)) == 23 * H
    assert PARIS_ALWAYS.elapsed(paris(2025, 10, 25, 12), paris(2025, 10, 26, 12)) == 25 * H


def test_long_business_day_on_the_night_of_the_change_counts_real_time() -> None:
    # Open every day 00:00-23:00 local: on 30 March that is 23:00 UTC (Sat) to 21:00 UTC
    calendar = BusinessCalendar(
        timezone="Europe/Paris", workdays=frozenset(range(7)), opens=time(0), closes=time(23)
    )
    assert calendar.elapsed(paris(2025, 3, 30, 0), paris(2025, 3, 30, 23)) == 22 * H
    assert calendar.elapsed(paris(2025, 10, 26, 0), paris(2025, 10, 26, 23)) == 24 * H
    # three real hours after midnight CET is 02:00 UTC, 04:00 CEST
    assert calendar.add(paris(2025, 3, 30, 0), 3 * H) == utc(2025, 3, 30, 2)
    # 22 h fill the day exactly; 22 h 30 spill into Monday 00:30 CEST
    assert calendar.add(paris(2025, 3, 30, 0), 22 * H) == paris(2025, 3, 30, 23)
    assert calendar.add(paris(2025, 3, 30, 0), 22.5 * H) == paris(2025, 3, 31, 0, 30)


# --- validation ----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2025, 1, 13, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.add(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        ALWAYS.add(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.elapsed(naive, utc(2025, 1, 13, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.elapsed(utc(2025, 1, 13, 8), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        start_clock(SlaKind.RESPONSE, OFFICE, naive, H)


@pytest.mark.parametrize(
    "fields",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "Europe/"},
        {"timezone": ""},
        {"workdays": frozenset()},
        {"workdays": frozenset({0, 7})},
        {"opens": time(17), "closes": time(9)},
        {"opens": time(9), "closes": time(9)},
    ],
)
def test_bad_calendars_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar(**fields)


def test_calendar_round_trips_through_json() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Paris", holidays=frozenset({date(2025, 5, 1)}), closes=time(18)
    )
    assert BusinessCalendar.model_validate_json(calendar.model_dump_json()) == calendar
