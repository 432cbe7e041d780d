"""Problem trends: the trends a problem owns, its own and those that joined it.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).
Every problem opened for a trend owns its key from the start.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "problem_trends",
        sa.Column("problem_number", sa.String(20), nullable=False),
        sa.Column("trend_key", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("problem_number", "trend_key", name="pk_problem_trends"),
    )
    op.create_index("ix_problem_trends_trend_key", "problem_trends", ["trend_key"])
    op.execute(
        "INSERT INTO problem_trends (problem_number, trend_key) "
        "SELECT number, trend_key FROM problems "
        "WHERE number IS NOT NULL AND trend_key IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_problem_trends_trend_key", table_name="problem_trends")
    op.drop_table("problem_trends")
