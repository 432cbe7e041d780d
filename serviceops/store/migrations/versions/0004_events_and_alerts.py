"""Event management: events, alerts, their fingerprints and actions, the processing lock; and
the CI an incident names.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("received_at", nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("ci", sa.String(100), nullable=True),
        sa.Column("check", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=True),
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        _at("occurred_at"),
        _at("processed_at"),
        sa.Column("significance", sa.String(15), nullable=True),
        sa.Column("response", sa.String(10), nullable=True),
        sa.Column("dropped", sa.Boolean(), nullable=False),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("alert_number", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_fingerprint", "events", ["fingerprint"])
    op.create_index("ix_events_alert_number", "events", ["alert_number"])
    op.create_index(
        "ix_events_pending",
        "events",
        ["id"],
        sqlite_where=sa.text("processed_at IS NULL"),
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("ci", sa.String(100), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("significance", sa.String(15), nullable=False),
        sa.Column("response", sa.String(10), nullable=False),
        sa.Column("firing", sa.JSON(), nullable=False),
        sa.Column("fingerprints", sa.JSON(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.Column("incident_number", sa.String(20), nullable=True),
        _at("first_event_at", nullable=False),
        _at("last_event_at", nullable=False),
        _at("resolved_at"),
        _at("closed_at"),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("number", name="uq_alerts_number"),
    )
    op.create_index("ix_alerts_key", "alerts", ["key"])
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_incident_number", "alerts", ["incident_number"])
    op.create_table(
        "alert_fingerprints",
        sa.Column("fingerprint", sa.String(200), nullable=False),
        sa.Column("alert_number", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_alert_fingerprints"),
    )
    op.create_index("ix_alert_fingerprints_alert_number", "alert_fingerprints", ["alert_number"])
    op.create_table(
        "alert_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_number", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("runbook", sa.String(100), nullable=True),
        _at("created_at", nullable=False),
        _at("claimed_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("done_at"),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_actions"),
    )
    op.create_index("ix_alert_actions_alert_number", "alert_actions", ["alert_number"])
    op.create_index(
        "ix_alert_actions_pending",
        "alert_actions",
        ["id"],
        sqlite_where=sa.text("done_at IS NULL"),
        postgresql_where=sa.text("done_at IS NULL"),
    )
    locks = op.create_table(
        "processing_locks",
        sa.Column("name", sa.String(50), nullable=False),
        _at("taken_at"),
        sa.PrimaryKeyConstraint("name", name="pk_processing_locks"),
    )
    op.bulk_insert(locks, [{"name": "process-events", "taken_at": None}])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("ci", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("ci")
    op.drop_table("processing_locks")
    op.drop_index("ix_alert_actions_pending", table_name="alert_actions")
    op.drop_index("ix_alert_actions_alert_number", table_name="alert_actions")
    op.drop_table("alert_actions")
    op.drop_index("ix_alert_fingerprints_alert_number", table_name="alert_fingerprints")
    op.drop_table("alert_fingerprints")
    op.drop_index("ix_alerts_incident_number", table_name="alerts")
    op.drop_index("ix_alerts_state", table_name="alerts")
    op.drop_index("ix_alerts_key", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_events_pending", table_name="events")
    op.drop_index("ix_events_alert_number", table_name="events")
    op.drop_index("ix_events_fingerprint", table_name="events")
    op.drop_table("events")
