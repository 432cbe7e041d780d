"""The hand-worked day of incidents and requests that the KPI and ops report tests compute
their numbers from (the arithmetic is in the tests' comments)."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from serviceops.domain.report import (
    IncidentFacts,
    PagedFacts,
    PageFacts,
    ReportKind,
    RequestFacts,
    period_through,
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


def page(number: int, group: str, priority: int, opened: datetime, answered: datetime | None,
         *persons: str) -> PageFacts:  # fmt: skip
    """A page whose one step paged `persons` when it opened."""
    return PageFacts(number=f"PGE-{number:06d}", group=group, priority=priority, opened_at=opened,
                     acknowledged_at=answered,
                     paged=[PagedFacts(at=opened, persons=list(persons))])  # fmt: skip


# Two pages of the day: one answered at night after 6 minutes, one never answered.
PAGES = [
    page(1, "operations", 1, at(3, 0), at(3, 6), "alex"),
    page(2, "dba", 2, at(14, 0), None, "dana", "olivia"),
]
