"""The processing locks: one row per job that must never run twice at once."""

from datetime import datetime

from sqlalchemy import (
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class ProcessingLockRecord(Base):
    """One row per serialized job: updating the row takes a lock on both backends (a row
    lock on PostgreSQL, the write lock on SQLite) so two process-events runs never correlate
    at the same time and cannot open two alerts for one condition."""

    __tablename__ = "processing_locks"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    taken_at: Mapped[datetime | None]
