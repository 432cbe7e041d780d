"""Request fulfilment and access management: service requests, webhook deliveries (the
gateway's idempotency keys), identities and access grants.

Written by hand to match serviceops.store.schema exactly (tests/unit/test_migrations.py runs
Alembic's autogenerate comparison on SQLite and PostgreSQL to prove it); column types are
spelled out here, as in 0001.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    """Every instant is stored as an aware timestamp (UTCDateTime normalises it to UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "service_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("approvals_required", sa.JSON(), nullable=False),
        sa.Column("approvals", sa.JSON(), nullable=False),
        _at("approval_requested_at"),
        _at("approval_due_at"),
        _at("approval_escalated_at"),
        sa.Column("approval_round", sa.Integer(), nullable=False),
        sa.Column("completed_steps", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("flow_run_id", sa.String(36), nullable=True),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("due_at", nullable=False),
        _at("fulfilled_at"),
        _at("closed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_service_requests"),
        sa.UniqueConstraint("number", name="uq_service_requests_number"),
        # NULL external ids never collide, on SQLite and PostgreSQL alike.
        sa.UniqueConstraint("source", "external_id", name="uq_service_requests_source_external_id"),
    )
    op.create_index("ix_service_requests_state", "service_requests", ["state"])
    # The approval chaser looks only at approvals whose due instant has passed.
    op.create_index("ix_service_requests_approval_due_at", "service_requests", ["approval_due_at"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        _at("created_at", nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("source", "key", name="uq_webhook_deliveries_source_key"),
    )

    op.create_table(
        "identities",
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("manager", sa.String(200), nullable=True),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("user", name="pk_identities"),
    )

    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("system", sa.String(250), nullable=False),
        sa.Column("role", sa.String(200), nullable=False),
        _at("granted_at", nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("request", sa.String(20), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        _at("revoked_at"),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        _at("flagged_at"),
        sa.Column("flag_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_grants"),
    )
    op.create_index(
        "ix_access_grants_user_system_role", "access_grants", ["user", "system", "role"]
    )
    # At most one active grant per user, system and role: concurrent grants collapse into one.
    op.create_index(
        "ix_access_grants_active",
        "access_grants",
        ["user", "system", "role"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("access_grants")
    op.drop_table("identities")
    op.drop_table("webhook_deliveries")
    op.drop_table("service_requests")
