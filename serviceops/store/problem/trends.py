"""Trend detection over the incident history, in SQL from end to end.

`detect` is one GROUP BY .. HAVING per dimension over an index range of incidents.created_at,
and `record` links the trends' incidents with one INSERT .. SELECT per dimension: no incident
passes through Python, and the cost follows the incidents in the window, not the history
(bench/detect_problems_scale.py). A detection run (the detect-problems flow)::

    with sessions.begin() as session:
        trends = TrendRepository(session)
        recorded = trends.record(trends.detect(rule, now), rule, now)
        for number, created, grew in recorded:
            if created:  # audit the new problem, categorize and prioritize it ...
"""

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, case, func, literal, select, update
from sqlalchemy.orm import Session

from serviceops.domain.problem import Trend, TrendRule, draft_for
from serviceops.store.base import UTCDateTime
from serviceops.store.db import dialect_insert
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.locks import ProcessingLockRecord
from serviceops.store.problem.coinciding import join_coinciding, let_drifted_go
from serviceops.store.problem.problems import CHUNK, chunks, new_row_values, problem_number, recount
from serviceops.store.problem.tables import (
    ProblemIncidentRecord,
    ProblemRecord,
    ProblemTrendRecord,
)

# The processing_locks row record takes: detection runs are serialized.
TRENDS_LOCK = "record-trends"


class RecordedTrend(NamedTuple):
    """What `record` did with one trend: the problem that owns it, whether this run
    opened it (False: an open problem owned it already), whether it gained incidents, and,
    when this run gave the trend to a problem opened for another that coincides, why."""

    number: str
    created: bool
    grew: bool = False  # incidents were linked to it by this run
    joined: str | None = None  # the note (domain.problem.joined_note) when it was given


class TrendRepository:
    """The trends in a window, and the problems that own them; the caller owns the session
    and its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def detect(self, rule: TrendRule, now: datetime) -> list[Trend]:
        """The trends in the window [now - rule.window, now] (both ends included): per
        dimension, each value shared by at least rule.min_incidents incidents (one
        GROUP BY .. HAVING over the created_at index range), most incidents first; then, with
        include_major, one trend per major incident logged in the window, oldest first.

        Incidents count whatever their state: a recurring fault shows as much in resolved
        incidents as in open ones. Incidents without a CI count for no CI.
        """
        since = now - rule.window
        incidents = IncidentRecord.__table__.c
        in_window = (incidents.created_at >= since) & (incidents.created_at <= now)
        trends: list[Trend] = []
        for dimension in rule.dimensions:
            column = incidents[dimension]
            count = func.count()
            rows = self.session.execute(
                select(
                    column,
                    count,
                    func.min(incidents.created_at),
                    func.max(incidents.created_at),
                )
                .where(in_window, column.is_not(None))
                .group_by(column)
                .having(count >= rule.min_incidents)
                .order_by(count.desc(), column)
            ).all()
            trends.extend(
                Trend(dimension=dimension, value=value, count=n, first_at=first, last_at=last)
                for value, n, first, last in rows
            )
        if rule.include_major:
            rows = self.session.execute(
                select(
                    incidents.number,
                    incidents.title,
                    incidents.service,
                    incidents.ci,
                    incidents.category,
                    incidents.created_at,
                )
                .where(in_window, incidents.major.is_(True), incidents.number.is_not(None))
                .order_by(incidents.created_at, incidents.id)
            ).all()
            trends.extend(
                Trend(
                    dimension="major",
                    value=number,
                    count=1,
                    first_at=at,
                    last_at=at,
                    incident_numbers=[number],
                    summary=title,
                    service=service,
                    ci=ci,
                    category=category,
                )
                for number, title, service, ci, category, at in rows
            )
        return trends

    def record(
        self, trends: Sequence[Trend], rule: TrendRule, now: datetime
    ) -> list[RecordedTrend]:
        """Give every trend a problem and link the trend's incidents to it; per trend, in
        order, the problem's number and whether this call opened it.

        A trend whose key an open (not closed) problem owns goes to that problem. A trend
        nobody owns whose incidents are mostly those of an open trend problem, and most of
        that problem's (domain.problem.coincides), joins it: one cause, one problem, with the
        trend's dimension on it. Otherwise a new problem is logged from
        domain.problem.draft_for (state new, source trend or major_incident, the trend key).
        Dimensions are taken in the rule's order, each linked before the next looks for the
        problems it coincides with. The trends' incidents within the rule's window are linked
        by INSERT .. SELECT .. ON CONFLICT DO NOTHING, one statement per dimension (see
        _link_dimension), so running it again links only incidents that are new since, and an
        incident of two trends of one problem is linked to it once; the problems'
        frequencies are recounted.

        Never two problems for one trend: runs are serialized on the TRENDS_LOCK row (taken
        first, so on SQLite the transaction's first statement is this write and waits for the
        other writer instead of failing), and the partial unique index on open trend keys
        would turn a duplicate into a conflict the insert skips.

        An incident may still be linked to several problems: those of trends that do not
        coincide (its service's and a broad category's), and a major incident's own problem.
        """
        if not trends:
            return []
        self._lock(now)
        first_of: dict[str, Trend] = {}  # the first trend of each key, in order
        for trend in trends:
            first_of.setdefault(trend.key, trend)
        owners = self._owners(list(first_of))
        since = now - rule.window
        let_drifted_go(self.session, first_of, owners, since, now)
        opened: dict[str, str] = {}
        joined: dict[str, tuple[str, str]] = {}  # trend key -> (problem number, note)
        for dimension in dict.fromkeys(trend.dimension for trend in first_of.values()):
            of_dimension = {k: t for k, t in first_of.items() if t.dimension == dimension}
            unowned = [t for k, t in of_dimension.items() if k not in owners]
            if unowned and dimension != "major":
                given = join_coinciding(self.session, dimension, unowned, since, now)
                joined.update(given)
                owners.update({key: number for key, (number, _) in given.items()})
            opened.update(self._open_many([t for t in unowned if t.key not in owners], rule, now))
            owners.update(opened)
            missing = [key for key in of_dimension if key not in owners]
            if missing:  # a concurrent run without the lock opened them
                owners.update(self._owners(missing))
            problems = {t.value: owners[key] for key, t in of_dimension.items()}
            self._link_dimension(dimension, problems, since, now)
        grown = recount(self.session, list(dict.fromkeys(owners[key] for key in first_of)), now)
        results: list[RecordedTrend] = []
        reported: set[str] = set()
        for trend in trends:
            fresh = trend.key not in reported
            reported.add(trend.key)
            number = owners[trend.key]
            results.append(
                RecordedTrend(
                    number,
                    trend.key in opened and fresh,
                    number in grown,
                    joined=joined[trend.key][1] if trend.key in joined and fresh else None,
                )
            )
        return results

    # ----------------------------------------------------------------------- internals

    def _lock(self, at: datetime) -> None:
        """Take the TRENDS_LOCK row (created on first use) until the transaction ends: a row
        lock on PostgreSQL, the database write lock on SQLite."""
        insert = dialect_insert(self.session)
        statement = insert(ProcessingLockRecord).values(name=TRENDS_LOCK, taken_at=at)
        self.session.execute(
            statement.on_conflict_do_update(index_elements=["name"], set_={"taken_at": at})
        )

    def _owners(self, keys: Sequence[str]) -> dict[str, str]:
        """Trend key -> number of the open problem that owns it, for the keys that have one."""
        trend, problem = ProblemTrendRecord, ProblemRecord
        owners: dict[str, str] = {}
        for chunk in chunks(list(dict.fromkeys(keys))):
            rows = self.session.execute(
                select(trend.trend_key, trend.problem_number)
                .join(problem, problem.number == trend.problem_number)
                .where(trend.trend_key.in_(chunk), problem.closed_at.is_(None))
            ).all()
            owners.update(dict(rows))
        return owners

    def _open_many(self, trends: Sequence[Trend], rule: TrendRule, now: datetime) -> dict[str, str]:
        """New problems for trends nobody owns, in one INSERT per chunk; trend key -> number
        of those opened. A key a concurrent run opened first is skipped by the partial unique
        index (after waiting for that run's commit) and left out of the answer."""
        table = ProblemRecord.__table__
        insert = dialect_insert(self.session)
        opened: dict[str, str] = {}
        for start in range(0, len(trends), CHUNK):
            chunk = trends[start : start + CHUNK]
            values = [
                new_row_values(draft_for(t, rule), t.source, now, t.key, t.dimension == "major")
                for t in chunk
            ]
            statement = (
                insert(table)
                .values(values)
                .on_conflict_do_nothing(
                    index_elements=["trend_key"], index_where=table.c.closed_at.is_(None)
                )
                .returning(table.c.id, table.c.trend_key)
            )
            new = self.session.execute(statement).all()
            if not new:
                continue
            numbers = [{"b_id": row_id, "b_number": problem_number(row_id)} for row_id, _ in new]
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(number=bindparam("b_number")),
                numbers,
            )
            fresh = {key: problem_number(row_id) for row_id, key in new}
            self.session.execute(
                insert(ProblemTrendRecord),
                [{"problem_number": n, "trend_key": key} for key, n in fresh.items()],
            )
            opened.update(fresh)
        return opened

    def _link_dimension(
        self, dimension: str, problems: dict[str, str], since: datetime, now: datetime
    ) -> int:
        """Link the incidents of a dimension's trends (value -> problem number) with one
        INSERT .. SELECT per chunk of trends: the incidents in the window whose value is one
        of the trends', each given its trend's problem by a CASE on the value. How many links
        were new.

        One statement per dimension, not one per trend: PostgreSQL reads a busy window
        through the created_at index whatever the value, so 300 per-trend statements read the
        window 300 times (1.3 s over 1,000,000 incidents); here it is read once per dimension.
        No join to the problems either: the owners are known (found under the lock), and a
        join let SQLite's planner read the window once per problem. A major incident's trend
        links that incident only, whatever the window.
        """
        incidents = IncidentRecord.__table__.c
        value = incidents.number if dimension == "major" else incidents[dimension]
        insert = dialect_insert(self.session)
        linked = 0
        items = list(problems.items())
        for start in range(0, len(items), CHUNK):
            chunk = dict(items[start : start + CHUNK])
            owner = case(chunk, value=value)
            rows = select(owner, incidents.number, literal(now, UTCDateTime())).where(
                value.in_(list(chunk)), incidents.number.is_not(None)
            )
            if dimension != "major":
                rows = rows.where(incidents.created_at >= since, incidents.created_at <= now)
            statement = (
                insert(ProblemIncidentRecord)
                .from_select(["problem_number", "incident_number", "linked_at"], rows)
                .on_conflict_do_nothing(index_elements=["problem_number", "incident_number"])
                .execution_options(preserve_rowcount=True)
            )
            linked += int(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]
        return linked
