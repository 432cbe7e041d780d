"""Check results: an append-only history, and the latest result of each check."""

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, aliased

from serviceops.domain.cmdb import CheckResult, CheckStatus
from serviceops.store.cmdb.tables import (
    CheckRunRecord,
)


def _result_from_row(row: CheckRunRecord) -> CheckResult:
    return CheckResult.model_validate(
        {
            "check": row.check,
            "kind": row.kind,
            "service": row.service,
            "ci": row.ci,
            "target": row.target,
            "status": row.status,
            "summary": row.summary,
            "latency_ms": row.latency_ms,
            "details": row.details,
            "checked_at": row.checked_at,
        }
    )


class CheckRunRepository:
    """Check results, appended and never changed: the history of every check."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, results: Sequence[CheckResult]) -> None:
        if not results:
            return
        rows = [
            {
                "check": result.check,
                "kind": result.kind.value,
                "service": result.service,
                "ci": result.ci,
                "target": result.target,
                "status": result.status.value,
                "summary": result.summary,
                "latency_ms": result.latency_ms,
                "details": result.details,
                "checked_at": result.checked_at,
            }
            for result in results
        ]
        self.session.execute(insert(CheckRunRecord), rows)

    def latest(self, checks: Sequence[str] | None = None) -> list[CheckResult]:
        """The newest result of each check (of `checks`, when given), by check name; one query.

        Ties on checked_at go to the later row, so two results of one instant give one answer.
        """
        newest_first = func.row_number().over(
            partition_by=CheckRunRecord.check,
            order_by=(CheckRunRecord.checked_at.desc(), CheckRunRecord.id.desc()),
        )
        ranked = select(CheckRunRecord, newest_first.label("newest"))
        if checks is not None:
            ranked = ranked.where(CheckRunRecord.check.in_(list(checks)))
        subquery = ranked.subquery()
        run = aliased(CheckRunRecord, subquery)
        statement = select(run).where(subquery.c.newest == 1).order_by(run.check)
        return [_result_from_row(row) for row in self.session.scalars(statement)]

    def history(self, check: str, limit: int = 50) -> list[CheckResult]:
        """The last `limit` results of one check, newest first."""
        statement = (
            select(CheckRunRecord)
            .where(CheckRunRecord.check == check)
            .order_by(CheckRunRecord.checked_at.desc(), CheckRunRecord.id.desc())
            .limit(limit)
        )
        return [_result_from_row(row) for row in self.session.scalars(statement)]

    def previous_status(self, checks: Sequence[str]) -> dict[str, CheckStatus]:
        """The latest recorded status of each of `checks` (absent: never run), in one query:
        a run compares with it to tell a new failure from a continuing one and a recovery."""
        if not checks:
            return {}
        return {result.check: result.status for result in self.latest(checks)}
