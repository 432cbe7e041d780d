"""The light CMDB and operational checks: configuration items, check definitions and the
catalogue's settings (all replaced on each load of the catalogue file), and the append-only
history of check results.

Written by hand to match serviceops.store.schema exactly (tests/unit/test_migrations.py runs
Alembic's autogenerate comparison on SQLite and PostgreSQL to prove it); column types are
spelled out here, as in 0001.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    """Every instant is stored as an aware timestamp (UTCDateTime normalises it to UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "configuration_items",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("owner_group", sa.String(100), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("endpoints", sa.JSON(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        _at("loaded_at", nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_configuration_items"),
    )

    op.create_table(
        "checks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("ci", sa.String(200), nullable=True),
        sa.Column("derived", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        _at("loaded_at", nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_checks"),
    )

    op.create_table(
        "catalogue_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network", sa.JSON(), nullable=False),
        sa.Column("schedules", sa.JSON(), nullable=False),
        _at("loaded_at", nullable=False),
        sa.Column("source_file", sa.String(1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalogue_settings"),
    )

    op.create_table(
        "check_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("ci", sa.String(200), nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _at("checked_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_check_runs"),
    )
    # The latest result per check and one check's history, newest first, both read this.
    op.create_index("ix_check_runs_check_checked_at", "check_runs", ["check", "checked_at"])


def downgrade() -> None:
    op.drop_table("check_runs")
    op.drop_table("catalogue_settings")
    op.drop_table("checks")
    op.drop_table("configuration_items")
