"""Problems, the incidents they link, and trend detection over the incident history.

The caller owns the session and its transaction, as everywhere in the store. Trend detection
is SQL from end to end: `detect_trends` is one GROUP BY .. HAVING per dimension over an index
range of incidents.created_at, and `record_trends` links the trends' incidents with one
INSERT .. SELECT per dimension: no incident passes through Python, and the cost follows the
incidents in the window, not the history (bench/detect_problems_scale.py).

A typical detection run (the detect-problems flow)::

    with sessions.begin() as session:
        problems = ProblemRepository(session)
        trends = problems.detect_trends(rule, now)
        recorded = problems.record_trends(trends, rule, now)
        for number, created in recorded:
            if created:  # audit the new problem, categorize and prioritize it ...
                AuditRepository(session).add(domain.problem.logged(problems.get(number)))
"""

# ProblemRepository.list shadows the builtin in its class body; postponed annotations keep
# the later `-> list[Problem]` annotations meaning the builtin.
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import String, bindparam, func, literal, select, update
from sqlalchemy.orm import Session

from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import (
    Problem,
    ProblemDraft,
    ProblemSource,
    ProblemState,
    Trend,
    TrendRule,
    draft_for,
)
from serviceops.store.db import dialect_insert
from serviceops.store.records import (
    IncidentRecord,
    ProblemIncidentRecord,
    ProblemRecord,
    ProcessingLockRecord,
    UTCDateTime,
)
from serviceops.store.repositories import RecordNotFound

__all__ = ["TRENDS_LOCK", "ProblemRepository", "RecordedTrend"]

# The processing_locks row record_trends takes: detection runs are serialized.
TRENDS_LOCK = "record-trends"

# Bound parameters per IN (...) list: far below SQLite's and PostgreSQL's limits.
_CHUNK = 500


class RecordedTrend(NamedTuple):
    """What record_trends did with one trend: the problem that owns it, whether this run
    opened it (False: an open problem owned it already), and whether it gained incidents."""

    number: str
    created: bool
    grew: bool = False  # incidents were linked to it by this run


def problem_number(problem_id: int) -> str:
    return f"PRB-{problem_id:06d}"


def _problem_from_row(row: ProblemRecord, incident_numbers: list[str]) -> Problem:
    if row.number is None:  # only between the two statements that create a problem
        raise RuntimeError(f"problem row {row.id} has no number yet")
    return Problem(
        number=row.number,
        title=row.title,
        description=row.description,
        state=ProblemState(row.state),
        source=ProblemSource(row.source),
        trend_key=row.trend_key,
        service=row.service,
        ci=row.ci,
        category=row.category,
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        priority=None if row.priority is None else Priority(row.priority),
        frequency=row.frequency,
        major=row.major,
        reporter=row.reporter,
        root_cause=row.root_cause,
        investigation_notes=row.investigation_notes,
        workaround=row.workaround,
        known_error_number=row.known_error_number,
        change_ref=row.change_ref,
        resolution=row.resolution,
        review_summary=row.review_summary,
        review_lessons=row.review_lessons,
        incident_numbers=incident_numbers,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reviewed_at=row.reviewed_at,
    )


def _problem_to_row(problem: Problem, row: ProblemRecord) -> None:
    """What the steps change. Not the number, source, trend key and created_at (fixed when
    the problem is logged), nor frequency and links (the store keeps them, see link)."""
    row.title = problem.title
    row.description = problem.description
    row.state = ProblemState(problem.state).value
    row.service = problem.service
    row.ci = problem.ci
    row.category = problem.category
    row.impact = problem.impact.value
    row.urgency = problem.urgency.value
    row.priority = None if problem.priority is None else int(problem.priority)
    row.major = problem.major
    row.reporter = problem.reporter
    row.root_cause = problem.root_cause
    row.investigation_notes = problem.investigation_notes
    row.workaround = problem.workaround
    row.known_error_number = problem.known_error_number
    row.change_ref = problem.change_ref
    row.resolution = problem.resolution
    row.review_summary = problem.review_summary
    row.review_lessons = problem.review_lessons
    row.updated_at = problem.updated_at
    row.resolved_at = problem.resolved_at
    row.closed_at = problem.closed_at
    row.reviewed_at = problem.reviewed_at


def _new_row_values(
    draft: ProblemDraft, source: ProblemSource, at: datetime, trend_key: str | None, major: bool
) -> dict[str, Any]:
    return {
        "title": draft.title,
        "description": draft.description,
        "state": ProblemState.NEW.value,
        "source": ProblemSource(source).value,
        "trend_key": trend_key,
        "service": draft.service,
        "ci": draft.ci,
        "category": draft.category,
        "impact": draft.impact.value,
        "urgency": draft.urgency.value,
        "priority": None,
        "frequency": 0,
        "major": major,
        "reporter": draft.reporter,
        "created_at": at,
        "updated_at": at,
    }


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class ProblemRepository:
    """Problems by number (PRB-000042); the caller owns the session and its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ----------------------------------------------------------------------- records

    def add(
        self,
        draft: ProblemDraft,
        source: ProblemSource,
        at: datetime,
        *,
        trend_key: str | None = None,
        major: bool = False,
    ) -> Problem:
        """Log a new problem (state new, no incidents yet). A `trend_key` that a problem not
        yet closed owns already fails with IntegrityError: record_trends is the way to open
        problems for trends, it finds the owner instead."""
        row = ProblemRecord(**_new_row_values(draft, source, at, trend_key, major))
        self.session.add(row)
        self.session.flush()
        row.number = problem_number(row.id)
        self.session.flush()
        return _problem_from_row(row, [])

    def get(self, number: str, *, for_update: bool = False, with_incidents: bool = True) -> Problem:
        """The problem as stored now, with its linked incidents unless `with_incidents` is
        False (a trend's problem may have thousands; `frequency` counts them either way).
        `for_update` locks the row until the caller's transaction ends (read-decide-save
        against a concurrent run)."""
        row = self._row(number, for_update=for_update)
        return self._problem(row) if with_incidents else _problem_from_row(row, [])

    def save(self, problem: Problem) -> Problem:
        """Write a step's result back (flushed, so a constraint error surfaces here). The
        frequency and the links are the store's: see `link`."""
        row = self._row(problem.number)
        _problem_to_row(problem, row)
        self.session.flush()
        return self._problem(row)

    def list(
        self,
        *,
        state: ProblemState | None = None,
        limit: int = 100,
        offset: int = 0,
        with_incidents: bool = False,
    ) -> list[Problem]:
        """Newest first. `incident_numbers` is left empty unless `with_incidents` (a trend's
        problem may link thousands; `frequency` has the count)."""
        statement = select(ProblemRecord).execution_options(populate_existing=True)
        if state is not None:
            statement = statement.where(ProblemRecord.state == ProblemState(state).value)
        statement = (
            statement.order_by(ProblemRecord.created_at.desc(), ProblemRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = self.session.scalars(statement).all()
        links: dict[str, list[str]] = {}
        if with_incidents:
            links = self._incidents_of_many([row.number for row in rows if row.number])
        return [_problem_from_row(row, links.get(row.number or "", [])) for row in rows]

    # ----------------------------------------------------------------------- links

    def link(self, number: str, incident_numbers: Sequence[str], at: datetime) -> int:
        """Link incidents to the problem; how many were not linked yet. Linking twice is
        harmless (INSERT .. ON CONFLICT DO NOTHING), concurrent linking too. The problem's
        frequency is recounted from the links, never incremented, so it cannot drift.
        RecordNotFound for an unknown problem or incident (nothing is linked then)."""
        self._row(number)
        wanted = list(dict.fromkeys(incident_numbers))
        if not wanted:
            return 0
        known: set[str | None] = set()
        for chunk in _chunks(wanted):
            known.update(
                self.session.scalars(
                    select(IncidentRecord.number).where(IncidentRecord.number.in_(chunk))
                ).all()
            )
        missing = [n for n in wanted if n not in known]
        if missing:
            raise RecordNotFound("incident", missing[0])
        insert = dialect_insert(self.session)
        # preserve_rowcount: SQLAlchemy keeps an INSERT's rowcount only when asked.
        statement = (
            insert(ProblemIncidentRecord)
            .on_conflict_do_nothing(index_elements=["problem_number", "incident_number"])
            .execution_options(preserve_rowcount=True)
        )
        linked = 0
        for chunk in _chunks(wanted):
            result = self.session.execute(
                statement.values(
                    [
                        {"problem_number": number, "incident_number": n, "linked_at": at}
                        for n in chunk
                    ]
                )
            )
            linked += result.rowcount  # type: ignore[attr-defined]
        if linked:
            self._recount([number], at)
        return linked

    def incidents_of(self, number: str) -> list[str]:
        """The incidents linked to a problem, in the order they were linked."""
        return self._incidents_of_many([number]).get(number, [])

    # ----------------------------------------------------------------------- trends

    def detect_trends(self, rule: TrendRule, now: datetime) -> list[Trend]:
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

    def record_trends(
        self, trends: Sequence[Trend], rule: TrendRule, now: datetime
    ) -> list[RecordedTrend]:
        """Give every trend a problem and link the trend's incidents to it; per trend, in
        order, the problem's number and whether this call opened it.

        A trend whose key an open (not closed) problem owns goes to that problem; otherwise a
        new problem is logged from domain.problem.draft_for (state new, source trend or
        major_incident, the trend key). The trends' incidents within the rule's window are
        linked by INSERT .. SELECT .. ON CONFLICT DO NOTHING, one statement per dimension
        (see _link_dimension), so running it again links only incidents that are new since;
        the problems' frequencies are recounted.

        Never two problems for one trend: runs are serialized on the TRENDS_LOCK row (taken
        first, so on SQLite the transaction's first statement is this write and waits for the
        other writer instead of failing), and the partial unique index on open trend keys
        would turn a duplicate into a conflict the insert skips.

        An incident may be linked to several problems: those of its service, its CI and its
        category trends, and a major incident's own problem. They are different views of the
        same history, and investigation may merge or close them.
        """
        if not trends:
            return []
        self._lock(now)
        first_of: dict[str, Trend] = {}  # the first trend of each key, in order
        for trend in trends:
            first_of.setdefault(trend.key, trend)
        owners = self._owners(list(first_of))
        opened = self._open_many([t for key, t in first_of.items() if key not in owners], rule, now)
        owners.update(opened)
        if len(owners) < len(first_of):  # a concurrent run without the lock opened them
            owners.update(self._owners([key for key in first_of if key not in owners]))
        since = now - rule.window
        by_dimension: dict[str, dict[str, str]] = {}  # dimension -> value -> problem number
        for key, trend in first_of.items():
            by_dimension.setdefault(trend.dimension, {})[trend.value] = owners[key]
        for dimension, problems in by_dimension.items():
            self._link_dimension(dimension, problems, since, now)
        grown = self._recount(list(dict.fromkeys(owners[key] for key in first_of)), now)
        results: list[RecordedTrend] = []
        reported: set[str] = set()
        for trend in trends:
            created = trend.key in opened and trend.key not in reported
            reported.add(trend.key)
            number = owners[trend.key]
            results.append(RecordedTrend(number, created, number in grown))
        return results

    # ----------------------------------------------------------------------- internals

    def _row(self, number: str, *, for_update: bool = False) -> ProblemRecord:
        statement = (
            select(ProblemRecord)
            .where(ProblemRecord.number == number)
            .execution_options(populate_existing=True)
        )
        if for_update:
            statement = statement.with_for_update()
        row = self.session.scalars(statement).one_or_none()
        if row is None:
            raise RecordNotFound("problem", number)
        return row

    def _problem(self, row: ProblemRecord) -> Problem:
        return _problem_from_row(row, self.incidents_of(row.number) if row.number else [])

    def _incidents_of_many(self, numbers: Sequence[str]) -> dict[str, list[str]]:
        link = ProblemIncidentRecord
        found: dict[str, list[str]] = {}
        for chunk in _chunks(list(numbers)):
            rows = self.session.execute(
                select(link.problem_number, link.incident_number)
                .where(link.problem_number.in_(chunk))
                .order_by(link.linked_at, link.incident_number)
            ).all()
            for problem, incident in rows:
                found.setdefault(problem, []).append(incident)
        return found

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
        owners: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            rows = self.session.execute(
                select(ProblemRecord.trend_key, ProblemRecord.number).where(
                    ProblemRecord.trend_key.in_(chunk), ProblemRecord.closed_at.is_(None)
                )
            ).all()
            owners.update({key: number for key, number in rows if key and number})
        return owners

    def _open_many(self, trends: Sequence[Trend], rule: TrendRule, now: datetime) -> dict[str, str]:
        """New problems for trends nobody owns, in one INSERT per chunk; trend key -> number
        of those opened. A key a concurrent run opened first is skipped by the partial unique
        index (after waiting for that run's commit) and left out of the answer."""
        table = ProblemRecord.__table__
        insert = dialect_insert(self.session)
        opened: dict[str, str] = {}
        for start in range(0, len(trends), _CHUNK):
            chunk = trends[start : start + _CHUNK]
            values = [
                _new_row_values(draft_for(t, rule), t.source, now, t.key, t.dimension == "major")
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
            opened.update({key: problem_number(row_id) for row_id, key in new})
        return opened

    def _link_dimension(
        self, dimension: str, problems: dict[str, str], since: datetime, now: datetime
    ) -> int:
        """Link the incidents of a dimension's trends (value -> problem number) with one
        INSERT .. SELECT per chunk of trends: the incidents in the window whose value is one
        of the trends', joined to their problem by trend key. How many links were new.

        One statement per dimension, not one per trend: PostgreSQL reads a busy window
        through the created_at index whatever the value, so 300 per-trend statements read the
        window 300 times (1.3 s over 1,000,000 incidents); here it is read once per dimension.
        A major incident's trend links that incident only, whatever the window.
        """
        incidents = IncidentRecord.__table__.c
        problem = ProblemRecord.__table__.c
        value = incidents.number if dimension == "major" else incidents[dimension]
        insert = dialect_insert(self.session)
        linked = 0
        items = list(problems.items())
        for start in range(0, len(items), _CHUNK):
            chunk = dict(items[start : start + _CHUNK])
            owner = (problem.trend_key == literal(f"{dimension}:", String) + value) & (
                problem.closed_at.is_(None)
            )
            rows = (
                select(problem.number, incidents.number, literal(now, UTCDateTime()))
                .select_from(IncidentRecord.__table__.join(ProblemRecord.__table__, owner))
                .where(
                    value.in_(list(chunk)),
                    problem.number.in_(list(chunk.values())),
                    incidents.number.is_not(None),
                )
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

    def _recount(self, numbers: Sequence[str], at: datetime) -> set[str]:
        """frequency = the number of links, for these problems; those whose count changed
        get `at` as updated_at (one UPDATE per chunk; unchanged rows are not written), and are
        returned."""
        link = ProblemIncidentRecord
        count = (
            select(func.count())
            .where(link.problem_number == ProblemRecord.number)
            .correlate(ProblemRecord)
            .scalar_subquery()
        )
        changed: set[str] = set()
        for chunk in _chunks(list(numbers)):
            changed.update(
                self.session.scalars(
                    update(ProblemRecord)
                    .where(ProblemRecord.number.in_(chunk), ProblemRecord.frequency != count)
                    .values(frequency=count, updated_at=at)
                    .returning(ProblemRecord.number)
                    .execution_options(synchronize_session=False)
                )
            )
        return {number for number in changed if number is not None}
