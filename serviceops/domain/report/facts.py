"""What the store reads for one period (plain values, no ORM objects): the input of the KPIs."""

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from serviceops.domain.report.oncall import PageFacts
from serviceops.domain.report.period import ReportPeriod


class IncidentFacts(BaseModel):
    """One incident the period touched (logged, resolved, or an SLA clock stopped in it)."""

    number: str
    priority: int | None
    major: bool
    support_group: str | None
    category_corrected: bool
    reopen_count: int
    functional_escalations: int = Field(
        description="Functional escalations on the audit trail (hierarchic ones are not)."
    )
    created_at: datetime
    resolved_at: datetime | None
    response_due_at: datetime | None = None
    response_stopped_at: datetime | None = None
    response_remaining: timedelta | None = None
    resolution_due_at: datetime | None = None
    resolution_stopped_at: datetime | None = None
    resolution_remaining: timedelta | None = None


class RequestFacts(BaseModel):
    """One service request due or fulfilled in the period."""

    number: str
    state: str
    due_at: datetime
    fulfilled_at: datetime | None


class EventFacts(BaseModel):
    """Counts over the events received in the period."""

    received: int = 0
    correlated: int = Field(0, description="Grouped into an alert.")
    became_incident: int = Field(0, description="In an alert that raised an incident.")
    incidents: int = Field(0, description="Distinct incidents those alerts raised.")
    symptoms: int = Field(
        0,
        description="Alerts of dependent items held as symptoms of an outage first seen in "
        "the period (inhibition through the CMDB).",
    )
    silence_windows: list[tuple[datetime, datetime]] = Field(
        default_factory=list,
        description="When each silence in force during the period started and ended (its "
        "end, or when it was lifted).",
    )


class ProblemFacts(BaseModel):
    """Counts of problem records for the period."""

    opened: int = 0
    closed: int = 0
    open_at_end: int = 0


class KpiFacts(BaseModel):
    """Everything the store reads for one period; `compute_report` makes it a KpiReport."""

    period: ReportPeriod
    incidents: list[IncidentFacts]
    stages: dict[str, int] = Field(
        description="Incidents open at some time in the period, by their state at its end."
    )
    requests: list[RequestFacts]
    events: EventFacts
    problems: ProblemFacts
    known_errors_added: int
    pages: list[PageFacts] = Field(default_factory=list)


# --------------------------------------------------------------------------- the report (output)
