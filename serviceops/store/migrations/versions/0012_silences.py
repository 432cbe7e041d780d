"""Silences (SIL-000001): quiet an operator declares on a CI, a service or a check.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("ci", sa.String(100), nullable=True),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("check", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
        sa.UniqueConstraint("number", name="uq_silences_number"),
    )
    op.create_index(
        "ix_silences_active",
        "silences",
        ["ends_at"],
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_silences_active", table_name="silences")
    op.drop_table("silences")
