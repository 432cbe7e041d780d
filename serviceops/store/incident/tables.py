"""The incidents table."""

from datetime import datetime

from sqlalchemy import (
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class IncidentRecord(Base):
    """An incident. The (dimension, created_at) indexes serve problem management's trend
    detection: counting and linking the incidents of one service, CI or category within a
    window reads one index range instead of the service's whole history."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_service_created_at", "service", "created_at"),
        Index("ix_incidents_ci_created_at", "ci", "created_at"),
        Index("ix_incidents_category_created_at", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(100), index=True)
    ci: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(100))
    category_corrected: Mapped[bool] = mapped_column(default=False)
    impact: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    priority: Mapped[int | None] = mapped_column(index=True)
    reporter: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    major: Mapped[bool] = mapped_column(default=False)
    support_group: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(200))
    known_error_number: Mapped[str | None] = mapped_column(String(20))
    known_error_title: Mapped[str | None] = mapped_column(String(200))
    workaround: Mapped[str | None] = mapped_column(Text)
    resolution_code: Mapped[str | None] = mapped_column(String(30))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    pending_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    escalation_count: Mapped[int] = mapped_column(default=0)
    major_channel: Mapped[str | None] = mapped_column(String(80))
    last_status_update_at: Mapped[datetime | None]

    response_target_s: Mapped[int | None]
    response_started_at: Mapped[datetime | None]
    response_due_at: Mapped[datetime | None]
    response_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    response_remaining_s: Mapped[int | None]
    response_paused_at: Mapped[datetime | None]
    response_stopped_at: Mapped[datetime | None]
    response_warning_notified_at: Mapped[datetime | None]
    response_breach_notified_at: Mapped[datetime | None]

    resolution_target_s: Mapped[int | None]
    resolution_started_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    resolution_warn_at: Mapped[datetime | None] = mapped_column(index=True)
    resolution_remaining_s: Mapped[int | None]
    resolution_paused_at: Mapped[datetime | None]
    resolution_stopped_at: Mapped[datetime | None]
    resolution_warning_notified_at: Mapped[datetime | None]
    resolution_breach_notified_at: Mapped[datetime | None]
