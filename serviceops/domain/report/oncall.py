"""On-call load in the operations report: how fast pages are answered, how often each person
is paged, and how many pages came out of hours (the numbers that say whether a rota is
bearable)."""

import math
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import groupby

from pydantic import BaseModel, Field

from serviceops.domain.incident import BusinessCalendar
from serviceops.domain.report.period import ReportPeriod


class PagedFacts(BaseModel):
    at: datetime
    persons: list[str]


class PageFacts(BaseModel):
    """One page opened in the period, with its incident's priority."""

    number: str
    group: str
    priority: int | None
    opened_at: datetime
    acknowledged_at: datetime | None
    paged: list[PagedFacts] = Field(default_factory=list)


class AcknowledgeTimes(BaseModel):
    """Time to acknowledge (page opened to acknowledged) of one group and priority."""

    group: str
    priority: int | None
    pages: int
    acknowledged: int
    p50: timedelta | None
    p90: timedelta | None


class PersonWeek(BaseModel):
    """How many pages reached one person in one week (weeks start on Monday, local time)."""

    person: str
    week: date
    pages: int


class OnCallKpis(BaseModel):
    pages: int = Field(description="Pages opened in the period.")
    acknowledged: int
    time_to_acknowledge: list[AcknowledgeTimes]
    per_person_week: list[PersonWeek]
    notifications: int = Field(description="People paged (a person once per step).")
    out_of_hours: int = Field(description="Of those, outside the business calendar's hours.")


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """The nearest-rank percentile (the smallest value at or above `fraction` of them)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def oncall_kpis(
    period: ReportPeriod, pages: Sequence[PageFacts], calendar: BusinessCalendar
) -> OnCallKpis:
    """Definitions: the population is the pages opened in the period. Time to acknowledge is
    acknowledged_at - opened_at, p50 and p90 by nearest rank per group and priority. A person
    counts once per page that reached them, in the local week (the period's timezone) of the
    first step that did. A notification is one person paged by one step; out of hours when
    the calendar is closed at that instant."""
    opened = [page for page in pages if period.contains(page.opened_at)]

    def by_group(page: PageFacts) -> tuple[str, int]:
        return page.group, page.priority if page.priority is not None else 99

    times = []
    for (group, _), grouped in groupby(sorted(opened, key=by_group), key=by_group):
        members = list(grouped)
        answered = [
            p.acknowledged_at - p.opened_at for p in members if p.acknowledged_at is not None
        ]
        times.append(
            AcknowledgeTimes(
                group=group,
                priority=members[0].priority,
                pages=len(members),
                acknowledged=len(answered),
                p50=percentile(answered, 0.5),
                p90=percentile(answered, 0.9),
            )
        )
    weeks: Counter[tuple[str, date]] = Counter()
    notifications = out_of_hours = 0
    for page in opened:
        first: dict[str, datetime] = {}
        for step in page.paged:
            for person in step.persons:
                first.setdefault(person, step.at)
                notifications += 1
                out_of_hours += not calendar.is_open(step.at)
        for person, at in first.items():
            local = period.local(at).date()
            weeks[person, local - timedelta(days=local.weekday())] += 1
    return OnCallKpis(
        pages=len(opened),
        acknowledged=sum(1 for p in opened if p.acknowledged_at is not None),
        time_to_acknowledge=times,
        per_person_week=[
            PersonWeek(person=person, week=week, pages=count)
            for (person, week), count in sorted(weeks.items(), key=lambda i: (i[0][1], i[0][0]))
        ],
        notifications=notifications,
        out_of_hours=out_of_hours,
    )
