"""Alerts: the ones a batch of events can touch, and the batch's decisions written back in bulk."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from serviceops.domain.event import (
    Action,
    Alert,
    AlertState,
    Decisions,
    Response,
    Significance,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.db import dialect_insert
from serviceops.store.event.events import PendingEvent
from serviceops.store.event.tables import (
    AlertActionRecord,
    AlertFingerprintRecord,
    AlertRecord,
    EventRecord,
)

# Names per IN (...) list when loading the alerts a batch's new alerts may be symptoms of.
_IN_CHUNK = 500


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[str, int] = {}

    def touched_by(
        self, resources: set[str], fingerprints: set[str], needed: Collection[str] = ()
    ) -> list[Alert]:
        """The not-closed alerts a batch on these resources and fingerprints can join, the
        open exception alerts on the items they `needed` (the outages new alerts would be
        symptoms of), and the not-closed symptoms of those that have some (released when
        their parent resolves)."""
        by_fingerprint = select(AlertFingerprintRecord.alert_number).where(
            AlertFingerprintRecord.fingerprint.in_(fingerprints)
        )
        rows = list(
            self.session.scalars(
                select(AlertRecord).where(
                    AlertRecord.state != AlertState.CLOSED.value,
                    or_(AlertRecord.key.in_(resources), AlertRecord.number.in_(by_fingerprint)),
                )
            )
        )
        names = sorted(set(needed) - resources)
        for chunk in _chunks(names):
            _add_new(
                rows,
                self.session.scalars(
                    select(AlertRecord).where(
                        AlertRecord.state == AlertState.OPEN.value,
                        AlertRecord.significance == Significance.EXCEPTION.value,
                        AlertRecord.key.in_(chunk),
                    )
                ),
            )
        parents = [row.number for row in rows if row.symptoms and row.number is not None]
        for chunk in _chunks(parents):
            _add_new(
                rows,
                self.session.scalars(
                    select(AlertRecord).where(
                        AlertRecord.state != AlertState.CLOSED.value,
                        AlertRecord.suppressed_by.in_(chunk),
                    )
                ),
            )
        self._ids.update({row.number: row.id for row in rows if row.number is not None})
        return [_alert(row) for row in rows]

    def apply(self, decisions: Decisions, events: list[PendingEvent], at: datetime) -> list[str]:
        """Write a batch's decisions: alerts (numbering new ones), fingerprints, the events'
        verdicts and the actions. Returns the alert number of each Decisions.alerts entry."""
        numbers = self._save_all(decisions.alerts)
        if decisions.symptom_of:  # symptoms name their parents, new ones numbered just now
            table = AlertRecord.__table__
            self.session.execute(
                update(table)
                .where(table.c.number == bindparam("b_number"))
                .values(suppressed_by=bindparam("b_parent")),
                [
                    {"b_number": numbers[symptom], "b_parent": numbers[parent]}
                    for symptom, parent in decisions.symptom_of.items()
                ],
            )
            for symptom, parent in decisions.symptom_of.items():
                decisions.alerts[symptom].suppressed_by = numbers[parent]
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

    def held_by(self, holders: list[str]) -> list[Alert]:
        """The not-closed alerts these (silences, alerts) hold back, oldest first."""
        rows: list[AlertRecord] = []
        for chunk in _chunks(holders):
            rows.extend(
                self.session.scalars(
                    select(AlertRecord)
                    .where(
                        AlertRecord.state != AlertState.CLOSED.value,
                        AlertRecord.suppressed_by.in_(chunk),
                    )
                    .order_by(AlertRecord.id)
                )
            )
        self._ids.update({row.number: row.id for row in rows if row.number is not None})
        return [_alert(row) for row in rows]

    def get(self, number: str) -> Alert:
        row = self._row(number)
        if row is None:
            raise RecordNotFound("alert", number)
        return _alert(row)

    def count(self, *, state: AlertState) -> int:
        return (
            self.session.scalar(select(func.count()).where(AlertRecord.state == state.value)) or 0
        )

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
    "runbook",
    "suppressed_by",
    "symptoms",
)


def _chunks(names: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(names), _IN_CHUNK):
        yield names[start : start + _IN_CHUNK]


def _add_new(rows: list[AlertRecord], more: Iterable[AlertRecord]) -> None:
    """Append the rows of `more` that `rows` does not have yet."""
    seen = {row.id for row in rows}
    rows.extend(row for row in more if row.id not in seen)


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
