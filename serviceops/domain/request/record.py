"""Request fulfilment (ITIL SO 4.3): the request record, its lifecycle (REQUESTS, run by the
shared machine) and its approvals. What can be requested is the catalogue (catalogue.py)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from serviceops.domain.machine import Lifecycle
from serviceops.domain.provenance import PersonName
from serviceops.domain.request.catalogue import ApprovalKind, RequestDetails


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    FULFILLING = "fulfilling"
    FULFILLED = "fulfilled"
    CLOSED = "closed"
    REJECTED = "rejected"
    FAILED = "failed"


class RequestAction(StrEnum):
    AWAIT_APPROVAL = "await_approval"
    APPROVE = "approve"
    REJECT = "reject"
    START_FULFILMENT = "start_fulfilment"
    FAIL = "fail"
    FULFIL = "fulfil"
    CLOSE = "close"


S, A = RequestState, RequestAction
REQUEST_TRANSITIONS: dict[tuple[RequestState, RequestAction], RequestState] = {
    (S.SUBMITTED, A.AWAIT_APPROVAL): S.AWAITING_APPROVAL,
    (S.SUBMITTED, A.APPROVE): S.APPROVED,  # nothing to approve: approved by the catalogue
    (S.SUBMITTED, A.REJECT): S.REJECTED,  # failed validation or verification
    (S.AWAITING_APPROVAL, A.APPROVE): S.APPROVED,
    (S.AWAITING_APPROVAL, A.REJECT): S.REJECTED,
    (S.APPROVED, A.START_FULFILMENT): S.FULFILLING,
    (S.FAILED, A.START_FULFILMENT): S.FULFILLING,  # a re-run after a failed step
    (S.FULFILLING, A.FAIL): S.FAILED,
    (S.FULFILLING, A.FULFIL): S.FULFILLED,
    (S.FULFILLED, A.CLOSE): S.CLOSED,
}
del S, A
REQUESTS = Lifecycle("request", REQUEST_TRANSITIONS)


class RequestSubmission(BaseModel):
    """What a portal, a chat bot or the Prefect UI submits."""

    requester: PersonName = Field(title="Requester", description="Who asks (cannot approve it).")
    details: RequestDetails = Field(title="Request", description="Pick a catalogue item.")
    id: str | None = Field(
        None,
        max_length=200,
        title="External id",
        description="The portal's own id; a second submission with it is a duplicate.",
    )


class Approval(BaseModel):
    """One decision of one approver."""

    kind: ApprovalKind
    approver: str
    approved: bool
    comment: str = ""
    at: datetime


class ApprovalDecision(BaseModel):
    """The form on a paused fulfil-request run, and what a Slack button sends."""

    approve: bool = Field(title="Approve", description="On: approve. Off: reject.")
    approver: PersonName = Field(
        title="Approver",
        description="Who decides, as the directory names them: the requester's manager (or "
        "a delegate), the system's owner, or a financial approver; never the requester.",
    )
    comment: str = Field(
        "", max_length=2000, title="Comment", description="Shown to the requester."
    )


class FourEyesViolation(ValueError):
    """The requester may not approve their own request."""


class ServiceRequest(BaseModel):
    number: str
    requester: str
    details: RequestDetails
    state: RequestState
    source: str
    external_id: str | None = None
    approvals_required: list[ApprovalKind] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    approval_requested_at: datetime | None = None
    approval_due_at: datetime | None = None
    approval_escalated_at: datetime | None = None
    approval_round: int = Field(
        0, description="Decisions refused so far (four eyes, no authority)."
    )
    completed_steps: list[str] = Field(default_factory=list)
    error: str | None = None
    rejection_reason: str | None = None
    flow_run_id: str | None = None
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    fulfilled_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def type(self) -> str:
        return self.details.type

    @property
    def run_key(self) -> str:
        """Prefect idempotency key of this request's fulfil-request run: one run per request,
        whoever starts it (gateway, CLI, upkeep). The logging instant is part of it because
        numbers repeat when a serviceops database is rebuilt under the same Prefect server."""
        return f"fulfil-request:{self.number}:{self.created_at.timestamp():.6f}"

    def pending_approval(self) -> ApprovalKind | None:
        """The next approval still to be given, in ITIL order; None when all are given."""
        given = {a.kind for a in self.approvals if a.approved}
        return next((k for k in self.approvals_required if k not in given), None)

    def refusals(self, kind: ApprovalKind) -> int:
        """Decisions of this kind that were not accepted (four-eyes refusals are recorded)."""
        return sum(1 for a in self.approvals if a.kind == kind and not a.approved)
