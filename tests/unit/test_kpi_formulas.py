"""The small KPI formulas (percentages, rates, means, SLA targets, bar charts) and report
periods, against numbers worked out by hand (the arithmetic is in the comments)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from serviceops.domain.incident import target_met
from serviceops.domain.report import (
    Rate,
    ReportKind,
    ReportPeriod,
    bar_chart,
    mean_duration,
    percent,
    period_ending,
    period_through,
    silenced_time,
)
from tests.unit.kpi_support import DAY, at

# --------------------------------------------------------------------------- small formulas


def test_percent() -> None:
    assert percent(1, 4) == 25.0  # 100 * 1 / 4
    assert percent(1, 3) == pytest.approx(33.3333333)  # 100 / 3, unrounded
    assert percent(0, 5) == 0.0
    assert percent(0, 0) is None  # no population: no rate, and no ZeroDivisionError
    assert percent(3, 0) is None


def test_rate_rounds_to_one_decimal_and_is_none_when_empty() -> None:
    assert Rate(count=2, of=3).percent == 66.7  # 66.666... -> 66.7
    assert Rate(count=1, of=8).percent == 12.5
    assert Rate(count=0, of=0).percent is None
    assert Rate(count=1, of=3).model_dump() == {"count": 1, "of": 3, "percent": 33.3}


def test_mean_duration() -> None:
    # (2h + 4h + 4h) / 3 = 10h / 3 = 3h 20m
    hours = [timedelta(hours=2), timedelta(hours=4), timedelta(hours=4)]
    assert mean_duration(hours) == timedelta(hours=3, minutes=20)
    assert mean_duration(iter([timedelta(seconds=1), timedelta(seconds=2)])) == timedelta(
        seconds=1.5
    )
    assert mean_duration([]) is None


def test_target_met_follows_the_sla_clock() -> None:
    due = at(10)
    assert target_met(due, at(9, 59), None) is True
    assert target_met(due, at(10), None) is False  # at the due instant: breached
    assert target_met(due, at(10, 1), None) is False
    assert target_met(None, at(10), timedelta(minutes=5)) is True  # stopped while paused
    assert target_met(None, at(10), timedelta(0)) is False
    assert target_met(None, at(10), -timedelta(minutes=5)) is False
    assert target_met(due, None, None) is None  # still running: not judged


def test_bar_chart_scales_to_the_largest_value() -> None:
    chart = bar_chart([("a", 0), ("b", 1), ("c", 7), ("dd", 60)], width=10)
    # 60 -> 10 blocks; 7 -> 7*10/60 = 1.17 -> 1; 1 -> 0.17 -> 0, but non-zero shows 1; 0 -> 0
    assert chart.splitlines() == [
        "a  |             0",
        "b  | █           1",
        "c  | █           7",
        "dd | ██████████ 60",
    ]


def test_bar_chart_rounds_half_up() -> None:
    # 1 of 4 at width 10: 2.5 -> 3 blocks (half up, not to even)
    lines = bar_chart([("x", 1), ("y", 4)], width=10).splitlines()
    assert lines[0] == "x | ███        1"


def test_bar_chart_edge_cases() -> None:
    assert bar_chart([]) == ""
    assert bar_chart([("a", 0), ("b", 0)], width=3) == "a |     0\nb |     0"
    with pytest.raises(ValueError, match="negative"):
        bar_chart([("a", -1)])
    with pytest.raises(ValueError, match="width"):
        bar_chart([("a", 1)], width=0)


# --------------------------------------------------------------------------- periods


def test_daily_is_yesterday_and_weekly_the_seven_days_before_today() -> None:
    monday = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    daily = period_ending(ReportKind.DAILY, monday)
    assert (daily.start, daily.end) == (at(0, day=29), at(0, day=30))
    assert daily.first_day == daily.last_day == date(2026, 11, 29)
    weekly = period_ending(ReportKind.WEEKLY, monday)
    assert (weekly.start, weekly.end) == (at(0, day=23), at(0, day=30))
    assert (weekly.first_day, weekly.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert len(weekly.days()) == 7 and weekly.days()[0].weekday() == 0  # Monday to Sunday


def test_a_period_is_half_open() -> None:
    assert DAY.contains(at(0))
    assert DAY.contains(datetime(2026, 11, 25, 23, 59, 59, 999999, tzinfo=UTC))
    assert not DAY.contains(at(0, day=26))  # the next period's
    assert not DAY.contains(None)


def test_periods_are_local_days_also_across_dst() -> None:
    # 00:30 UTC on 11-26 is 01:30 in Paris (UTC+1): yesterday there is 11-25, which starts
    # at 11-24 23:00 UTC.
    paris = period_ending(ReportKind.DAILY, at(0, 30, day=26), "Europe/Paris")
    assert paris.first_day == date(2026, 11, 25)
    assert paris.start == at(23, day=24) and paris.end == at(23, day=25)
    # 2026-03-29: clocks go from 02:00 to 03:00 in Paris, a 23-hour day.
    spring = period_through(ReportKind.DAILY, date(2026, 3, 29), "Europe/Paris")
    assert spring.end - spring.start == timedelta(hours=23)


def test_period_validation() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        ReportPeriod(kind=ReportKind.DAILY, start=datetime(2026, 1, 1), end=at(0))
    with pytest.raises(ValidationError, match="start before"):
        ReportPeriod(kind=ReportKind.DAILY, start=at(1), end=at(1))
    with pytest.raises(ValueError, match="unknown timezone"):
        period_through(ReportKind.DAILY, date(2026, 1, 1), "Mars/Olympus")
    with pytest.raises(ValueError, match="timezone-aware"):
        period_ending(ReportKind.DAILY, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="unknown timezone"):
        ReportPeriod(kind=ReportKind.DAILY, start=at(0), end=at(1), timezone="Nowhere")


def test_silenced_time_counts_each_silence_within_the_period() -> None:
    period = period_through(ReportKind.DAILY, date(2026, 11, 25))
    start, hour = period.start, timedelta(hours=1)
    windows = [
        (start - 2 * hour, start + hour),  # from the day before: its first hour counts
        (start + 10 * hour, start + 12 * hour),  # inside: two hours
        (start + 11 * hour, start + 13 * hour),  # at the same time, on something else: two
        (start - 5 * hour, start - hour),  # over before the day
        (period.end - hour, period.end + 9 * hour),  # into the next day: its last hour
    ]
    assert silenced_time(period, windows) == 6 * hour
    assert silenced_time(period, []) == timedelta(0)
