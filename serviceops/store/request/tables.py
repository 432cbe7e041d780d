"""The tables of request fulfilment and access management."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class ServiceRequestRecord(Base):
    """A service request (REQ-000001). `details` is the catalogue item's form as JSON (the
    pydantic model dumped with mode="json"); `type` repeats its discriminator for filtering.

    (source, external_id) is unique: a portal that submits its id twice gets one request.
    Rows without an external id never collide (NULLs are distinct on both backends).
    """

    __tablename__ = "service_requests"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_service_requests_source_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    requester: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(200))
    approvals_required: Mapped[list[str]] = mapped_column(JSON)
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    approval_requested_at: Mapped[datetime | None]
    approval_due_at: Mapped[datetime | None] = mapped_column(index=True)
    approval_escalated_at: Mapped[datetime | None]
    approval_round: Mapped[int] = mapped_column(default=0)
    completed_steps: Mapped[list[str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    due_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class WebhookDeliveryRecord(Base):
    """One delivery key per source, claimed once; its first answer is replayed to duplicates."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "key", name="uq_webhook_deliveries_source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    status_code: Mapped[int | None]
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class IdentityRecord(Base):
    """A person as the directory knows them (HR feed, LDAP, identity provider). A Slack user
    id is one person's (a unique index; NULLs do not collide): a button press is looked up
    by it."""

    __tablename__ = "identities"

    user: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    manager: Mapped[str | None] = mapped_column(String(200))
    groups: Mapped[list[str]] = mapped_column(JSON)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(16))


class GrantRecord(Base):
    """A role on a system held by a user: rows are revoked, never deleted.

    At most one active (not revoked) grant per user, system and role: the partial unique
    index makes two concurrent grants of the same role end up as one row.
    """

    __tablename__ = "access_grants"
    __table_args__ = (
        Index("ix_access_grants_user_system_role", "user", "system", "role"),
        Index(
            "ix_access_grants_active",
            "user",
            "system",
            "role",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(200))
    system: Mapped[str] = mapped_column(String(250))  # "mailbox:" + a 200-character name
    role: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime]
    granted_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[str | None] = mapped_column(String(20))
    expires_on: Mapped[date | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime | None]
    flag_reason: Mapped[str | None] = mapped_column(Text)
