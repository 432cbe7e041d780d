"""The audit trail of every record of every process: append-only, read per record or per run."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    String,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from serviceops.domain.machine import AuditEntry
from serviceops.store.base import Base


class AuditRecord(Base):
    """Append-only trail of every state change of every record."""

    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(primary_key=True)
    record: Mapped[str] = mapped_column(String(20), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    flow_run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # How the actor was known (serviceops.domain.provenance); null on rows older than that.
    via: Mapped[str | None] = mapped_column(String(10))
    actor_ref: Mapped[str | None] = mapped_column(String(200))


class AuditRepository:
    """The append-only trail: rows are added, never changed."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        self.session.add(
            AuditRecord(
                record=entry.record,
                action=entry.action,
                actor=entry.actor,
                at=entry.at,
                from_state=entry.from_state,
                to_state=entry.to_state,
                reason=entry.reason,
                flow_run_id=entry.flow_run_id,
                via=entry.via,
                actor_ref=entry.actor_ref,
            )
        )

    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        """Many rows in one statement (a correlation batch audits hundreds of alerts)."""
        if entries:
            self.session.execute(insert(AuditRecord), [entry.model_dump() for entry in entries])

    def for_record(self, record: str) -> list[AuditEntry]:
        """Oldest first by id: insertion order, which two entries at the same instant keep."""
        rows = self.session.scalars(
            select(AuditRecord).where(AuditRecord.record == record).order_by(AuditRecord.id)
        ).all()
        return [_audit_from_row(row) for row in rows]

    def records_of_flow_run(self, flow_run_id: str) -> list[str]:
        """What a flow run touched, in the order it first touched each record."""
        first = func.min(AuditRecord.id)
        rows = self.session.execute(
            select(AuditRecord.record, first)
            .where(AuditRecord.flow_run_id == flow_run_id)
            .group_by(AuditRecord.record)
            .order_by(first)
        ).all()
        return [record for record, _ in rows]


def _audit_from_row(row: AuditRecord) -> AuditEntry:
    return AuditEntry(
        record=row.record,
        action=row.action,
        actor=row.actor,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        flow_run_id=row.flow_run_id,
        via=row.via,
        actor_ref=row.actor_ref or "",
    )
