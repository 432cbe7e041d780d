"""KPI formulas against numbers worked out by hand (the arithmetic is in the comments)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from serviceops.domain.incident import target_met
from serviceops.domain.report import (
    EventFacts,
    IncidentFacts,
    KpiFacts,
    ProblemFacts,
    Rate,
    ReportKind,
    ReportPeriod,
    RequestFacts,
    bar_chart,
    compute_kpis,
    compute_report,
    mean_duration,
    percent,
    period_ending,
    period_through,
    request_kpis,
)

DAY = period_through(ReportKind.DAILY, date(2026, 11, 25))  # [11-25 00:00, 11-26 00:00) UTC
FIRST_LINE = "service-desk"


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def incident(number: str, **fields: Any) -> IncidentFacts:
    values: dict[str, Any] = {
        "number": number,
        "priority": 3,
        "major": False,
        "support_group": FIRST_LINE,
        "category_corrected": False,
        "reopen_count": 0,
        "functional_escalations": 0,
        "created_at": at(9),
        "resolved_at": None,
    }
    return IncidentFacts(**(values | fields))


def request(number: str, due_at: datetime, fulfilled_at: datetime | None, state: str = "fulfilled"):
    return RequestFacts(number=number, state=state, due_at=due_at, fulfilled_at=fulfilled_at)


# A: P1, 09:10 -> 11:10 (2h), major, first line; response met, resolution missed.
# B: P3, 09:40 -> 13:40 (4h), with network after a functional escalation, reopened once;
#    response stopped exactly at its due instant (missed, as the SLA sweep judges it),
#    resolution met.
# C: P3, 14:00, still open, category corrected; response stopped while paused with 20 min left.
# D: P4, logged yesterday 22:00, resolved today 02:00 (4h), first line; resolution met.
# E: unprioritised, logged 23:59, still open.
INCIDENTS = [
    incident(
        "INC-A",
        priority=1,
        major=True,
        created_at=at(9, 10),
        resolved_at=at(11, 10),
        response_due_at=at(9, 25),
        response_stopped_at=at(9, 15),
        resolution_due_at=at(10, 10),
        resolution_stopped_at=at(11, 10),
    ),
    incident(
        "INC-B",
        support_group="network",
        functional_escalations=1,
        reopen_count=1,
        created_at=at(9, 40),
        resolved_at=at(13, 40),
        response_due_at=at(11, 40),
        response_stopped_at=at(11, 40),
        resolution_due_at=at(9, 40, day=26),
        resolution_stopped_at=at(13, 40),
    ),
    incident(
        "INC-C",
        category_corrected=True,
        created_at=at(14),
        response_stopped_at=at(14, 30),
        response_remaining=timedelta(minutes=20),
    ),
    incident(
        "INC-D",
        priority=4,
        created_at=at(22, day=24),
        resolved_at=at(2),
        response_due_at=at(23, day=24),
        response_stopped_at=at(22, 30, day=24),
        resolution_due_at=at(22, day=26),
        resolution_stopped_at=at(2),
    ),
    incident("INC-E", priority=None, created_at=datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)),
]
STAGES = {"new": 1, "assigned": 1, "in_progress": 1, "resolved": 3}


def report(**changes: Any):
    arguments: dict[str, Any] = {
        "period": DAY,
        "incidents": INCIDENTS,
        "requests": [],
        "events": EventFacts(received=20, correlated=15, became_incident=5, incidents=2),
        "problems": ProblemFacts(opened=2, closed=1, open_at_end=4),
        "known_errors_added": 3,
        "first_line_group": FIRST_LINE,
        "stages": STAGES,
    }
    return compute_kpis(**(arguments | changes))


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


# --------------------------------------------------------------------------- the report


def test_incident_counts_backlog_and_stages() -> None:
    kpis = report().incidents
    assert kpis.logged == 4  # A, B, C, E (D was logged the day before)
    assert kpis.resolved == 3  # A, B, D
    assert kpis.backlog == 3  # new 1 + assigned 1 + in_progress 1 (resolved is not open)
    assert [(s.stage, s.count) for s in kpis.stages] == [
        ("new", 1),
        ("assigned", 1),
        ("in_progress", 1),
        ("pending", 0),
        ("resolved", 3),
        ("closed", 0),
    ]


def test_mean_time_to_resolve_overall_and_by_priority() -> None:
    kpis = report().incidents
    # (2h + 4h + 4h) / 3 = 3h 20m
    assert kpis.mean_time_to_resolve == timedelta(hours=3, minutes=20)
    rows = {row.label: (row.resolved, row.mean_time_to_resolve) for row in kpis.by_priority}
    assert rows == {
        "P1 Critical": (1, timedelta(hours=2)),  # A
        "P2 High": (0, None),
        "P3 Medium": (1, timedelta(hours=4)),  # B (C is still open)
        "P4 Low": (1, timedelta(hours=4)),  # D: 22:00 -> 02:00
        "P5 Planning": (0, None),
    }  # no "unprioritised" row: E is not resolved


def test_sla_rates() -> None:
    kpis = report().incidents
    # response stopped today: A (09:15 < 09:25 met), B (at due: missed), C (paused, 20m left:
    # met); D's stopped yesterday -> 2 of 3 = 66.7%
    assert kpis.within_response.model_dump() == {"count": 2, "of": 3, "percent": 66.7}
    # resolution stopped today: A (11:10 > 10:10 missed), B (met), D (met) -> 2 of 3
    assert kpis.within_resolution.model_dump() == {"count": 2, "of": 3, "percent": 66.7}


def test_quality_rates() -> None:
    kpis = report().incidents
    # of the 3 resolved (A, B, D): B was reopened -> 1/3 = 33.3%
    assert (kpis.reopened.count, kpis.reopened.of, kpis.reopened.percent) == (1, 3, 33.3)
    # first line: A and D (service-desk, no functional escalation); B is with network -> 2/3
    assert (kpis.first_line.count, kpis.first_line.of) == (2, 3)
    # of the 4 logged (A, B, C, E): major A, reassigned B, recategorized C -> 1/4 = 25.0% each
    for rate in (kpis.major, kpis.incorrectly_assigned, kpis.incorrectly_categorized):
        assert (rate.count, rate.of, rate.percent) == (1, 4, 25.0)


def test_first_line_needs_the_group_and_no_functional_escalation() -> None:
    back_again = incident(
        "INC-F", functional_escalations=1, created_at=at(8), resolved_at=at(9)
    )  # escalated away and back to the service desk: not first line
    kpis = report(incidents=[back_again], first_line_group=FIRST_LINE).incidents
    assert (kpis.first_line.count, kpis.first_line.of) == (0, 1)
    other = report(incidents=INCIDENTS, first_line_group="helpdesk").incidents
    assert other.first_line.count == 0


def test_incidents_by_hour_of_day() -> None:
    kpis = report().incidents
    expected = [0] * 24
    expected[9] = 2  # A 09:10, B 09:40
    expected[14] = 1  # C
    expected[23] = 1  # E 23:59:59
    assert kpis.by_hour == expected
    assert kpis.hour_rows()[9] == ("09", 2)
    # the same instants in Paris (UTC+1): 10h x2, 15h, and E falls on the next local day
    paris = period_through(ReportKind.DAILY, date(2026, 11, 25), "Europe/Paris")
    shifted = report(period=paris).incidents
    # Paris 11-25 is [11-24 23:00, 11-25 23:00) UTC: D (22:00 on 11-24) and E are outside
    assert shifted.by_hour[10] == 2 and shifted.by_hour[15] == 1 and sum(shifted.by_hour) == 3


def test_weekly_counts_per_day() -> None:
    week = period_through(ReportKind.WEEKLY, date(2026, 11, 29))  # Mon 11-23 .. Sun 11-29
    kpis = report(period=week).incidents
    per_day = {row.day.day: (row.logged, row.resolved) for row in kpis.by_day}
    assert per_day == {
        23: (0, 0),
        24: (1, 0),  # D logged
        25: (4, 3),  # A, B, C, E logged; A, B, D resolved
        26: (0, 0),
        27: (0, 0),
        28: (0, 0),
        29: (0, 0),
    }
    assert kpis.logged == 5 and kpis.day_rows()[1] == ("Tue 11-24", 1)


def test_requests_fulfilled_on_time() -> None:
    requests = [
        request("REQ-1", at(10), at(9)),  # on time
        request("REQ-2", at(12), at(12)),  # on time: at its due time
        request("REQ-3", at(15), at(16)),  # late
        request("REQ-4", at(18), None, "fulfilling"),  # not fulfilled: late, unfulfilled
        request("REQ-5", at(20), None, "rejected"),  # nothing to fulfil: not counted
        request("REQ-6", at(12, day=24), at(8)),  # due yesterday: fulfilled today only
        request("REQ-7", at(22), at(1, day=26)),  # fulfilled after the end: unfulfilled
    ]
    kpis = request_kpis(DAY, requests)
    # due: 1, 2, 3, 4, 7 = 5; on time: 1, 2 -> 2/5 = 40.0%
    assert (kpis.due, kpis.on_time.count, kpis.on_time.percent) == (5, 2, 40.0)
    assert kpis.unfulfilled == 2  # 4, 7
    assert kpis.fulfilled == 4  # 1, 2, 3, 6 (7 was fulfilled the next day)


def test_events_problems_and_known_errors() -> None:
    kpis = report()
    # 5 of 20 events were in alerts that raised an incident: 25.0%
    assert kpis.events.became_incident.model_dump() == {"count": 5, "of": 20, "percent": 25.0}
    assert (kpis.events.received, kpis.events.correlated, kpis.events.incidents) == (20, 15, 2)
    assert (kpis.problems.opened, kpis.problems.closed, kpis.problems.open_at_end) == (2, 1, 4)
    assert kpis.known_errors_added == 3


def test_an_empty_period_has_no_rates_and_no_division_by_zero() -> None:
    empty = report(
        incidents=[], stages={}, events=EventFacts(), problems=ProblemFacts(), known_errors_added=0
    )
    kpis = empty.incidents
    assert (kpis.logged, kpis.resolved, kpis.backlog) == (0, 0, 0)
    assert kpis.mean_time_to_resolve is None
    assert all(row.mean_time_to_resolve is None for row in kpis.by_priority)
    for rate in (
        kpis.within_response,
        kpis.within_resolution,
        kpis.reopened,
        kpis.first_line,
        kpis.major,
        kpis.incorrectly_assigned,
        kpis.incorrectly_categorized,
        empty.events.became_incident,
        empty.requests.on_time,
    ):
        assert (rate.count, rate.of, rate.percent) == (0, 0, None)
    assert kpis.by_hour == [0] * 24
    assert [s.count for s in kpis.stages] == [0] * 6


def test_open_incidents_count_in_the_backlog_only() -> None:
    still_open = incident("INC-G", created_at=at(8))  # no resolution, no clock stopped
    kpis = report(incidents=[still_open], stages={"in_progress": 1}).incidents
    assert (kpis.logged, kpis.resolved, kpis.backlog) == (1, 0, 1)
    assert kpis.mean_time_to_resolve is None and kpis.reopened.of == 0
    assert kpis.within_response.of == 0 and kpis.within_resolution.of == 0


def test_unknown_states_are_kept_and_unprioritised_resolutions_listed() -> None:
    odd = report(
        incidents=[incident("INC-H", priority=None, created_at=at(1), resolved_at=at(2))],
        stages={"new": 2, "triage": 1},
    ).incidents
    assert odd.stages[-1].model_dump() == {"stage": "triage", "count": 1}
    assert odd.backlog == 2  # "triage" is not an open state this code knows
    assert odd.by_priority[-1].label == "unprioritised"
    assert odd.by_priority[-1].mean_time_to_resolve == timedelta(hours=1)


def test_compute_report_is_compute_kpis_over_the_facts() -> None:
    facts = KpiFacts(
        period=DAY,
        incidents=INCIDENTS,
        stages=STAGES,
        requests=[],
        events=EventFacts(received=20, correlated=15, became_incident=5, incidents=2),
        problems=ProblemFacts(opened=2, closed=1, open_at_end=4),
        known_errors_added=3,
    )
    assert compute_report(facts, FIRST_LINE) == report()
    assert report().model_dump(mode="json")["period"]["first_day"] == "2026-11-25"
