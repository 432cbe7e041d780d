"""The outbox: notifications (Slack, mail, SMS) are recorded first and delivered after.

Why: a flow changes a record and wants Slack to hear about it. Posting inside the flow's
transaction would post messages for changes that then roll back, and posting after it would
lose messages when Slack is down or the process dies. So the flow *records* the notification
in its own transaction (`Outbox.post` / `Outbox.open_channel`), and `deliver_pending` sends
recorded rows later, marking each one delivered in its own committed transaction.

Enqueueing is idempotent on `key`: a retried task does not queue a second message.
serviceops.notify.delivery sends the rows and says what it guarantees.
"""

import logging
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from serviceops.notify.render import SlackMessage, clip, slack_escape
from serviceops.store.notifications import NotificationRecord

log = logging.getLogger(__name__)

POST_MESSAGE = "chat.postMessage"
UPDATE_MESSAGE = "chat.update"
CREATE_CHANNEL = "conversations.create"
SLACK_METHODS = frozenset({POST_MESSAGE, UPDATE_MESSAGE, CREATE_CHANNEL})
SEND_EMAIL = "email.send"
SEND_SMS = "sms.send"
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


class Notification(BaseModel):
    """An outbox row as callers see it (the ORM record never leaves the store layer)."""

    id: int
    key: str
    record: str | None
    method: str
    channel: str
    text: str
    created_at: datetime
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    slack_ts: str | None
    slack_channel: str | None


class Outbox:
    """Records notifications in the caller's session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def post(
        self,
        *,
        key: str,
        channel: str,
        message: SlackMessage,
        record: str | None,
        at: datetime,
        thread_of: str | None = None,
    ) -> bool:
        """Queue chat.postMessage to `channel`; False (nothing queued) if `key` exists.
        `thread_of`: the key of a message this one replies to, in its thread once that one
        is delivered (else on its own)."""
        if not channel:
            raise ValueError("a channel is required")
        payload: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "blocks": message.blocks,
        }
        if thread_of is not None:
            payload["thread_of"] = thread_of
        return self._insert(
            key=key, method=POST_MESSAGE, channel=channel, payload=payload, record=record, at=at
        )

    def update(
        self, *, key: str, of: str, message: SlackMessage, record: str | None, at: datetime
    ) -> bool:
        """Queue chat.update of the message queued under key `of`, so the channel shows the
        record as it is now; delivered once that message is (its channel and ts known)."""
        payload = {"of": of, "text": message.text, "blocks": message.blocks}
        return self._insert(
            key=key, method=UPDATE_MESSAGE, channel=of, payload=payload, record=record, at=at
        )

    def open_channel(
        self,
        *,
        key: str,
        name: str,
        members: list[str],
        topic: str,
        record: str | None,
        at: datetime,
    ) -> bool:
        """Queue creating channel `name`, inviting `members` (user ids) and setting its topic.

        Delivery is repeatable: an existing channel of that name is reused and members already
        in it are skipped, so a delivery that failed half-way can simply run again. The topic
        is plain text: it is Slack-escaped here and cut to Slack's 250 characters.
        """
        if not _CHANNEL_NAME.match(name):
            raise ValueError(
                f"invalid Slack channel name {name!r}: lowercase letters, digits, - and _, "
                "at most 80 characters"
            )
        payload = {"name": name, "members": list(members), "topic": clip(slack_escape(topic), 250)}
        return self._insert(
            key=key, method=CREATE_CHANNEL, channel=name, payload=payload, record=record, at=at
        )

    def email(
        self, *, key: str, to: str, subject: str, body: str, record: str | None, at: datetime
    ) -> bool:
        """Queue a plain-text mail to `to` (sent by serviceops.notify.email)."""
        payload = {"to": to, "subject": subject, "text": body}
        return self._insert(
            key=key, method=SEND_EMAIL, channel=to[:80], payload=payload, record=record, at=at
        )

    def sms(self, *, key: str, to: str, body: str, record: str | None, at: datetime) -> bool:
        """Queue an SMS to `to`, an E.164 number (sent by serviceops.notify.sms)."""
        payload = {"to": to, "text": body}
        return self._insert(
            key=key, method=SEND_SMS, channel=to, payload=payload, record=record, at=at
        )

    def _insert(
        self,
        *,
        key: str,
        method: str,
        channel: str,
        payload: dict[str, Any],
        record: str | None,
        at: datetime,
    ) -> bool:
        """INSERT … ON CONFLICT (key) DO NOTHING: concurrent enqueuers cannot both win."""
        values = {
            "key": key,
            "record": record,
            "method": method,
            "channel": channel,
            "payload": payload,
            "created_at": at,
            "attempts": 0,
        }
        dialect = self.session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = (
                insert(NotificationRecord)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(NotificationRecord.id)
            )
            inserted = self.session.execute(statement).scalar_one_or_none() is not None
        else:  # any other database: a savepoint turns the duplicate into a rollback
            try:
                with self.session.begin_nested():
                    self.session.add(NotificationRecord(**values))
                inserted = True
            except IntegrityError:
                inserted = False
        if not inserted:
            log.debug("notification %s already queued", key)
        return inserted

    def list(self, *, undelivered_only: bool = False, limit: int = 100) -> list[Notification]:
        """Rows in delivery (id) order; `undelivered_only` shows what is still waiting."""
        statement = select(NotificationRecord).order_by(NotificationRecord.id).limit(limit)
        if undelivered_only:
            statement = statement.where(NotificationRecord.delivered_at.is_(None))
        return [_to_model(row) for row in self.session.scalars(statement)]


def _to_model(row: NotificationRecord) -> Notification:
    payload = row.payload or {}
    return Notification(
        id=row.id,
        key=row.key,
        record=row.record,
        method=row.method,
        channel=row.channel,
        text=str(payload.get("text") or payload.get("topic") or ""),
        created_at=row.created_at,
        attempts=row.attempts,
        last_attempt_at=row.last_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        slack_ts=row.slack_ts,
        slack_channel=row.slack_channel,
    )
