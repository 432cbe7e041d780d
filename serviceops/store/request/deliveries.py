"""Webhook deliveries: one key per source claimed once, its first answer replayed to the
duplicates, so a portal's retry never files a request twice."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from serviceops.store.base import RecordNotFound
from serviceops.store.db import dialect_insert
from serviceops.store.request.tables import WebhookDeliveryRecord


class StoredAnswer(BaseModel):
    """The reply given to the first delivery of a key, replayed to every duplicate."""

    status: int
    body: dict[str, Any]


class UnansweredDelivery(RuntimeError):
    """A committed claim without an answer: its caller broke the claim-answer-commit rule."""

    def __init__(self, source: str, key: str) -> None:
        super().__init__(f"delivery {source}/{key} was claimed and committed without an answer")
        self.source, self.key = source, key


class DeliveryRepository:
    """Idempotency keys of incoming deliveries (webhooks): the first one does the work, every
    duplicate gets the first one's answer.

    The rule for callers: claim, do the work, `answer()`, all in ONE transaction. The claim
    row and its answer then commit together, so whoever sees the row sees the answer:

        with sessions.begin() as session:
            deliveries = DeliveryRepository(session)
            stored = deliveries.claim(source, key, at=now)
            if stored is not None:
                return stored                      # a duplicate: replay the first answer
            ...                                    # record the request, etc.
            deliveries.answer(source, key, 202, body)

    A rollback (the work failed) removes the claim too, so the sender's retry is treated as
    a first delivery. Concurrent duplicates: on PostgreSQL the second INSERT waits on the
    first transaction's uncommitted row; after its commit it finds the row, and (READ
    COMMITTED, the default) its next statement reads the stored answer; after a rollback the
    second claim wins instead. On SQLite the INSERT takes the database's write lock, so make
    the claim the first statement of the transaction (a transaction that read first cannot
    upgrade to the write lock once another writer committed).

    A signed webhook delivery is also known by its signature (key `sig:<hex digest>`, see
    serviceops.gateway.signatures.seen_key), claimed with its Idempotency-Key by claim_all():
    a captured delivery re-sent with another key, or none, is then a duplicate too, and adds
    no row. Rows are never deleted (there is no retention yet): one per signed delivery
    accepted and one per key, though a signature matters only for the 300 s window.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, source: str, key: str, at: datetime) -> StoredAnswer | None:
        """None: this call claimed the key (go on, then answer()). Else the first answer.

        Raises UnansweredDelivery when the key was claimed and committed without an answer
        (a caller that broke the rule above): there is no first answer to replay, and
        making one up would tell the sender something that never happened.
        """
        insert = dialect_insert(self.session)
        statement = (
            insert(WebhookDeliveryRecord)
            .values(source=source, key=key, created_at=at)
            .on_conflict_do_nothing(index_elements=["source", "key"])
            .returning(WebhookDeliveryRecord.id)
        )
        if self.session.execute(statement).scalar_one_or_none() is not None:
            return None
        status, body = self.session.execute(
            select(WebhookDeliveryRecord.status_code, WebhookDeliveryRecord.answer).where(
                WebhookDeliveryRecord.source == source, WebhookDeliveryRecord.key == key
            )
        ).one()
        if status is None:
            raise UnansweredDelivery(source, key)
        return StoredAnswer(status=status, body=body or {})

    def claim_all(
        self, source: str, keys: Sequence[str | None], at: datetime
    ) -> StoredAnswer | None:
        """claim() for a delivery known by several keys (its signature, then its
        Idempotency-Key; None for one it has not), in that order: None when every one is new
        (go on, then answer_all()). Else the answer of the first key seen before, stored now
        under the keys claimed ahead of it, and the keys after it left alone.

        So a sender's retry (a new signature, its old key) is remembered by its signature too;
        and a replay (an old signature) with a new key does not take that key, which may be
        the one the sender's next delivery carries. With one order for every caller no
        transaction waits for a signature while it holds a key: two cannot deadlock.
        """
        claimed: list[str] = []
        for key in filter(None, keys):
            stored = self.claim(source, key, at)
            if stored is not None:
                self.answer_all(source, claimed, stored.status, stored.body)
                return stored
            claimed.append(key)
        return None

    def answer_all(
        self, source: str, keys: Sequence[str | None], status: int, body: dict[str, Any]
    ) -> None:
        """answer() under each of `keys` but None."""
        for key in filter(None, keys):
            self.answer(source, key, status, body)

    def answer(self, source: str, key: str, status: int, body: dict[str, Any]) -> None:
        """Store (or replace) the answer of a claimed key; RecordNotFound if never claimed."""
        result = self.session.execute(
            update(WebhookDeliveryRecord)
            .where(WebhookDeliveryRecord.source == source, WebhookDeliveryRecord.key == key)
            .values(status_code=status, answer=body)
        )
        if cast(CursorResult[Any], result).rowcount == 0:
            raise RecordNotFound("delivery", f"{source}/{key}")
