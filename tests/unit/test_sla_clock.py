"""SLA clocks on fixed instants: due and warning times, pausing, resuming and stopping, and
the breach level each state is judged at."""

from datetime import datetime, timedelta

import pytest

from serviceops.domain.incident import (
    BreachLevel,
    SlaClock,
    SlaKind,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)
from tests.unit.sla_support import ALWAYS, OFFICE, PARIS_OFFICE, H, paris, utc

US = timedelta(microseconds=1)


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
