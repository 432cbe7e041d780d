"""Service requests and webhook deliveries: store <-> domain mapping.

Like the incident repositories, these take a Session and speak pydantic models only; the
caller owns the session and its transaction (`with sessions.begin() as session: ...`).
"""

# RequestRepository.list shadows the builtin in its class body; postponed annotations keep
# the later `-> list[ServiceRequest]` annotations meaning the builtin.
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from serviceops.domain.request import (
    Approval,
    ApprovalKind,
    RequestDetails,
    RequestState,
    RequestSubmission,
    ServiceRequest,
)
from serviceops.store.db import dialect_insert
from serviceops.store.records import ServiceRequestRecord, WebhookDeliveryRecord
from serviceops.store.repositories import RecordNotFound

__all__ = [
    "DeliveryRepository",
    "RequestRepository",
    "StoredAnswer",
    "UnansweredDelivery",
]

_DETAILS: TypeAdapter[RequestDetails] = TypeAdapter(RequestDetails)


# --------------------------------------------------------------------------- requests


def _approval_to_json(approval: Approval) -> dict[str, Any]:
    """Instants inside JSON are kept as UTC ISO strings, like the timestamp columns."""
    if approval.at.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return approval.model_copy(update={"at": approval.at.astimezone(UTC)}).model_dump(mode="json")


def _approval_from_json(value: dict[str, Any]) -> Approval:
    approval = Approval.model_validate(value)
    return approval.model_copy(update={"at": approval.at.astimezone(UTC)})


def _request_from_row(row: ServiceRequestRecord) -> ServiceRequest:
    if row.number is None:  # only between the two flushes of RequestRepository.add
        raise RuntimeError(f"service request row {row.id} has no number yet")
    return ServiceRequest(
        number=row.number,
        requester=row.requester,
        details=_DETAILS.validate_python(row.details),
        state=RequestState(row.state),
        source=row.source,
        external_id=row.external_id,
        approvals_required=[ApprovalKind(kind) for kind in row.approvals_required],
        approvals=[_approval_from_json(value) for value in row.approvals],
        approval_requested_at=row.approval_requested_at,
        approval_due_at=row.approval_due_at,
        approval_escalated_at=row.approval_escalated_at,
        approval_round=row.approval_round,
        completed_steps=list(row.completed_steps),
        error=row.error,
        rejection_reason=row.rejection_reason,
        flow_run_id=row.flow_run_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        due_at=row.due_at,
        fulfilled_at=row.fulfilled_at,
        closed_at=row.closed_at,
    )


def _request_to_row(request: ServiceRequest, row: ServiceRequestRecord) -> None:
    """Every field but the number and created_at, which are fixed when it is submitted."""
    row.type = request.details.type
    row.requester = request.requester
    row.details = request.details.model_dump(mode="json")
    row.state = RequestState(request.state).value
    row.source = request.source
    row.external_id = request.external_id
    row.approvals_required = [ApprovalKind(kind).value for kind in request.approvals_required]
    row.approvals = [_approval_to_json(approval) for approval in request.approvals]
    row.approval_requested_at = request.approval_requested_at
    row.approval_due_at = request.approval_due_at
    row.approval_escalated_at = request.approval_escalated_at
    row.approval_round = request.approval_round
    row.completed_steps = list(request.completed_steps)
    row.error = request.error
    row.rejection_reason = request.rejection_reason
    row.flow_run_id = request.flow_run_id
    row.updated_at = request.updated_at
    row.due_at = request.due_at
    row.fulfilled_at = request.fulfilled_at
    row.closed_at = request.closed_at


class RequestRepository:
    """Service requests by number (REQ-000042); the caller owns the session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, submission: RequestSubmission, *, source: str, at: datetime) -> ServiceRequest:
        """Record a submitted request, due `target` of its catalogue item after `at`.

        `submission.id` becomes the external id; (source, external_id) is unique, so a second
        add of the same one raises IntegrityError at the flush (look it up with find_external
        first; the gateway's DeliveryRepository claim keeps duplicates from getting here).
        The number comes from the row id: two flushes, both inside the caller's transaction.
        """
        details = submission.details
        row = ServiceRequestRecord(
            type=details.type,
            requester=submission.requester,
            details=details.model_dump(mode="json"),
            state=RequestState.SUBMITTED.value,
            source=source,
            external_id=submission.id,
            approvals_required=[],
            approvals=[],
            approval_round=0,
            completed_steps=[],
            created_at=at,
            updated_at=at,
            due_at=at + type(details).target,
        )
        self.session.add(row)
        self.session.flush()
        row.number = f"REQ-{row.id:06d}"
        self.session.flush()
        return _request_from_row(row)

    def get(self, number: str, *, for_update: bool = False) -> ServiceRequest:
        """The request as stored now; `for_update` locks the row until the caller's
        transaction ends and re-reads it even when this session has it cached."""
        statement = select(ServiceRequestRecord).where(ServiceRequestRecord.number == number)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        row = self.session.scalars(statement).one_or_none()
        if row is None:
            raise RecordNotFound("request", number)
        return _request_from_row(row)

    def find_external(self, source: str, external_id: str) -> ServiceRequest | None:
        """The request a source submitted under its own id, if any."""
        row = self.session.scalars(
            select(ServiceRequestRecord).where(
                ServiceRequestRecord.source == source,
                ServiceRequestRecord.external_id == external_id,
            )
        ).one_or_none()
        return None if row is None else _request_from_row(row)

    def save(self, request: ServiceRequest) -> ServiceRequest:
        """Write the model back onto its row (flushed, so a constraint error surfaces here)."""
        row = self.session.scalars(
            select(ServiceRequestRecord).where(ServiceRequestRecord.number == request.number)
        ).one_or_none()
        if row is None:
            raise RecordNotFound("request", request.number)
        _request_to_row(request, row)
        self.session.flush()
        return _request_from_row(row)

    def list(
        self,
        *,
        state: RequestState | None = None,
        type: str | None = None,
        requester: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ServiceRequest]:
        """Newest first: by created_at, then by id for requests submitted in the same instant."""
        statement = select(ServiceRequestRecord)
        if state is not None:
            statement = statement.where(ServiceRequestRecord.state == RequestState(state).value)
        if type is not None:
            statement = statement.where(ServiceRequestRecord.type == type)
        if requester is not None:
            statement = statement.where(ServiceRequestRecord.requester == requester)
        statement = (
            statement.order_by(
                ServiceRequestRecord.created_at.desc(), ServiceRequestRecord.id.desc()
            )
            .limit(limit)
            .offset(offset)
        )
        return self._requests(statement)

    def unsubmitted(self, older_than: datetime, limit: int = 100) -> list[ServiceRequest]:
        """Submitted requests no flow run has picked up (flow_run_id unset) since before
        `older_than`: the ones to hand to Prefect again. Oldest first."""
        statement = (
            select(ServiceRequestRecord)
            .where(
                ServiceRequestRecord.state == RequestState.SUBMITTED.value,
                ServiceRequestRecord.flow_run_id.is_(None),
                ServiceRequestRecord.created_at <= older_than,
            )
            .order_by(ServiceRequestRecord.created_at, ServiceRequestRecord.id)
            .limit(limit)
        )
        return self._requests(statement)

    def approvals_overdue(self, now: datetime) -> list[ServiceRequest]:
        """Requests awaiting an approval that fell due by `now` and was not chased yet
        (asking again clears approval_escalated_at). Longest overdue first."""
        statement = (
            select(ServiceRequestRecord)
            .where(
                ServiceRequestRecord.approval_due_at <= now,
                ServiceRequestRecord.state == RequestState.AWAITING_APPROVAL.value,
                ServiceRequestRecord.approval_escalated_at.is_(None),
            )
            .order_by(ServiceRequestRecord.approval_due_at, ServiceRequestRecord.id)
        )
        return self._requests(statement)

    def _requests(self, statement: Any) -> list[ServiceRequest]:
        rows: Sequence[ServiceRequestRecord] = self.session.scalars(statement).all()
        return [_request_from_row(row) for row in rows]


# --------------------------------------------------------------------------- deliveries


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
