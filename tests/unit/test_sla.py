"""SLA calendar arithmetic and clocks, on fixed instants (no real clock anywhere)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from serviceops.domain.incident import (
    BreachLevel,
    BusinessCalendar,
    SlaClock,
    SlaKind,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
US = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# January 2025: Fri 10, Sat 11, Sun 12, Mon 13, Tue 14 ... Fri 17, Mon 20.
OFFICE = BusinessCalendar()  # UTC, Monday to Friday, 09:00-17:00
ALWAYS = BusinessCalendar(always_open=True)


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

PARIS_OFFICE = BusinessCalendar(timezone="Europe/Paris")
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


def test_clock_operations_refuse_naive_datetimes() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    naive = datetime(2025, 1, 13, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        pause_clock(clock, OFFICE, naive)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        resume_clock(paused, OFFICE, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        stop_clock(clock, naive)


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


# --- SlaClock ------------------------------------------------------------------------------


def test_start_clock_sets_due_and_warning_at_75_percent() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    assert clock.kind is SlaKind.RESOLUTION
    assert clock.started_at == utc(2025, 1, 13, 9)
    assert clock.due_at == utc(2025, 1, 13, 17)
    assert clock.warn_at == utc(2025, 1, 13, 15)  # 6 of 8 hours
    assert clock.remaining == 8 * H
    assert clock.running
    assert clock.paused_at is None and clock.stopped_at is None


def test_start_clock_over_the_weekend() -> None:
    # Friday 13:00 + 8 h: 4 h on Friday, 4 h on Monday; warning after 6 h = Monday 11:00
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 10, 13), 8 * H)
    assert clock.due_at == utc(2025, 1, 13, 13)
    assert clock.warn_at == utc(2025, 1, 13, 11)


def test_start_clock_round_the_clock_p1() -> None:
    clock = start_clock(SlaKind.RESOLUTION, ALWAYS, utc(2025, 1, 11, 22, 30), H)
    assert clock.due_at == utc(2025, 1, 11, 23, 30)
    assert clock.warn_at == utc(2025, 1, 11, 23, 15)


def test_start_clock_response_target() -> None:
    clock = start_clock(SlaKind.RESPONSE, OFFICE, utc(2025, 1, 13, 16, 50), timedelta(minutes=20))
    assert clock.kind is SlaKind.RESPONSE
    assert clock.due_at == utc(2025, 1, 14, 9, 10)
    assert clock.warn_at == utc(2025, 1, 14, 9, 5)


def test_level_boundaries() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    assert clock.level(utc(2025, 1, 13, 9)) is BreachLevel.OK
    assert clock.level(utc(2025, 1, 13, 15) - US) is BreachLevel.OK
    assert clock.level(utc(2025, 1, 13, 15)) is BreachLevel.WARNING
    assert clock.level(utc(2025, 1, 13, 17) - US) is BreachLevel.WARNING
    assert clock.level(utc(2025, 1, 13, 17)) is BreachLevel.BREACHED
    assert clock.level(utc(2025, 2, 1)) is BreachLevel.BREACHED


def test_pause_keeps_the_business_time_left() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 12))  # 3 business hours later
    assert paused.remaining == 5 * H
    assert paused.paused_at == utc(2025, 1, 13, 12)
    assert paused.due_at is None and paused.warn_at is None
    assert not paused.running
    assert clock.due_at == utc(2025, 1, 13, 17)  # the original is not modified
    # judged by what is left while paused, never breached by the passing of time
    assert paused.level(utc(2025, 3, 1)) is BreachLevel.OK


def test_resume_continues_with_the_remaining_time() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 12))
    resumed = resume_clock(paused, OFFICE, utc(2025, 1, 14, 10))
    assert resumed.running
    assert resumed.paused_at is None
    assert resumed.remaining == 5 * H
    assert resumed.due_at == utc(2025, 1, 14, 15)  # 5 h from Tuesday 10:00
    assert resumed.warn_at == utc(2025, 1, 14, 13)  # 6 h used: 3 before, 3 after
    # the due time moved by the paused duration measured in business time (12:00 -> 10:00 = 6 h)
    paused_for = OFFICE.elapsed(utc(2025, 1, 13, 12), utc(2025, 1, 14, 10))
    assert paused_for == 6 * H
    assert resumed.due_at == OFFICE.add(clock.due_at, paused_for)
    assert resumed.started_at == clock.started_at
    assert resumed.target == 8 * H


def test_pause_over_the_weekend() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 9, 9), 16 * H)  # Thursday
    assert clock.due_at == utc(2025, 1, 10, 17)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 10, 12))
    assert paused.remaining == 5 * H
    resumed = resume_clock(paused, OFFICE, utc(2025, 1, 13, 12))  # Monday noon
    assert resumed.due_at == utc(2025, 1, 13, 17)
    assert resumed.warn_at == utc(2025, 1, 13, 13)  # 12 of 16 hours used
    assert resumed.level(utc(2025, 1, 13, 12, 59)) is BreachLevel.OK
    assert resumed.level(utc(2025, 1, 13, 13)) is BreachLevel.WARNING


def test_pause_outside_business_hours_loses_no_time() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 6))  # before the clock even opened
    assert paused.remaining == 8 * H
    resumed = resume_clock(paused, OFFICE, utc(2025, 1, 13, 20))
    assert resumed.due_at == utc(2025, 1, 14, 17)


def test_resume_late_in_the_target_warns_at_once() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 4 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 12, 30))  # 30 min left, < 25 %
    assert paused.remaining == timedelta(minutes=30)
    assert paused.level(utc(2025, 1, 13, 12, 30)) is BreachLevel.WARNING
    resumed = resume_clock(paused, OFFICE, utc(2025, 1, 14, 9))
    assert resumed.warn_at == utc(2025, 1, 14, 9)
    assert resumed.due_at == utc(2025, 1, 14, 9, 30)
    assert resumed.level(utc(2025, 1, 14, 9)) is BreachLevel.WARNING


def test_pause_after_the_due_time_resumes_already_breached() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 2 * H)
    assert clock.due_at == utc(2025, 1, 13, 11)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 13))
    assert paused.remaining == -2 * H
    assert paused.level(utc(2025, 1, 13, 13)) is BreachLevel.BREACHED
    resumed = resume_clock(paused, OFFICE, utc(2025, 1, 14, 9))
    assert resumed.due_at == utc(2025, 1, 14, 9)
    assert resumed.warn_at == utc(2025, 1, 14, 9)
    assert resumed.level(utc(2025, 1, 14, 9)) is BreachLevel.BREACHED


def test_pause_exactly_at_the_due_time_is_breached() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 2 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 11))
    assert paused.remaining == timedelta(0)
    assert paused.level(utc(2025, 1, 13, 11)) is BreachLevel.BREACHED
    resumed = resume_clock(paused, OFFICE, utc(2025, 1, 14, 9))
    assert resumed.level(utc(2025, 1, 14, 9)) is BreachLevel.BREACHED


def test_pause_twice_and_resume_twice_change_nothing() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    assert resume_clock(clock, OFFICE, utc(2025, 1, 13, 10)) == clock
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 12))
    assert pause_clock(paused, OFFICE, utc(2025, 1, 13, 14)) == paused


def test_several_pauses_add_up() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    clock = pause_clock(clock, OFFICE, utc(2025, 1, 13, 10))  # 1 h used
    clock = resume_clock(clock, OFFICE, utc(2025, 1, 13, 14))
    clock = pause_clock(clock, OFFICE, utc(2025, 1, 13, 16))  # 3 h used
    assert clock.remaining == 5 * H
    clock = resume_clock(clock, OFFICE, utc(2025, 1, 14, 9))
    assert clock.due_at == utc(2025, 1, 14, 14)


def test_stop_a_running_clock_is_judged_at_its_stop() -> None:
    clock = start_clock(SlaKind.RESPONSE, OFFICE, utc(2025, 1, 13, 9), 2 * H)
    met = stop_clock(clock, utc(2025, 1, 13, 10))
    assert met.stopped_at == utc(2025, 1, 13, 10)
    assert not met.running
    assert met.level(utc(2025, 3, 1)) is BreachLevel.OK  # long after the due time: still met
    warned = stop_clock(clock, utc(2025, 1, 13, 10, 30))
    assert warned.level(utc(2025, 3, 1)) is BreachLevel.WARNING
    missed = stop_clock(clock, utc(2025, 1, 13, 12))
    assert missed.level(utc(2025, 3, 1)) is BreachLevel.BREACHED


def test_stop_is_final() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    stopped = stop_clock(clock, utc(2025, 1, 13, 10))
    assert stop_clock(stopped, utc(2025, 1, 13, 18)) == stopped
    assert pause_clock(stopped, OFFICE, utc(2025, 1, 13, 11)) == stopped
    assert resume_clock(stopped, OFFICE, utc(2025, 1, 13, 11)) == stopped


def test_stop_a_paused_clock_stops_where_it_was_paused() -> None:
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 8 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 12))
    stopped = stop_clock(paused, utc(2025, 1, 20, 9))
    assert stopped.stopped_at == utc(2025, 1, 13, 12)
    assert stopped.level(utc(2025, 1, 20, 9)) is BreachLevel.OK
    assert resume_clock(stopped, OFFICE, utc(2025, 1, 20, 10)) == stopped


def test_stop_a_clock_paused_after_its_breach_stays_breached() -> None:
    # resolved while pending, but pending began after the due time: the target was missed
    clock = start_clock(SlaKind.RESOLUTION, OFFICE, utc(2025, 1, 13, 9), 2 * H)
    paused = pause_clock(clock, OFFICE, utc(2025, 1, 13, 15))
    stopped = stop_clock(paused, utc(2025, 1, 14, 9))
    assert stopped.level(utc(2025, 1, 14, 9)) is BreachLevel.BREACHED


def test_clock_round_trips_through_json() -> None:
    clock = pause_clock(
        start_clock(SlaKind.RESOLUTION, PARIS_OFFICE, paris(2025, 3, 28, 16), 8 * H),
        PARIS_OFFICE,
        paris(2025, 3, 31, 10),
    )
    assert SlaClock.model_validate_json(clock.model_dump_json()) == clock
