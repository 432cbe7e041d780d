"""The KPI report computed over a hand-worked day of incidents and requests: counts, mean
times, SLA and quality rates (the arithmetic is in the comments)."""

from datetime import date, timedelta
from typing import Any

from serviceops.domain.incident import BusinessCalendar
from serviceops.domain.report import (
    EventFacts,
    KpiFacts,
    ProblemFacts,
    ReportKind,
    compute_kpis,
    compute_report,
    oncall_kpis,
    period_through,
    request_kpis,
)
from tests.unit.kpi_support import DAY, FIRST_LINE, INCIDENTS, PAGES, STAGES, at, incident, request


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
        pages=PAGES,
    )
    on_call = oncall_kpis(DAY, PAGES, BusinessCalendar())
    assert compute_report(facts, FIRST_LINE) == report().model_copy(update={"on_call": on_call})
    assert report().model_dump(mode="json")["period"]["first_day"] == "2026-11-25"
