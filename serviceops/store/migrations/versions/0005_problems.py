"""Problem management: problems, the incidents they link, the known error's scope (CI,
affected CIs, problem), and the incident indexes trend detection reads.

Written by hand to match serviceops.store.schema (tests/unit/test_migrations.py compares).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_CLOSED = "closed_at IS NULL"


def _at(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("trend_key", sa.String(300), nullable=True),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("ci", sa.String(100), nullable=True),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("impact", sa.String(10), nullable=False),
        sa.Column("urgency", sa.String(10), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("reporter", sa.String(200), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("investigation_notes", sa.Text(), nullable=True),
        sa.Column("workaround", sa.Text(), nullable=True),
        sa.Column("known_error_number", sa.String(20), nullable=True),
        sa.Column("change_ref", sa.String(100), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("review_summary", sa.Text(), nullable=True),
        sa.Column("review_lessons", sa.Text(), nullable=True),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("resolved_at"),
        _at("closed_at"),
        _at("reviewed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_problems"),
        sa.UniqueConstraint("number", name="uq_problems_number"),
    )
    op.create_index("ix_problems_state", "problems", ["state"])
    op.create_index(
        "ix_problems_open_trend",
        "problems",
        ["trend_key"],
        unique=True,
        sqlite_where=sa.text(_NOT_CLOSED),
        postgresql_where=sa.text(_NOT_CLOSED),
    )
    op.create_table(
        "problem_incidents",
        sa.Column("problem_number", sa.String(20), nullable=False),
        sa.Column("incident_number", sa.String(20), nullable=False),
        _at("linked_at", nullable=False),
        sa.PrimaryKeyConstraint("problem_number", "incident_number", name="pk_problem_incidents"),
    )
    op.create_index(
        "ix_problem_incidents_incident_number", "problem_incidents", ["incident_number"]
    )

    # Existing known errors get an empty list of affected CIs: the column is added nullable,
    # filled, then made NOT NULL (no server default to carry in the model afterwards).
    with op.batch_alter_table("known_errors") as batch:
        batch.add_column(sa.Column("ci", sa.String(100), nullable=True))
        batch.add_column(sa.Column("affected_cis", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("problem_number", sa.String(20), nullable=True))
    op.execute(sa.text("UPDATE known_errors SET affected_cis = '[]'"))
    with op.batch_alter_table("known_errors") as batch:
        batch.alter_column("affected_cis", existing_type=sa.JSON(), nullable=False)
    op.create_index("ix_known_errors_ci", "known_errors", ["ci"])

    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
    op.create_index("ix_incidents_service_created_at", "incidents", ["service", "created_at"])
    op.create_index("ix_incidents_ci_created_at", "incidents", ["ci", "created_at"])
    op.create_index("ix_incidents_category_created_at", "incidents", ["category", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_category_created_at", table_name="incidents")
    op.drop_index("ix_incidents_ci_created_at", table_name="incidents")
    op.drop_index("ix_incidents_service_created_at", table_name="incidents")
    op.drop_index("ix_incidents_created_at", table_name="incidents")
    op.drop_index("ix_known_errors_ci", table_name="known_errors")
    with op.batch_alter_table("known_errors") as batch:
        batch.drop_column("problem_number")
        batch.drop_column("affected_cis")
        batch.drop_column("ci")
    op.drop_index("ix_problem_incidents_incident_number", table_name="problem_incidents")
    op.drop_table("problem_incidents")
    op.drop_index("ix_problems_open_trend", table_name="problems")
    op.drop_index("ix_problems_state", table_name="problems")
    op.drop_table("problems")
