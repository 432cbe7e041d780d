"""Delivering the outbox: recorded rows are sent (to Slack, by mail, by SMS), each marked in
its own transaction. Each channel is delivered on its own (`deliver` with that channel's
`Sender`), so a mail server that is down never holds up Slack, nor Slack the mail.

Guarantees:
- A delivered row is never sent again (`delivered_at` is checked under the row claim).
- Nothing is lost: failures only bump `attempts` and keep `last_error`; the row stays pending.
- Each row is claimed, sent and marked in one transaction that holds its lock until the mark
  commits, so two deliverers never post the same row, also from different processes (serve
  runs every flow run in a process of its own). PostgreSQL: FOR UPDATE SKIP LOCKED.
  SQLite: the claim is an UPDATE ... RETURNING, so the transaction starts with the write lock
  (no read snapshot to upgrade later); other writers wait for it (busy_timeout).

The only window for a duplicate is a crash after Slack accepted a message and before the
delivered mark commits: at-least-once at that instant, exactly-once otherwise.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from serviceops.notify.outbox import CREATE_CHANNEL, POST_MESSAGE, SLACK_METHODS, UPDATE_MESSAGE
from serviceops.store.notifications import NotificationRecord

log = logging.getLogger(__name__)

# Errors that say the whole run is pointless (Slack down, token bad): stop, retry later.
_STOP_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)
_IGNORED_INVITE_ERRORS = frozenset({"already_in_channel", "cant_invite_self"})


class DeliveryReport(BaseModel):
    """What one `deliver_pending` run did; `remaining` counts every undelivered row after it."""

    delivered: int
    failed: int
    remaining: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Job:
    id: int
    key: str
    method: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """One attempt's result: the Slack message it made (ts, channel), or a one-line error."""

    slack_ts: str | None = None
    slack_channel: str | None = None
    error: str | None = None
    stop: bool = False  # the error concerns every row (channel down, bad token): end the run
    unexpected: BaseException | None = None


class Sender(Protocol):
    """One channel's delivery: one attempt at a row of the methods it is given."""

    def attempt(self, method: str, payload: dict[str, Any]) -> Outcome: ...


def deliver_pending(
    sessions: sessionmaker[Session],
    client: WebClient | None,
    *,
    limit: int = 100,
    now: Callable[[], datetime] = _utcnow,
    max_attempts: int | None = None,
) -> DeliveryReport:
    """Slack's rows (`client=None`: Slack is off, no token; the rows wait). See `deliver`."""
    sender = None if client is None else SlackSender(client)
    return deliver(sessions, SLACK_METHODS, sender, limit=limit, now=now, max_attempts=max_attempts)


def deliver(
    sessions: sessionmaker[Session],
    methods: frozenset[str],
    sender: Sender | None,
    *,
    limit: int = 100,
    now: Callable[[], datetime] = _utcnow,
    max_attempts: int | None = None,
) -> DeliveryReport:
    """Send up to `limit` undelivered rows of `methods` in id order; each result commits on
    its own.

    `sender=None` means the channel is off (not configured): nothing is attempted and the rows
    wait. A per-message error (e.g. channel_not_found, a refused recipient) is recorded and
    the run goes on; an error that concerns every message (connection, 429/5xx after the
    client's retries, bad credentials) is recorded on that row and ends the run, leaving the
    rest for the next one. `max_attempts` (None: unlimited) parks rows that keep failing;
    they stay in the table.
    """
    if sender is None:
        remaining = _count_undelivered(sessions, methods)
        if remaining:
            log.info("%d notification(s) wait in the outbox for a channel that is off", remaining)
        return DeliveryReport(delivered=0, failed=0, remaining=remaining)

    with sessions() as session:
        locking = session.get_bind().dialect.name == "postgresql"
    delivered = failed = 0
    after = 0
    for _ in range(limit):
        conditions = _next_undelivered(after, max_attempts, methods)
        outcome, job = _deliver_next(sessions, sender, conditions, locking, now)
        if job is None:
            break
        after = job.id
        if outcome.error is None:
            delivered += 1
            log.info("delivered %s %s (%s)", job.method, job.key, outcome.slack_ts or "")
            continue
        failed += 1
        log.warning("could not deliver %s %s: %s", job.method, job.key, outcome.error)
        if outcome.unexpected is not None:
            raise outcome.unexpected
        if outcome.stop:
            break
    remaining = _count_undelivered(sessions, methods)
    return DeliveryReport(delivered=delivered, failed=failed, remaining=remaining)


def _deliver_next(
    sessions: sessionmaker[Session],
    sender: Sender,
    conditions: list[Any],
    locking: bool,
    now: Callable[[], datetime],
) -> tuple[Outcome, _Job | None]:
    """Claim the next row that meets `conditions`, send it and record the result, in one
    transaction that holds the row's lock (PostgreSQL) or the write lock (SQLite) until it
    commits."""
    with sessions() as session, session.begin():
        if locking:
            job = _claim(session, conditions)
        else:
            job = _claim_with_write_lock(session, conditions, now())
        if job is None:
            return Outcome(), None
        attempted_at = now()
        job, waiting = _with_references(session, job)
        outcome = Outcome(error=waiting) if waiting else sender.attempt(job.method, job.payload)
        _record(session, job, outcome, attempted_at, now())
        return outcome, job


def _with_references(session: Session, job: _Job) -> tuple[_Job, str | None]:
    """Fill in the Slack message a row refers to by its outbox key: the thread a reply goes
    in (none yet: posted on its own) and the message an update replaces (not delivered yet:
    the update waits, and the reason is returned)."""
    payload = dict(job.payload)
    reference = payload.pop("thread_of", None) or payload.pop("of", None)
    if reference is None:
        return job, None
    original = session.execute(
        select(NotificationRecord.slack_channel, NotificationRecord.slack_ts).where(
            NotificationRecord.key == reference, NotificationRecord.delivered_at.is_not(None)
        )
    ).first()
    if job.method == UPDATE_MESSAGE:
        if original is None or original.slack_ts is None:
            return job, f"waiting for {reference} to be delivered"
        payload |= {"channel": original.slack_channel, "ts": original.slack_ts}
    elif original is not None and original.slack_ts is not None:
        payload |= {"channel": original.slack_channel, "thread_ts": original.slack_ts}
    return _Job(id=job.id, key=job.key, method=job.method, payload=payload), None


def _next_undelivered(after: int, max_attempts: int | None, methods: frozenset[str]) -> list[Any]:
    conditions = [
        NotificationRecord.delivered_at.is_(None),
        NotificationRecord.id > after,
        NotificationRecord.method.in_(sorted(methods)),
    ]
    if max_attempts is not None:
        conditions.append(NotificationRecord.attempts < max_attempts)
    return conditions


def _claim(session: Session, conditions: list[Any]) -> _Job | None:
    """PostgreSQL: lock the next free row; rows another deliverer holds are skipped."""
    statement = (
        select(NotificationRecord)
        .where(*conditions)
        .order_by(NotificationRecord.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    row = session.scalars(statement).first()
    if row is None:
        return None
    return _Job(id=row.id, key=row.key, method=row.method, payload=dict(row.payload))


def _claim_with_write_lock(session: Session, conditions: list[Any], at: datetime) -> _Job | None:
    """SQLite: one UPDATE picks and touches the next row, taking the database's write lock."""
    next_id = select(func.min(NotificationRecord.id)).where(*conditions).scalar_subquery()
    statement = (
        update(NotificationRecord)
        .where(NotificationRecord.id == next_id, NotificationRecord.delivered_at.is_(None))
        .values(last_attempt_at=at)
        .returning(
            NotificationRecord.id,
            NotificationRecord.key,
            NotificationRecord.method,
            NotificationRecord.payload,
        )
        .execution_options(synchronize_session=False)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return _Job(id=row.id, key=row.key, method=row.method, payload=dict(row.payload))


def _record(
    session: Session, job: _Job, outcome: Outcome, attempted_at: datetime, done_at: datetime
) -> None:
    values: dict[str, Any] = {
        "attempts": NotificationRecord.attempts + 1,
        "last_attempt_at": attempted_at,
    }
    if outcome.error is None:
        values |= {
            "delivered_at": done_at,
            "slack_ts": outcome.slack_ts,
            "slack_channel": outcome.slack_channel,
        }
    else:
        values["last_error"] = outcome.error
    session.execute(
        update(NotificationRecord)
        .where(NotificationRecord.id == job.id, NotificationRecord.delivered_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _count_undelivered(sessions: sessionmaker[Session], methods: frozenset[str]) -> int:
    with sessions() as session:
        statement = select(func.count()).where(
            NotificationRecord.delivered_at.is_(None),
            NotificationRecord.method.in_(sorted(methods)),
        )
        return session.scalar(statement.select_from(NotificationRecord)) or 0


class SlackSender:
    """Slack's rows through the Web API client (make_client: 429 and 5xx retried inside)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def attempt(self, method: str, payload: dict[str, Any]) -> Outcome:
        """One delivery; every failure becomes an outcome with a one-line error."""
        try:
            if method == POST_MESSAGE:
                response = self.client.chat_postMessage(**payload)
                return Outcome(slack_ts=response["ts"], slack_channel=response["channel"])
            if method == UPDATE_MESSAGE:
                response = self.client.chat_update(**payload)
                return Outcome(slack_ts=response["ts"], slack_channel=response["channel"])
            if method == CREATE_CHANNEL:
                return Outcome(slack_channel=_open_channel(self.client, payload))
            return Outcome(error=f"unknown outbox method {method!r}")
        except SlackApiError as error:
            code = _error_code(error)
            status = error.response.status_code
            return Outcome(
                error=_describe_api_error(error),
                stop=status == 429 or status >= 500 or code in _STOP_ERRORS,
            )
        except (SlackClientError, OSError) as error:
            return Outcome(error=one_line(error), stop=True)
        except Exception as error:  # a bug: record it on the row, then let it surface
            log.exception("unexpected error delivering %s", method)
            return Outcome(error=one_line(error), unexpected=error)


def one_line(error: BaseException) -> str:
    """An error as an outbox row keeps it: its type and message, at most 500 characters."""
    return f"{type(error).__name__}: {error}"[:500]


def _open_channel(client: WebClient, payload: dict[str, Any]) -> str:
    """Create (or find) the channel, invite the members, set the topic; the channel id."""
    name = payload["name"]
    try:
        channel_id: str = client.conversations_create(name=name)["channel"]["id"]
    except SlackApiError as error:
        if _error_code(error) != "name_taken":
            raise
        found = _find_channel(client, name)
        if found is None:
            raise
        channel_id = found
        log.info("channel #%s exists (%s): reusing it", name, channel_id)
    for member in payload.get("members", []):
        try:
            client.conversations_invite(channel=channel_id, users=member)
        except SlackApiError as error:
            if _error_code(error) not in _IGNORED_INVITE_ERRORS:
                raise
    if payload.get("topic"):
        client.conversations_setTopic(channel=channel_id, topic=payload["topic"])
    return channel_id


def _find_channel(client: WebClient, name: str) -> str | None:
    """conversations.list, page by page, for an unarchived channel called `name`."""
    cursor: str | None = None
    while True:
        response = client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=200, cursor=cursor
        )
        for channel in response.get("channels", []):
            if channel.get("name") == name:
                return str(channel["id"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return None


def _error_code(error: SlackApiError) -> str | None:
    data = error.response.data
    return data.get("error") if isinstance(data, dict) else None


def _describe_api_error(error: SlackApiError) -> str:
    """`chat.postMessage: HTTP 500 internal_error` — what an operator needs, one line."""
    response = error.response
    method = response.api_url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    code = _error_code(error) or "no error code"
    text = f"{method}: HTTP {response.status_code} {code}"
    data = response.data
    if isinstance(data, dict) and data.get("needed"):
        text += f" (needed: {data['needed']})"
    return text[:500]
