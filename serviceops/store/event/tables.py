"""The tables of event management: events, alerts, fingerprints, alert actions."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class EventRecord(Base):
    """An event as it arrived (recorded in batches), then what processing made of it.

    `processed_at` is NULL until process-events has decided it: the partial index keeps the
    queue of pending events cheap to find however long the history grows.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index(
            "ix_events_pending",
            "id",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(50))
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    check: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    significance: Mapped[str | None] = mapped_column(String(15))
    response: Mapped[str | None] = mapped_column(String(10))
    dropped: Mapped[bool] = mapped_column(default=False)
    duplicate: Mapped[bool] = mapped_column(default=False)
    alert_number: Mapped[str | None] = mapped_column(String(20), index=True)


class AlertRecord(Base):
    """A correlated group of events (ALR-000001): one condition on one service or CI."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(10), index=True)
    significance: Mapped[str] = mapped_column(String(15))
    response: Mapped[str] = mapped_column(String(10))
    firing: Mapped[list[str]] = mapped_column(JSON)
    fingerprints: Mapped[list[str]] = mapped_column(JSON)
    event_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    notified: Mapped[int] = mapped_column(default=0)
    incident_number: Mapped[str | None] = mapped_column(String(20), index=True)
    first_event_at: Mapped[datetime]
    last_event_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    runbook: Mapped[str | None] = mapped_column(String(100))
    # what holds it back (the alert it is a symptom of, a silence), how many symptoms it has
    suppressed_by: Mapped[str | None] = mapped_column(String(20), index=True)
    symptoms: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class AlertFingerprintRecord(Base):
    """Which alert a fingerprint belongs to: later events of the condition find it by this,
    also after the correlation window (JSON lists cannot be indexed on both backends)."""

    __tablename__ = "alert_fingerprints"

    fingerprint: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_number: Mapped[str] = mapped_column(String(20), index=True)


class AlertActionRecord(Base):
    """What an alert asks for (an incident raised, resolved, reopened; a runbook run),
    recorded with the decision and done after it: a crash in between loses nothing."""

    __tablename__ = "alert_actions"
    __table_args__ = (
        Index(
            "ix_alert_actions_pending",
            "id",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_number: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    runbook: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class SilenceRecord(Base):
    """A silence (SIL-000001): what it matches, until when, why, whose; its state and how often
    it was extended. The partial index finds the active ones, which every batch reads."""

    __tablename__ = "silences"
    __table_args__ = (
        Index(
            "ix_silences_active",
            "ends_at",
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    ci: Mapped[str | None] = mapped_column(String(100))
    service: Mapped[str | None] = mapped_column(String(100))
    check: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10))
    ends_at: Mapped[datetime]
    extensions: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
