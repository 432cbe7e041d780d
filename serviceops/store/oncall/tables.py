"""The tables of on-call: overrides and pages (the schedules themselves are the catalogue's)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class OverrideRecord(Base):
    """Someone else on a layer of a group's rotation for a while. Kept after it ends: the
    history of who covered whom."""

    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_group_ends_at", "group_name", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_name: Mapped[str] = mapped_column(String(100))
    layer: Mapped[str] = mapped_column(String(40))
    person: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PageRecord(Base):
    """A page (PGE-000001): an incident's walk up its group's escalation ladder. `paged` is
    the steps paged so far, whom and when (the domain's Paged, as JSON)."""

    __tablename__ = "oncall_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    incident: Mapped[str] = mapped_column(String(20), index=True)
    group_name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    step: Mapped[int]
    paged: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
