"""Initial schema: incidents, audit trail, known errors, notification outbox.

Written by hand to match serviceops.store.schema exactly (tests/unit/test_migrations.py runs
Alembic's autogenerate comparison on SQLite and PostgreSQL to prove it). Column types are
spelled out here rather than imported from the table modules, so this revision keeps meaning the
same DDL when the ORM classes change later.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    """Every instant is stored as an aware timestamp (UTCDateTime normalises it to UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _sla_columns(kind: str) -> list[sa.Column]:  # type: ignore[type-arg]
    """One SLA clock (response or resolution) flattened into columns, as SlaClock is."""
    return [
        sa.Column(f"{kind}_target_s", sa.Integer(), nullable=True),
        _at(f"{kind}_started_at"),
        _at(f"{kind}_due_at"),
        _at(f"{kind}_warn_at"),
        sa.Column(f"{kind}_remaining_s", sa.Integer(), nullable=True),
        _at(f"{kind}_paused_at"),
        _at(f"{kind}_stopped_at"),
        _at(f"{kind}_warning_notified_at"),
        _at(f"{kind}_breach_notified_at"),
    ]


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("category_corrected", sa.Boolean(), nullable=False),
        sa.Column("impact", sa.String(10), nullable=False),
        sa.Column("urgency", sa.String(10), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("reporter", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("support_group", sa.String(100), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("known_error_number", sa.String(20), nullable=True),
        sa.Column("known_error_title", sa.String(200), nullable=True),
        sa.Column("workaround", sa.Text(), nullable=True),
        sa.Column("resolution_code", sa.String(30), nullable=True),
        sa.Column("resolution_notes", sa.Text(), nullable=True),
        sa.Column("pending_reason", sa.Text(), nullable=True),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("acknowledged_at"),
        _at("resolved_at"),
        _at("closed_at"),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("escalation_count", sa.Integer(), nullable=False),
        sa.Column("major_channel", sa.String(80), nullable=True),
        _at("last_status_update_at"),
        *_sla_columns("response"),
        *_sla_columns("resolution"),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("number", name="uq_incidents_number"),
    )
    op.create_index("ix_incidents_service", "incidents", ["service"])
    op.create_index("ix_incidents_priority", "incidents", ["priority"])
    op.create_index("ix_incidents_state", "incidents", ["state"])
    # The SLA sweep filters on these two: only clocks whose warning instant has passed.
    op.create_index("ix_incidents_response_warn_at", "incidents", ["response_warn_at"])
    op.create_index("ix_incidents_resolution_warn_at", "incidents", ["resolution_warn_at"])

    op.create_table(
        "audit_trail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        _at("at", nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flow_run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_trail"),
    )
    op.create_index("ix_audit_trail_record", "audit_trail", ["record"])
    op.create_index("ix_audit_trail_flow_run_id", "audit_trail", ["flow_run_id"])

    op.create_table(
        "known_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_known_errors"),
        sa.UniqueConstraint("number", name="uq_known_errors_number"),
    )
    op.create_index("ix_known_errors_service", "known_errors", ["service"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("record", sa.String(20), nullable=True),
        sa.Column("method", sa.String(60), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("created_at", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("last_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("delivered_at"),
        sa.Column("slack_ts", sa.String(40), nullable=True),
        sa.Column("slack_channel", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("key", name="uq_notifications_key"),
    )
    op.create_index("ix_notifications_record", "notifications", ["record"])
    # Partial: the outbox drain only ever looks at what is not delivered yet, so the index
    # stays as small as the backlog however long the history grows.
    op.create_index(
        "ix_notifications_undelivered",
        "notifications",
        ["id"],
        sqlite_where=sa.text("delivered_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("known_errors")
    op.drop_table("audit_trail")
    op.drop_table("incidents")
