"""Events, alerts and alert actions: intake in batches, correlation in batches.

Intake is one multi-row INSERT per delivery, so a webhook's cost does not grow with the rules.
Correlation takes the pending events in arrival order under the processing lock, loads only
the alerts the batch can touch (its resources and fingerprints: two indexed lookups), and writes
back with bulk statements: the per-event work is the pure Correlator's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, Text, and_, cast, func, insert, or_, select, update
from sqlalchemy.orm import Session, defer

from serviceops.domain.event import (
    Action,
    ActionKind,
    Alert,
    AlertState,
    Decisions,
    EventIn,
    EventStatus,
    Response,
    Severity,
    Significance,
)
from serviceops.domain.views import shown_details
from serviceops.store.db import dialect_insert
from serviceops.store.records import (
    AlertActionRecord,
    AlertFingerprintRecord,
    AlertRecord,
    EventRecord,
    ProcessingLockRecord,
)
from serviceops.store.repositories import MAX_ROW_ID, RecordNotFound

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


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[str, int] = {}

    def touched_by(self, resources: set[str], fingerprints: set[str]) -> list[Alert]:
        """The not-closed alerts a batch on these resources and fingerprints can join."""
        by_fingerprint = select(AlertFingerprintRecord.alert_number).where(
            AlertFingerprintRecord.fingerprint.in_(fingerprints)
        )
        rows = self.session.scalars(
            select(AlertRecord).where(
                AlertRecord.state != AlertState.CLOSED.value,
                or_(AlertRecord.key.in_(resources), AlertRecord.number.in_(by_fingerprint)),
            )
        ).all()
        self._ids.update({row.number: row.id for row in rows if row.number is not None})
        return [_alert(row) for row in rows]

    def apply(self, decisions: Decisions, events: list[PendingEvent], at: datetime) -> list[str]:
        """Write a batch's decisions: alerts (numbering new ones), fingerprints, the events'
        verdicts and the actions. Returns the alert number of each Decisions.alerts entry."""
        numbers = self._save_all(decisions.alerts)
        links = {
            fp: numbers[i]
            for i, a in enumerate(decisions.alerts)
            for fp in a.fingerprints
            if a.state is not AlertState.CLOSED
        }
        if links:
            upsert = dialect_insert(self.session)(AlertFingerprintRecord)
            self.session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["fingerprint"],
                    set_={"alert_number": upsert.excluded.alert_number},
                ),
                [{"fingerprint": fp, "alert_number": n} for fp, n in links.items()],
            )
        verdicts = [
            {
                "id": event.id,
                "processed_at": at,
                "significance": verdict.significance.value,
                "response": verdict.response.value,
                "dropped": verdict.dropped,
                "duplicate": verdict.duplicate,
                "alert_number": None if verdict.alert_key is None else numbers[verdict.alert_key],
            }
            for event, verdict in zip(events, decisions.verdicts, strict=True)
        ]
        if verdicts:
            self.session.execute(update(EventRecord), verdicts)
        if decisions.actions:
            self.session.execute(
                insert(AlertActionRecord),
                [
                    _action_row(action, numbers[action.alert_key], at)
                    for action in decisions.actions
                ],
            )
        return numbers

    def get(self, number: str) -> Alert:
        row = self._row(number)
        if row is None:
            raise RecordNotFound("alert", number)
        return _alert(row)

    def list(
        self, *, state: AlertState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Alert]:
        statement = select(AlertRecord).order_by(AlertRecord.id.desc()).limit(limit).offset(offset)
        if state is not None:
            statement = statement.where(AlertRecord.state == state.value)
        return [_alert(row) for row in self.session.scalars(statement)]

    def firing(self, fingerprint: str) -> bool:
        """Whether a not-closed alert has this condition firing (a dead-man check asks)."""
        number = self.session.scalar(
            select(AlertFingerprintRecord.alert_number).where(
                AlertFingerprintRecord.fingerprint == fingerprint
            )
        )
        if number is None:
            return False
        alert = self._row(number)
        return alert is not None and fingerprint in alert.firing

    def link_incident(self, number: str, incident_number: str) -> None:
        self.session.execute(
            update(AlertRecord)
            .where(AlertRecord.number == number)
            .values(incident_number=incident_number)
        )

    def due_for_review(self, before: datetime) -> list[Alert]:
        rows = self.session.scalars(
            select(AlertRecord).where(
                AlertRecord.state == AlertState.RESOLVED.value, AlertRecord.resolved_at <= before
            )
        ).all()
        return [_alert(row) for row in rows]

    def close(self, number: str, at: datetime) -> bool:
        """Resolved -> closed; False when it was not resolved (a firing reopened it)."""
        closed = self.session.execute(
            update(AlertRecord)
            .where(AlertRecord.number == number, AlertRecord.state == AlertState.RESOLVED.value)
            .values(state=AlertState.CLOSED.value, closed_at=at)
        )
        return bool(closed.rowcount)  # type: ignore[attr-defined]

    def _row(self, number: str) -> AlertRecord | None:
        return self.session.scalars(
            select(AlertRecord).where(AlertRecord.number == number)
        ).one_or_none()

    def _save_all(self, alerts: list[Alert]) -> list[str]:
        """Known alerts updated and new ones inserted, a statement for each (a batch changes
        hundreds of alerts); new alerts are numbered from their ids."""
        known = [alert for alert in alerts if alert.number is not None]
        if known:
            self.session.execute(
                update(AlertRecord),
                [{"id": self._id(alert.number or "")} | _alert_values(alert) for alert in known],
            )
        new = [alert for alert in alerts if alert.number is None]
        if new:
            ids = self.session.scalars(
                insert(AlertRecord).returning(AlertRecord.id, sort_by_parameter_order=True),
                [_alert_values(alert) for alert in new],
            ).all()
            for alert, row_id in zip(new, ids, strict=True):
                alert.number = f"ALR-{row_id:06d}"
            self.session.execute(
                update(AlertRecord),
                [{"id": i, "number": a.number} for a, i in zip(new, ids, strict=True)],
            )
        return [alert.number or "" for alert in alerts]

    def _id(self, number: str) -> int:
        """The row id of an alert this repository loaded (or looks up)."""
        if number not in self._ids:
            row = self._row(number)
            if row is None:
                raise RecordNotFound("alert", number)
            self._ids[number] = row.id
        return self._ids[number]


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


_ALERT_FIELDS = (
    "key",
    "service",
    "ci",
    "title",
    "firing",
    "fingerprints",
    "event_count",
    "duplicate_count",
    "notified",
    "incident_number",
    "first_event_at",
    "last_event_at",
    "resolved_at",
    "closed_at",
    "reopen_count",
)


def _alert_values(alert: Alert) -> dict[str, Any]:
    values = {name: getattr(alert, name) for name in _ALERT_FIELDS}
    values["firing"], values["fingerprints"] = list(alert.firing), list(alert.fingerprints)
    return values | {
        "state": alert.state.value,
        "significance": alert.significance.value,
        "response": alert.response.value,
    }


def _alert(row: AlertRecord) -> Alert:
    return Alert(
        number=row.number,
        state=AlertState(row.state),
        significance=Significance(row.significance),
        response=Response(row.response),
        **{name: getattr(row, name) for name in _ALERT_FIELDS},
    )


def _action_row(action: Action, alert_number: str, at: datetime) -> dict[str, Any]:
    return {
        "alert_number": alert_number,
        "kind": action.kind.value,
        "note": action.note if action.count == 1 else f"{action.note} ({action.count} events)",
        "runbook": action.runbook,
        "created_at": at,
        "attempts": 0,
    }


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
