"""The public JSON of service requests and the catalogue: what `GET /api/v1/requests`,
`GET /api/v1/catalogue` and `serviceops request ... --json` return."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from serviceops.domain.request import CatalogueItem, ServiceRequest
from serviceops.domain.views.audit import AuditView


class ApprovalView(BaseModel):
    """One approval decision on a request."""

    kind: str = Field(description="financial, manager or system_owner")
    approver: str
    approved: bool
    comment: str
    at: datetime


class RequestView(BaseModel):
    """A service request as the read API and `serviceops request ... --json` show it."""

    number: str = Field(description="REQ-000123")
    type: str = Field(description="The catalogue item, e.g. new_laptop")
    title: str = Field(description="The catalogue item's title")
    requester: str
    source: str = Field(description="Who submitted it: a webhook source, cli or ui")
    state: str = Field(
        description="submitted, awaiting_approval, approved, fulfilling, fulfilled, closed, "
        "rejected or failed"
    )
    details: dict[str, Any] = Field(description="The catalogue item's fields as submitted")
    approvals_required: list[str]
    approvals: list[ApprovalView]
    pending_approval: str | None = Field(description="The next approval to give; null if none")
    approval_due_at: datetime | None
    completed_steps: list[str]
    error: str | None
    rejection_reason: str | None
    flow_run_id: str | None = Field(description="The fulfil-request run; null until started")
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    fulfilled_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, request: ServiceRequest) -> "RequestView":
        pending = request.pending_approval()
        return cls(
            number=request.number,
            type=request.type,
            title=type(request.details).title,
            requester=request.requester,
            source=request.source,
            state=request.state.value,
            details=request.details.model_dump(mode="json"),
            approvals_required=[kind.value for kind in request.approvals_required],
            approvals=[
                ApprovalView(
                    kind=a.kind.value,
                    approver=a.approver,
                    approved=a.approved,
                    comment=a.comment,
                    at=a.at,
                )
                for a in request.approvals
            ],
            pending_approval=None if pending is None else pending.value,
            approval_due_at=request.approval_due_at,
            completed_steps=list(request.completed_steps),
            error=request.error,
            rejection_reason=request.rejection_reason,
            flow_run_id=request.flow_run_id,
            created_at=request.created_at,
            updated_at=request.updated_at,
            due_at=request.due_at,
            fulfilled_at=request.fulfilled_at,
            closed_at=request.closed_at,
        )


class RequestDocument(BaseModel):
    """`{"request": {...}, "audit": [...]}`: one request and its history, oldest first."""

    request: RequestView
    audit: list[AuditView]


class RequestList(BaseModel):
    """`{"requests": [...], "count": n, "limit", "offset"}`: one page, newest first."""

    requests: list[RequestView]
    count: int = Field(description="How many requests this page holds.")
    limit: int
    offset: int


class CatalogueDocument(BaseModel):
    """`{"items": [...]}`: what can be requested, with approvals, steps and target time."""

    items: list[CatalogueItem]


class SubmittedDocument(BaseModel):
    """`{"request": {...}, "duplicate": false}`: what `serviceops request submit --json` prints."""

    request: RequestView
    duplicate: bool = Field(
        description="The external id was submitted before: this is that request, and nothing "
        "new was recorded or started."
    )


class DecisionView(BaseModel):
    """An approval decision delivered to the suspended fulfil-request run."""

    kind: str = Field(description="The approval decided: financial, manager or system_owner")
    approve: bool
    approver: str
    comment: str
    flow_run_id: str = Field(description="The run resumed; it records the decision as it goes on")


class DecisionDocument(BaseModel):
    """`{"request": {...}, "decision": {...}}`: what `serviceops request approve/reject --json`
    prints. The request is read after the resume; the run records the decision once it runs."""

    request: RequestView
    decision: DecisionView
