"""Problems and the incidents they link (trends.py opens and links them for trends in bulk).

The caller owns the session and its transaction, as everywhere in the store.
"""

# ProblemRepository.list shadows the builtin in its class body; postponed annotations keep
# the later `-> list[Problem]` annotations meaning the builtin.
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.problem import (
    Problem,
    ProblemDraft,
    ProblemSource,
    ProblemState,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.db import dialect_insert
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.problem.tables import (
    ProblemIncidentRecord,
    ProblemRecord,
    ProblemTrendRecord,
)

# Bound parameters per IN (...) list: far below SQLite's and PostgreSQL's limits.
CHUNK = 500


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


def new_row_values(
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


def chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


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
        yet closed owns already fails with IntegrityError: TrendRepository.record is the way to
        open problems for trends, it finds the owner instead."""
        row = ProblemRecord(**new_row_values(draft, source, at, trend_key, major))
        self.session.add(row)
        self.session.flush()
        row.number = problem_number(row.id)
        if trend_key is not None:
            self.session.add(ProblemTrendRecord(problem_number=row.number, trend_key=trend_key))
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

    def count(self, *, states: Iterable[ProblemState]) -> int:
        values = [ProblemState(state).value for state in states]
        return self.session.scalar(select(func.count()).where(ProblemRecord.state.in_(values))) or 0

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
        for chunk in chunks(wanted):
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
        for chunk in chunks(wanted):
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
            recount(self.session, [number], at)
        return linked

    def incidents_of(self, number: str) -> list[str]:
        """The incidents linked to a problem, in the order they were linked."""
        return self._incidents_of_many([number]).get(number, [])

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
        for chunk in chunks(list(numbers)):
            rows = self.session.execute(
                select(link.problem_number, link.incident_number)
                .where(link.problem_number.in_(chunk))
                .order_by(link.linked_at, link.incident_number)
            ).all()
            for problem, incident in rows:
                found.setdefault(problem, []).append(incident)
        return found


def recount(session: Session, numbers: Sequence[str], at: datetime) -> set[str]:
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
    for chunk in chunks(list(numbers)):
        changed.update(
            session.scalars(
                update(ProblemRecord)
                .where(ProblemRecord.number.in_(chunk), ProblemRecord.frequency != count)
                .values(frequency=count, updated_at=at)
                .returning(ProblemRecord.number)
                .execution_options(synchronize_session=False)
            )
        )
    return {number for number in changed if number is not None}
