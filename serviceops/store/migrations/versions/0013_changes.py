"""Change records (CHG-000001) and the catalogue's freeze periods.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cis", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("template", sa.String(100), nullable=True),
        sa.Column("risk", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("planned_start", when, nullable=False),
        sa.Column("planned_end", when, nullable=False),
        sa.Column("implementation_plan", sa.Text(), nullable=False),
        sa.Column("backout_plan", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("approvals_required", sa.JSON(), nullable=False),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("approval_round", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.String(36), nullable=True),
        sa.Column("started_at", when, nullable=True),
        sa.Column("implemented_at", when, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("review_summary", sa.Text(), nullable=True),
        sa.Column("reviewed_at", when, nullable=True),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.UniqueConstraint("number", name="uq_changes_number"),
    )
    op.create_index("ix_changes_state", "changes", ["state"])
    op.create_index("ix_changes_window", "changes", ["planned_start", "planned_end"])
    with op.batch_alter_table("catalogue_settings") as batch:
        batch.add_column(sa.Column("freezes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalogue_settings") as batch:
        batch.drop_column("freezes")
    op.drop_index("ix_changes_window", table_name="changes")
    op.drop_index("ix_changes_state", table_name="changes")
    op.drop_table("changes")
