"""The directory knows how to reach a person: their Slack user id (unique: a Slack button
press is looked up by it to know who pressed), email and phone (on-call paging).

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).
The columns are nullable, so adding them needs no table copy on SQLite; the unique index
lets any number of people have no Slack id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("identities", sa.Column("slack_user_id", sa.String(32), nullable=True))
    op.add_column("identities", sa.Column("email", sa.String(320), nullable=True))
    op.add_column("identities", sa.Column("phone", sa.String(16), nullable=True))
    op.create_index("ix_identities_slack_user_id", "identities", ["slack_user_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_identities_slack_user_id", table_name="identities")
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("phone")
        batch.drop_column("email")
        batch.drop_column("slack_user_id")
