"""The public JSON of records: what the read API returns and what `--json` prints.

These models are a contract with scripts and dashboards, kept apart from the domain models on
purpose: the domain may grow or rename internals (SLA clock fields, Slack channel ids) without
breaking anybody who reads this document. Field names here change only with a version bump.
Pure pydantic, no I/O: the caller passes `now`, so SLA levels are testable with a frozen clock.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from serviceops.domain.incident import (
    Incident,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.request import CatalogueItem, ServiceRequest
from serviceops.domain.sla import BreachLevel, SlaClock, target_met


class SlaLevel(StrEnum):
    """Where one SLA target stands, as a person reads it (a superset of BreachLevel)."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


def sla_level(clock: SlaClock | None, now: datetime) -> SlaLevel | None:
    """One word for a clock: met/breached once stopped, paused while pending, else the level.

    A stopped clock is judged at its stop; a clock stopped or paused with no business time
    left (remaining <= 0) had passed its due time, so it reads breached rather than met/paused.
    """
    if clock is None:
        return None
    if clock.stopped_at is not None:
        met = target_met(clock.due_at, clock.stopped_at, clock.remaining)
        return SlaLevel.MET if met else SlaLevel.BREACHED
    if clock.paused_at is not None:
        overdue = clock.due_at is None and clock.remaining <= timedelta(0)
        return SlaLevel.BREACHED if overdue else SlaLevel.PAUSED
    level = clock.level(now)
    return {
        BreachLevel.OK: SlaLevel.OK,
        BreachLevel.WARNING: SlaLevel.WARNING,
        BreachLevel.BREACHED: SlaLevel.BREACHED,
    }[level]


class KnownErrorView(BaseModel):
    """The known error diagnosis matched, and the workaround offered to the user."""

    number: str
    title: str
    workaround: str


class IncidentView(BaseModel):
    """An incident as the read API and `serviceops incident ... --json` show it."""

    number: str = Field(description="INC-000123")
    title: str
    description: str
    state: str = Field(description="new, assigned, in_progress, pending, resolved or closed")
    priority: int | None = Field(description="1 (critical) .. 5 (planning); null before triage")
    priority_label: str | None = Field(description='e.g. "P2 High"')
    impact: str
    urgency: str
    service: str
    ci: str | None = Field(description="The configuration item at fault, when known")
    category: str
    support_group: str | None
    assignee: str | None
    reporter: str
    source: str
    major: bool
    known_error: KnownErrorView | None
    resolution_code: str | None
    resolution_notes: str | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response_due_at: datetime | None = Field(description="null while paused")
    resolution_due_at: datetime | None = Field(description="null while paused or for P5")
    response_sla: SlaLevel | None
    resolution_sla: SlaLevel | None
    reopen_count: int

    @classmethod
    def of(cls, incident: Incident, now: datetime) -> "IncidentView":
        """The view of `incident` with SLA levels judged at `now` (timezone-aware)."""
        response, resolution = incident.response_sla, incident.resolution_sla
        return cls(
            number=incident.number,
            title=incident.title,
            description=incident.description,
            state=incident.state.value,
            priority=None if incident.priority is None else int(incident.priority),
            priority_label=None if incident.priority is None else incident.priority.label,
            impact=incident.impact.value,
            urgency=incident.urgency.value,
            service=incident.service,
            ci=incident.ci,
            category=incident.category,
            support_group=incident.support_group,
            assignee=incident.assignee,
            reporter=incident.reporter,
            source=incident.source.value,
            major=incident.major,
            known_error=(
                None
                if incident.known_error is None
                else KnownErrorView(**incident.known_error.model_dump())
            ),
            resolution_code=(
                None if incident.resolution_code is None else incident.resolution_code.value
            ),
            resolution_notes=incident.resolution_notes,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            acknowledged_at=incident.acknowledged_at,
            resolved_at=incident.resolved_at,
            closed_at=incident.closed_at,
            response_due_at=None if response is None else response.due_at,
            resolution_due_at=None if resolution is None else resolution.due_at,
            response_sla=sla_level(response, now),
            resolution_sla=sla_level(resolution, now),
            reopen_count=incident.reopen_count,
        )


class AuditView(BaseModel):
    """One line of a record's history: who did what, when, from which state, in which run."""

    record: str
    action: str
    actor: str
    at: datetime
    from_state: str | None
    to_state: str
    reason: str
    flow_run_id: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditView":
        return cls(**entry.model_dump())


class IncidentDocument(BaseModel):
    """`{"incident": {...}, "audit": [...]}`: one incident and its history, oldest first.

    The same document comes from `GET /api/v1/incidents/{number}` and `incident show --json`.
    """

    incident: IncidentView
    audit: list[AuditView]


class RunDocument(BaseModel):
    """`{"incident": {...}, "flow_run_id": "..."}`: what a CLI command that ran a flow prints."""

    incident: IncidentView
    flow_run_id: str


class IncidentList(BaseModel):
    """`{"incidents": [...], "count": n}`: one page of incidents, newest first."""

    incidents: list[IncidentView]
    count: int = Field(description="How many incidents this page holds.")
    limit: int
    offset: int


# --------------------------------------------------------------------------- service requests


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
