"""The tables of problem management: problems, their incidents, known errors."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class KnownErrorRecord(Base):
    """A known error. `affected_cis` is a JSON list (not indexable on both backends): the
    candidates query finds them with a text match on it, confirmed in Python."""

    __tablename__ = "known_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    service: Mapped[str | None] = mapped_column(String(100), index=True)
    ci: Mapped[str | None] = mapped_column(String(100), index=True)
    affected_cis: Mapped[list[str]] = mapped_column(JSON, default=list)
    problem_number: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(100))
    symptom: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class ProblemRecord(Base):
    """A problem (PRB-000001). `trend_key` names the trend it was opened for; the partial
    unique index allows one not-closed problem per trend key, so two concurrent detection
    runs cannot open two problems for one trend (the loser's INSERT .. ON CONFLICT DO NOTHING
    finds the winner's). `frequency` is the count of its rows in problem_incidents."""

    __tablename__ = "problems"
    __table_args__ = (
        Index(
            "ix_problems_open_trend",
            "trend_key",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20))
    trend_key: Mapped[str | None] = mapped_column(String(300))
    service: Mapped[str | None] = mapped_column(String(100))
    ci: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    impact: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    priority: Mapped[int | None]
    frequency: Mapped[int] = mapped_column(default=0)
    major: Mapped[bool] = mapped_column(default=False)
    reporter: Mapped[str] = mapped_column(String(200))
    root_cause: Mapped[str | None] = mapped_column(Text)
    investigation_notes: Mapped[str | None] = mapped_column(Text)
    workaround: Mapped[str | None] = mapped_column(Text)
    known_error_number: Mapped[str | None] = mapped_column(String(20))
    change_ref: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)
    review_summary: Mapped[str | None] = mapped_column(Text)
    review_lessons: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]


class ProblemIncidentRecord(Base):
    """Which incidents a problem links (many to many: an incident may belong to the trends of
    its service, its CI and its category at once). The primary key makes linking idempotent;
    the incident_number index answers "which problems is this incident part of"."""

    __tablename__ = "problem_incidents"

    problem_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    incident_number: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    linked_at: Mapped[datetime]


class ProblemTrendRecord(Base):
    """Every trend a problem owns: the one it was opened for (problems.trend_key) and those
    that joined it because their incidents were mostly its own (domain.problem.coincides).
    Detection finds a trend's open owner here; linking joins incidents through it."""

    __tablename__ = "problem_trends"

    problem_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    trend_key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)
