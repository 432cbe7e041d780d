"""The notification outbox's table (serviceops.notify.outbox records and delivers its rows)."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from serviceops.store.base import Base


class NotificationRecord(Base):
    """The outbox: a Slack call recorded first and delivered after, at most once.

    `key` makes enqueueing idempotent (a retried task does not queue twice); `delivered_at` and
    `slack_ts` make delivery idempotent (a delivered row is never sent again). `slack_channel`
    is the channel id Slack answered (for conversations.create: the new channel).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ix_notifications_undelivered",
            "id",
            sqlite_where=text("delivered_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    record: Mapped[str | None] = mapped_column(String(20), index=True)
    method: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    slack_ts: Mapped[str | None] = mapped_column(String(40))
    slack_channel: Mapped[str | None] = mapped_column(String(40))
