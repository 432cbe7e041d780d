"""On-call: the catalogue's schedules (a JSON column beside its other settings; null on a
catalogue loaded before) and the overrides of their rotations.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("catalogue_settings", sa.Column("oncall", sa.JSON(), nullable=True))
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False),
        sa.Column("layer", sa.String(40), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oncall_overrides"),
    )
    op.create_index(
        "ix_oncall_overrides_group_ends_at", "oncall_overrides", ["group_name", "ends_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_oncall_overrides_group_ends_at", table_name="oncall_overrides")
    op.drop_table("oncall_overrides")
    with op.batch_alter_table("catalogue_settings") as batch:
        batch.drop_column("oncall")
