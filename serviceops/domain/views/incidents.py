"""The public JSON of records: what the read API returns and what `--json` prints.

These models are a contract with scripts and dashboards, kept apart from the domain models on
purpose: the domain may grow or rename internals (SLA clock fields, Slack channel ids) without
breaking anybody who reads this document. Field names here change only with a version bump.
Pure pydantic, no I/O: the caller passes `now`, so SLA levels are testable with a frozen clock.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from serviceops.domain.incident import (
    BreachLevel,
    Incident,
    SlaClock,
    target_met,
)
from serviceops.domain.views.audit import AuditView


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
