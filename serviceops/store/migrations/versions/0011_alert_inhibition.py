"""Held alerts: what holds an alert back (the alert it is a symptom of, a silence), the
symptoms an alert has, and the runbook its response chose (a held alert runs it when it
proceeds on its own).

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("runbook", sa.String(100), nullable=True))
        batch.add_column(sa.Column("suppressed_by", sa.String(20), nullable=True))
        batch.add_column(
            sa.Column("symptoms", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    op.create_index("ix_alerts_suppressed_by", "alerts", ["suppressed_by"])


def downgrade() -> None:
    op.drop_index("ix_alerts_suppressed_by", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("symptoms")
        batch.drop_column("suppressed_by")
        batch.drop_column("runbook")
