"""Events: recorded in batches as they arrive, taken for correlation in arrival order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, func, insert, select, update
from sqlalchemy.orm import Session, defer

from serviceops.domain.event import (
    EventIn,
    EventStatus,
    Response,
    Severity,
    Significance,
)
from serviceops.domain.views import shown_details
from serviceops.store.base import MAX_ROW_ID, RecordNotFound
from serviceops.store.event.tables import (
    EventRecord,
)
from serviceops.store.locks import ProcessingLockRecord

EVENTS_LOCK = "process-events"


def event_number(event_id: int) -> str:
    return f"EVT-{event_id:06d}"


def event_id(number: str) -> int | None:
    """The row id an event number names; None when no row has it as its number: not
    EVT-<digits>, another spelling of an id (EVT-0000001 for EVT-000001), or past MAX_ROW_ID,
    which the database would refuse to compare with an id."""
    try:
        row_id = int(number.removeprefix("EVT-"))
    except ValueError:
        return None
    return row_id if 0 < row_id <= MAX_ROW_ID and event_number(row_id) == number else None


class StoredEvent(EventIn):
    """An event as recorded, with what processing made of it (None while pending).

    Its time is what was stored: intake's range check is for what may come in, and a row
    recorded before that check must still read."""

    occurred_at: datetime | None = None
    number: str
    received_at: datetime
    processed_at: datetime | None = None
    significance: Significance | None = None
    response: Response | None = None
    dropped: bool = False
    duplicate: bool = False
    alert_number: str | None = None


class PendingEvent(EventIn):
    """An event waiting for correlation, with what deciding needs (details are not loaded)."""

    id: int
    received_at: datetime


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, events: Sequence[EventIn], received_at: datetime) -> list[str]:
        """Record a delivery's events in one statement; their numbers, in order."""
        rows = [_row(event, received_at) for event in events]
        statement = insert(EventRecord).returning(EventRecord.id, sort_by_parameter_order=True)
        ids = self.session.scalars(statement, rows).all()
        return [event_number(i) for i in ids]

    def lock_processing(self, at: datetime) -> None:
        """Serialize correlation until the transaction ends (see ProcessingLockRecord)."""
        taken = self.session.execute(
            update(ProcessingLockRecord)
            .where(ProcessingLockRecord.name == EVENTS_LOCK)
            .values(taken_at=at)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise RuntimeError("processing lock row missing: is the database migrated?")

    def pending(self, limit: int) -> list[PendingEvent]:
        rows = self.session.execute(
            select(*_PENDING_COLUMNS)
            .where(EventRecord.processed_at.is_(None))
            .order_by(EventRecord.id)
            .limit(limit)
        ).all()
        return [_pending(row) for row in rows]

    def count_pending(self) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(EventRecord)
                .where(EventRecord.processed_at.is_(None))
            )
            or 0
        )

    def get(self, number: str) -> StoredEvent:
        row_id = event_id(number)
        statement = _as_stored(select(EventRecord).where(EventRecord.id == row_id))
        found = None if row_id is None else self.session.execute(statement).one_or_none()
        if found is None:
            raise RecordNotFound("event", number)
        return _stored(*found)

    def list(
        self,
        *,
        source: str | None = None,
        alert: str | None = None,
        status: EventStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredEvent]:
        statement = (
            _as_stored(select(EventRecord))
            .order_by(EventRecord.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if source is not None:
            statement = statement.where(EventRecord.source == source)
        if alert is not None:
            statement = statement.where(EventRecord.alert_number == alert)
        if status is not None:
            statement = statement.where(EventRecord.status == status.value)
        return [_stored(row, details) for row, details in self.session.execute(statement)]

    def remediation_check(self, alert_number: str) -> str | None:
        """The check of the event that queued the alert's runbook: its first firing, new
        (not duplicate) event answered with remediate. An alert's response only climbs, so it
        reaches remediate once and has at most one runbook; None when no such event is kept."""
        return self.session.scalar(
            select(EventRecord.check)
            .where(
                EventRecord.alert_number == alert_number,
                EventRecord.status == EventStatus.FIRING.value,
                EventRecord.response == Response.REMEDIATE.value,
                EventRecord.duplicate.is_(False),
            )
            .order_by(EventRecord.id)
            .limit(1)
        )


_PENDING_COLUMNS = (
    EventRecord.id,
    EventRecord.received_at,
    EventRecord.source,
    EventRecord.service,
    EventRecord.ci,
    EventRecord.check,
    EventRecord.severity,
    EventRecord.summary,
    EventRecord.dedup_key,
    EventRecord.status,
    EventRecord.occurred_at,
)


def _row(event: EventIn, received_at: datetime) -> dict[str, Any]:
    return {
        "received_at": received_at,
        "source": event.source,
        "service": event.service,
        "ci": event.ci,
        "check": event.check,
        "severity": event.severity.value,
        "summary": event.summary,
        "details": event.details,
        "dedup_key": event.dedup_key,
        "fingerprint": event.fingerprint,
        "status": event.status.value,
        "occurred_at": event.occurred_at,
        "dropped": False,
        "duplicate": False,
    }


def _pending(row: Any) -> PendingEvent:
    """Built without validation: the row was validated on intake, and correlation runs
    thousands of these a second (details are not needed to decide, so not loaded)."""
    return PendingEvent.model_construct(
        id=row.id,
        received_at=row.received_at,
        source=row.source,
        service=row.service,
        ci=row.ci,
        check=row.check,
        severity=Severity(row.severity),
        summary=row.summary,
        details={},
        dedup_key=row.dedup_key,
        status=EventStatus(row.status),
        occurred_at=row.occurred_at,
    )


def _as_stored(statement: Select[tuple[EventRecord]]) -> Select[tuple[EventRecord, str]]:
    """`statement`'s events, each with its details as the JSON text stored (for _stored):
    the driver would decode them itself, and fail the whole read on a row nested deeper than
    Python's recursion limit (stored before intake refused those)."""
    return statement.options(defer(EventRecord.details)).add_columns(
        cast(EventRecord.details, Text)
    )


def _stored(row: EventRecord, details: str) -> StoredEvent:
    """An event as recorded, its details as every view shows them (shown_details)."""
    return StoredEvent(
        number=event_number(row.id),
        source=row.source,
        service=row.service,
        ci=row.ci,
        check=row.check,
        severity=Severity(row.severity),
        summary=row.summary,
        details=shown_details(details),
        dedup_key=row.dedup_key,
        status=EventStatus(row.status),
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        processed_at=row.processed_at,
        significance=None if row.significance is None else Significance(row.significance),
        response=None if row.response is None else Response(row.response),
        dropped=row.dropped,
        duplicate=row.duplicate,
        alert_number=row.alert_number,
    )
