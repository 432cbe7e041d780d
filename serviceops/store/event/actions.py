"""Alert actions: recorded with the decision and claimed after it, so a crash in between
loses nothing and two workers never do one action twice."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from serviceops.domain.event import (
    ActionKind,
)
from serviceops.store.event.tables import (
    AlertActionRecord,
)


class AlertAction(BaseModel):
    """An action as stored: claimable, done once."""

    id: int
    alert_number: str
    kind: ActionKind
    note: str
    runbook: str | None
    attempts: int
    done_at: datetime | None = None
    outcome: str | None = None


class AlertActionRepository:
    """The actions outbox: claimed one at a time under a lease, marked done once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, at: datetime, lease_before: datetime, limit: int = 50) -> list[AlertAction]:
        """Pending actions not claimed since `lease_before`, oldest first, now claimed at `at`
        (a run that died mid-action leaves its claim to expire, then it is tried again).

        One UPDATE picks and claims them: on SQLite it takes the write lock first, so two
        claimers cannot read the same rows; on PostgreSQL rows another claimer holds are
        skipped, and the condition is checked again on the row it locks. There the pick is a
        MATERIALIZED CTE, run once: as a subquery PostgreSQL may run it again for each row it
        updates, each time skipping the rows it just locked, and claim more than `limit`.
        """
        record = AlertActionRecord
        claimable = and_(
            record.done_at.is_(None),
            or_(record.claimed_at.is_(None), record.claimed_at < lease_before),
        )
        ids = select(record.id).where(claimable).order_by(record.id).limit(limit)
        if self.session.get_bind().dialect.name == "postgresql":
            picked = ids.with_for_update(skip_locked=True).cte("picked")
            picked = picked.prefix_with("MATERIALIZED")
        else:
            picked = ids.cte("picked")
        statement = (
            update(record)
            .where(record.id.in_(select(picked.c.id)), claimable)
            .values(claimed_at=at, attempts=record.attempts + 1)
            .returning(record)
            .execution_options(synchronize_session=False)
        )
        rows = sorted(self.session.scalars(statement).all(), key=lambda row: row.id)
        return [_stored_action(row) for row in rows]

    def done(self, action_id: int, at: datetime, outcome: str) -> None:
        self.session.execute(
            update(AlertActionRecord)
            .where(AlertActionRecord.id == action_id)
            .values(done_at=at, outcome=outcome[:2000])
        )

    def release(self, action_id: int, outcome: str) -> None:
        """A failed attempt: claimable again at once, its error kept."""
        self.session.execute(
            update(AlertActionRecord)
            .where(AlertActionRecord.id == action_id)
            .values(claimed_at=None, outcome=outcome[:2000])
        )

    def for_alert(self, alert_number: str) -> list[AlertAction]:
        rows = self.session.scalars(
            select(AlertActionRecord)
            .where(AlertActionRecord.alert_number == alert_number)
            .order_by(AlertActionRecord.id)
        ).all()
        return [_stored_action(row) for row in rows]


def _stored_action(row: AlertActionRecord) -> AlertAction:
    return AlertAction(
        id=row.id,
        alert_number=row.alert_number,
        kind=ActionKind(row.kind),
        note=row.note,
        runbook=row.runbook,
        attempts=row.attempts,
        done_at=row.done_at,
        outcome=row.outcome,
    )
