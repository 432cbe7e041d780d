"""On-call load in the ops report: time to acknowledge by group and priority (nearest-rank
p50/p90), pages per person per local week, and pages out of business hours."""

from datetime import UTC, date, datetime, timedelta

from serviceops.domain.incident import BusinessCalendar
from serviceops.domain.report import (
    PagedFacts,
    PageFacts,
    ReportKind,
    oncall_kpis,
    percentile,
    period_through,
)

WEEK = period_through(ReportKind.WEEKLY, date(2026, 11, 29), "Europe/London")  # Mon 23 - Sun 29
OFFICE = BusinessCalendar(timezone="Europe/London")  # Monday to Friday, 09:00 to 17:00


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # London is on UTC in November


def _page(n: int, group: str, priority: int, opened: datetime, answered_after: int | None,
          *steps: tuple[int, list[str]]) -> PageFacts:  # fmt: skip
    """A page opened at `opened`, each step (minutes after, whom) paged, answered after
    `answered_after` minutes (None: never)."""
    acknowledged = None if answered_after is None else opened + timedelta(minutes=answered_after)
    paged = [PagedFacts(at=opened + timedelta(minutes=m), persons=p) for m, p in steps]
    return PageFacts(number=f"PGE-{n:06d}", group=group, priority=priority, opened_at=opened,
                     acknowledged_at=acknowledged, paged=paged)  # fmt: skip


def test_percentile_is_the_nearest_rank() -> None:
    minutes = [timedelta(minutes=m) for m in (9, 1, 5, 3, 7)]
    assert percentile(minutes, 0.5) == timedelta(minutes=5)
    assert percentile(minutes, 0.9) == timedelta(minutes=9)
    assert percentile(minutes[:1], 0.9) == timedelta(minutes=9)
    assert percentile([], 0.5) is None


def test_time_to_acknowledge_by_group_and_priority() -> None:
    pages = [
        _page(1, "operations", 1, _at(24, 10), 2, (0, ["alex"])),
        _page(2, "operations", 1, _at(24, 11), 4, (0, ["alex"])),
        _page(3, "operations", 1, _at(24, 12), 10, (0, ["alex"]), (5, ["casey"])),
        _page(4, "operations", 2, _at(25, 10), None, (0, ["alex"]), (5, ["casey"])),
        _page(5, "dba", 1, _at(25, 10), 1, (0, ["dana"])),
        _page(6, "dba", 1, _at(30, 10), 1, (0, ["dana"])),  # the next week: not counted
    ]
    kpis = oncall_kpis(WEEK, pages, OFFICE)
    rows = [(r.group, r.priority, r.pages, r.acknowledged, r.p50, r.p90)
            for r in kpis.time_to_acknowledge]  # fmt: skip
    minute = timedelta(minutes=1)
    assert rows == [
        ("dba", 1, 1, 1, minute, minute),
        ("operations", 1, 3, 3, 4 * minute, 10 * minute),
        ("operations", 2, 1, 0, None, None),
    ]
    assert (kpis.pages, kpis.acknowledged) == (5, 4)


def test_pages_per_person_per_local_week_and_out_of_hours() -> None:
    pages = [
        # Monday 03:00 and Sunday 23:30: out of hours; Tuesday 10:00: in hours
        _page(1, "operations", 1, _at(23, 3), None, (0, ["alex"]), (5, ["casey"]), (10, ["alex"])),
        _page(2, "operations", 2, _at(24, 10), 3, (0, ["alex"])),
        _page(3, "operations", 1, _at(29, 23, 30), 3, (0, ["casey"])),
    ]
    kpis = oncall_kpis(WEEK, pages, OFFICE)
    weeks = [(r.person, r.week, r.pages) for r in kpis.per_person_week]
    assert weeks == [("alex", date(2026, 11, 23), 2), ("casey", date(2026, 11, 23), 2)]
    assert (kpis.notifications, kpis.out_of_hours) == (5, 4)


def test_a_week_in_another_timezone_starts_on_its_own_monday() -> None:
    week = period_through(ReportKind.WEEKLY, date(2026, 11, 29), "Pacific/Auckland")
    late = _page(1, "web", 1, datetime(2026, 11, 22, 12, 30, tzinfo=UTC), None, (0, ["wes"]))
    # 22 Nov 12:30 UTC is Monday 23 Nov 01:30 in Auckland
    (row,) = oncall_kpis(week, [late], OFFICE).per_person_week
    assert (row.person, row.week) == ("wes", date(2026, 11, 23))
