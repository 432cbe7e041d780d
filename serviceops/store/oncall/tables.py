"""The table of on-call overrides (the schedules themselves are the catalogue's)."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class OverrideRecord(Base):
    """Someone else on a layer of a group's rotation for a while. Kept after it ends: the
    history of who covered whom; `cancelled_at` set when it is withdrawn before its end."""

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
    cancelled_at: Mapped[datetime | None]
