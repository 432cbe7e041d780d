"""The known error database: known errors, and the candidates an incident's symptoms may match."""

# KnownErrorRepository.list shadows the builtin in its class body; postponed annotations keep
# the later `-> list[KnownError]` annotations meaning the builtin.
from __future__ import annotations

import heapq
import json
from datetime import UTC, datetime

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from serviceops.domain.categories import clean_category
from serviceops.domain.problem import KnownError, symptom_words
from serviceops.store.base import RecordNotFound
from serviceops.store.problem.tables import KnownErrorRecord


class KnownErrorRepository:
    """The known error database (KEDB) that initial diagnosis matches incidents against.

    Known errors are retired (`deactivate`), never deleted: incidents keep pointing at them.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, known_error: KnownError) -> KnownError:
        """Record a known error; the store numbers it (KE-000001), the incoming number is
        ignored so that callers cannot collide on numbers they made up. `created_at` is kept
        when given (raise_known_error sets it), else it is now."""
        row = KnownErrorRecord(
            title=known_error.title,
            service=known_error.service,
            ci=known_error.ci,
            affected_cis=list(known_error.affected_cis),
            problem_number=known_error.problem_number,
            category=known_error.category,
            symptom=known_error.symptom,
            root_cause=known_error.root_cause,
            workaround=known_error.workaround,
            active=True,
            created_at=known_error.created_at or datetime.now(UTC),
        )
        self.session.add(row)
        self.session.flush()
        row.number = f"KE-{row.id:06d}"
        self.session.flush()
        return _known_error_from_row(row)

    def get(self, number: str) -> KnownError:
        return _known_error_from_row(self._row(number))

    def is_active(self, number: str) -> bool:
        return self._row(number).active

    def candidates(
        self, service: str, ci: str | None = None, *, category: str | None = None
    ) -> list[KnownError]:
        """Active known errors that could fit an incident on `service` (and `ci`): its
        service's, those that apply to any service, and those whose `ci` or `affected_cis`
        name the incident's CI. With `category`, only those whose category is unset or a
        prefix of it (exactly the category rule of matching, done in SQL: fewer rows to load).
        domain.problem.match_known_errors ranks them (and drops a known error that names CIs
        but no service when the incident is on another CI).

        The service and ci branches use their indexes. affected_cis is a JSON list, which
        neither backend can index portably: the query keeps rows whose JSON text contains the
        CI's JSON string (a superset: SQLite's LIKE ignores ASCII case) and Python keeps those
        where it really is an element. That branch reads every active row, which is cheap at
        KEDB sizes (bench/kedb_match.py: 10,000 known errors).
        """
        column = KnownErrorRecord.__table__.c
        scope = [KnownErrorRecord.service == service, KnownErrorRecord.service.is_(None)]
        if ci is not None:
            scope.append(KnownErrorRecord.ci == ci)
            scope.append(
                cast(column.affected_cis, Text).like(f"%{_like_escape(json.dumps(ci))}%", "\\")
            )
        statement = select(KnownErrorRecord).where(KnownErrorRecord.active.is_(True), or_(*scope))
        if category is not None:
            prefixes = _category_prefixes(clean_category(category))
            statement = statement.where(
                or_(KnownErrorRecord.category.is_(None), KnownErrorRecord.category.in_(prefixes))
            )
        rows = self.session.scalars(statement.order_by(KnownErrorRecord.id)).all()
        return [
            _known_error_from_row(row)
            for row in rows
            if row.service in (service, None) or (ci is not None and _names_ci(row, ci))
        ]

    def search(self, text: str, *, limit: int = 20) -> list[KnownError]:
        """Active known errors whose title or symptom share words with `text`, most words in
        common first, then newest (`serviceops kedb search TEXT`).

        Words are compared as matching does (symptom_words: any script, case-folded), which
        SQL LIKE cannot do portably, so the titles and symptoms of the active known errors are
        read and scored in Python, and only the best `limit` rows are loaded in full.
        """
        wanted = symptom_words(text)
        if not wanted or limit <= 0:
            return []
        rows = self.session.execute(
            select(KnownErrorRecord.id, KnownErrorRecord.title, KnownErrorRecord.symptom).where(
                KnownErrorRecord.active.is_(True)
            )
        ).all()
        scored = []
        for row_id, title, symptom in rows:
            common = len(wanted & symptom_words(f"{title} {symptom}"))
            if common:
                scored.append((-common, -row_id))
        best = [-row_id for _, row_id in heapq.nsmallest(limit, scored)]
        if not best:
            return []
        found = {
            row.id: row
            for row in self.session.scalars(
                select(KnownErrorRecord).where(KnownErrorRecord.id.in_(best))
            )
        }
        return [_known_error_from_row(found[row_id]) for row_id in best]

    def list(
        self, *, active: bool | None = True, limit: int = 100, offset: int = 0
    ) -> list[KnownError]:
        """Newest first. `active`: True (the default) the active ones, False the retired
        ones, None all."""
        statement = select(KnownErrorRecord)
        if active is not None:
            statement = statement.where(KnownErrorRecord.active.is_(active))
        rows = self.session.scalars(
            statement.order_by(KnownErrorRecord.id.desc()).limit(limit).offset(offset)
        ).all()
        return [_known_error_from_row(row) for row in rows]

    def deactivate(self, number: str) -> KnownError:
        """Retire a known error (its problem is resolved, or it was wrong): matching stops
        offering it. Retiring a retired one changes nothing."""
        row = self._row(number, for_update=True)
        row.active = False
        self.session.flush()
        return _known_error_from_row(row)

    def set_workaround(self, number: str, workaround: str) -> KnownError:
        """Replace the workaround (domain.problem.record_workaround on a known error):
        incidents diagnosed from now on are offered the new one."""
        row = self._row(number, for_update=True)
        row.workaround = workaround
        self.session.flush()
        return _known_error_from_row(row)

    def _row(self, number: str, *, for_update: bool = False) -> KnownErrorRecord:
        statement = select(KnownErrorRecord).where(KnownErrorRecord.number == number)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalars(statement).one_or_none()
        if row is None:
            raise RecordNotFound("known error", number)
        return row


def _like_escape(value: str) -> str:
    """A LIKE pattern matching `value` literally (backslash is the escape character)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _category_prefixes(category: str) -> list[str]:
    """'a/b/c' -> ['a', 'a/b', 'a/b/c']: the known error categories that contain it."""
    parts = category.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def _names_ci(row: KnownErrorRecord, ci: str) -> bool:
    return row.ci == ci or ci in (row.affected_cis or [])


def _known_error_from_row(row: KnownErrorRecord) -> KnownError:
    if row.number is None:
        raise RuntimeError(f"known error row {row.id} has no number yet")
    return KnownError(
        number=row.number,
        title=row.title,
        service=row.service,
        ci=row.ci,
        affected_cis=list(row.affected_cis or []),
        category=row.category,
        symptom=row.symptom,
        root_cause=row.root_cause,
        workaround=row.workaround,
        problem_number=row.problem_number,
        created_at=row.created_at,
    )
