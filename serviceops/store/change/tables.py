"""The table of change enablement: one row a change, its CIs, approvals and conflicts as JSON
(a change touches a handful of CIs; the schedule reads the few changes whose windows overlap
and matches their CIs in Python)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class ChangeRecord(Base):
    """A change (CHG-000001). The window index serves the schedule of change (what overlaps
    a window), the state index the implementing changes every correlation batch asks for."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_window", "planned_start", "planned_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    cis: Mapped[list[str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(20))
    template: Mapped[str | None] = mapped_column(String(100))
    risk: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), index=True)
    planned_start: Mapped[datetime]
    planned_end: Mapped[datetime]
    implementation_plan: Mapped[str] = mapped_column(Text)
    backout_plan: Mapped[str] = mapped_column(Text)
    requester: Mapped[str] = mapped_column(String(200))
    approvals_required: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    approval_round: Mapped[int] = mapped_column(default=0)
    conflicts: Mapped[list[str]] = mapped_column(JSON)
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime | None]
    implemented_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    review_summary: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
