"""Service requests: store <-> domain mapping.

Like every repository here, it takes a Session and speaks pydantic models only; the caller
owns the session and its transaction (`with sessions.begin() as session: ...`)."""

# RequestRepository.list shadows the builtin in its class body; postponed annotations keep
# the later `-> list[ServiceRequest]` annotations meaning the builtin.
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serviceops.domain.request import (
    Approval,
    ApprovalKind,
    RequestDetails,
    RequestState,
    RequestSubmission,
    ServiceRequest,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.request.tables import ServiceRequestRecord

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

    def count(self, *, state: RequestState) -> int:
        return (
            self.session.scalar(
                select(func.count()).where(ServiceRequestRecord.state == RequestState(state).value)
            )
            or 0
        )

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
