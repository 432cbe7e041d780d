"""How each audit row's actor was known (via: slack, token, cli, form, system; actor_ref: the
Slack user id, the token's source, the OS user), and the tickets through which the gateway
and the CLI tell a flow run that (serviceops.store.tickets).

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).
The new audit columns are nullable: rows written before this revision say nothing of how
their actor was known, and adding them needs no table copy on SQLite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_trail", sa.Column("via", sa.String(10), nullable=True))
    op.add_column("audit_trail", sa.Column("actor_ref", sa.String(200), nullable=True))
    op.create_table(
        "actor_tickets",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("record", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(60), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flow_run_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_actor_tickets"),
    )
    op.create_index("ix_actor_tickets_record_purpose", "actor_tickets", ["record", "purpose"])


def downgrade() -> None:
    op.drop_index("ix_actor_tickets_record_purpose", table_name="actor_tickets")
    op.drop_table("actor_tickets")
    with op.batch_alter_table("audit_trail") as batch:
        batch.drop_column("actor_ref")
        batch.drop_column("via")
