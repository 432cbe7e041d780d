"""Trends that coincide: one cause, one problem (domain.problem.coincides).

A trend nobody owns whose incidents are mostly an open trend problem's joins that problem
(join_coinciding); one that joined and has grown apart from the trend the problem was opened
for leaves it again (let_drifted_go). TrendRepository.record calls both under its lock, in the
caller's transaction.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from serviceops.domain.problem import ProblemSource, Trend, coincides, joined_note
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.problem.problems import chunks
from serviceops.store.problem.tables import (
    ProblemIncidentRecord,
    ProblemRecord,
    ProblemTrendRecord,
)


def let_drifted_go(
    session: Session,
    trends: dict[str, Trend],
    owners: dict[str, str],
    since: datetime,
    now: datetime,
) -> None:
    """A trend that joined a problem and no longer coincides with the trend the problem was
    opened for (in this window) leaves it: the category network trend that joined service
    mail's problem over three incidents, grown to seven across vpn and dns, is a problem
    of its own again (an incident joins the mail problem when it is mail's). Its key is
    dropped from the problem and from `owners`, so record opens or gives it anew."""
    owned = {key: number for key, number in owners.items() if key in trends}
    if not owned:
        return
    primaries = dict(
        session.execute(
            select(ProblemRecord.number, ProblemRecord.trend_key).where(
                ProblemRecord.number.in_(sorted(set(owned.values())))
            )
        ).all()
    )
    incidents = IncidentRecord.__table__.c
    in_window = (incidents.created_at >= since) & (incidents.created_at <= now)
    for key, number in owned.items():
        primary = primaries.get(number)
        trend = trends[key]
        if primary is None or primary == key or trend.dimension == "major":
            continue
        dimension, value = primary.split(":", 1)
        if dimension not in ("service", "ci", "category"):
            continue
        own = incidents[dimension] == value
        both, of_primary = session.execute(
            select(
                func.count(case((incidents[trend.dimension] == trend.value, 1))),
                func.count(),
            ).where(in_window, own)
        ).one()
        if coincides(both, trend.count, of_primary):
            continue
        session.execute(
            delete(ProblemTrendRecord).where(
                ProblemTrendRecord.problem_number == number,
                ProblemTrendRecord.trend_key == key,
            )
        )
        del owners[key]


def join_coinciding(
    session: Session, dimension: str, trends: Sequence[Trend], since: datetime, now: datetime
) -> dict[str, tuple[str, str]]:
    """The trends (of one dimension, owned by nobody) that coincide with an open trend
    problem, given to it: their key is the problem's too, the dimension's value fills the
    problem's empty field of that name, and its description says so. Trend key ->
    (problem number, the note).

    Two statements for the whole dimension: how many of each trend's incidents in the
    window each open trend problem links, and how many each of those problems links.
    """
    incidents = IncidentRecord.__table__.c
    link, problem = ProblemIncidentRecord.__table__.c, ProblemRecord.__table__.c
    column = incidents[dimension]
    by_value = {trend.value: trend for trend in trends}
    shared: dict[str, dict[str, int]] = {}  # value -> problem number -> incidents shared
    for chunk in chunks(list(by_value)):
        rows = session.execute(
            select(column, link.problem_number, func.count())
            .select_from(
                IncidentRecord.__table__.join(
                    ProblemIncidentRecord.__table__, link.incident_number == incidents.number
                ).join(ProblemRecord.__table__, problem.number == link.problem_number)
            )
            .where(
                column.in_(list(chunk)),
                incidents.created_at >= since,
                incidents.created_at <= now,
                problem.closed_at.is_(None),
                problem.source == ProblemSource.TREND.value,
            )
            .group_by(column, link.problem_number)
        ).all()
        for value, number, count in rows:
            shared.setdefault(value, {})[number] = count
    candidates = sorted({number for counts in shared.values() for number in counts})
    linked: dict[str, int] = {}
    for chunk in chunks(candidates):
        linked.update(
            session.execute(
                select(link.problem_number, func.count())
                .where(link.problem_number.in_(list(chunk)))
                .group_by(link.problem_number)
            ).all()
        )
    joined: dict[str, tuple[str, str]] = {}
    for value, counts in shared.items():
        trend = by_value[value]
        fitting = [
            (count, number)
            for number, count in counts.items()
            if coincides(count, trend.count, linked[number])
        ]
        if not fitting:
            continue
        count, number = min(fitting, key=lambda pair: (-pair[0], pair[1]))  # most shared
        joined[trend.key] = number, _give(session, number, trend, count, now)
    return joined


def _give(session: Session, number: str, trend: Trend, shared: int, now: datetime) -> str:
    """`trend` joins problem `number`: its key, its dimension's value, its note (returned)."""
    session.add(ProblemTrendRecord(problem_number=number, trend_key=trend.key))
    row = session.scalars(select(ProblemRecord).where(ProblemRecord.number == number)).one()
    if getattr(row, trend.dimension) is None:
        setattr(row, trend.dimension, trend.value[:100])
    note = joined_note(trend, shared)
    row.description = f"{row.description} {note}".strip()
    row.updated_at = now
    session.flush()
    return note
