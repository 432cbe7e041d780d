"""Pages (PGE-000001): an incident's walk up its support group's escalation ladder.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("incident", sa.String(20), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("paged", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_pages"),
        sa.UniqueConstraint("number", name="uq_oncall_pages_number"),
    )
    op.create_index("ix_oncall_pages_incident", "oncall_pages", ["incident"])


def downgrade() -> None:
    op.drop_index("ix_oncall_pages_incident", table_name="oncall_pages")
    op.drop_table("oncall_pages")
