"""The tables of the catalogue and of check runs."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class ConfigurationItemRecord(Base):
    """A service or configuration item as the catalogue file declares it. The name is the key:
    incidents and events refer to items by name, so a reload keeps names and replaces the rest.
    """

    __tablename__ = "configuration_items"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    owner_group: Mapped[str] = mapped_column(String(100))
    tier: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    endpoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    depends_on: Mapped[list[str]] = mapped_column(JSON)
    loaded_at: Mapped[datetime]


class CheckDefinitionRecord(Base):
    """A check to run: the model dumped as JSON in `definition`, its routing fields repeated as
    columns for filtering. `derived` rows come from an item's endpoints (the catalogue derives
    them again when it is rebuilt); the others were declared in the file."""

    __tablename__ = "checks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(200))
    derived: Mapped[bool] = mapped_column(default=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime]


class CatalogueSettingsRecord(Base):
    """The catalogue's network policy and check schedules: one row (id 1), from the last load."""

    __tablename__ = "catalogue_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[dict[str, Any]] = mapped_column(JSON)
    schedules: Mapped[dict[str, int]] = mapped_column(JSON)
    oncall: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # null: loaded before
    freezes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # null: loaded before
    loaded_at: Mapped[datetime]
    source_file: Mapped[str] = mapped_column(String(1000))


class CheckRunRecord(Base):
    """One result of one check: append-only history. The (check, checked_at) index serves both
    the latest result per check and one check's history, newest first."""

    __tablename__ = "check_runs"
    __table_args__ = (Index("ix_check_runs_check_checked_at", "check", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    service: Mapped[str] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[float | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    checked_at: Mapped[datetime]
