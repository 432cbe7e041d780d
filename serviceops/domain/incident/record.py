"""The incident record, its lifecycle as a transition table, and the rules applied on logging.

Legal moves are data (TRANSITIONS, run by the shared machine as INCIDENTS); the steps that
apply them are serviceops.domain.incident.steps.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from serviceops.domain.incident.sla import SlaClock
from serviceops.domain.machine import Lifecycle
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.provenance import SERVICE_ACTORS, PersonName


class IncidentState(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATES = frozenset(
    {IncidentState.NEW, IncidentState.ASSIGNED, IncidentState.IN_PROGRESS, IncidentState.PENDING}
)


class IncidentAction(StrEnum):
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    START_WORK = "start_work"
    PEND = "pend"
    RESUME = "resume"
    ESCALATE_FUNCTIONAL = "escalate_functional"
    ESCALATE_HIERARCHIC = "escalate_hierarchic"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


class Source(StrEnum):
    SERVICE_DESK = "service_desk"
    USER = "user"
    MONITORING = "monitoring"
    WEBHOOK = "webhook"
    CLI = "cli"


class ResolutionCode(StrEnum):
    FIXED = "fixed"
    WORKAROUND = "workaround"
    NO_FAULT_FOUND = "no_fault_found"
    DUPLICATE = "duplicate"
    USER_ERROR = "user_error"
    CHANGE_ROLLED_BACK = "change_rolled_back"


S, A = IncidentState, IncidentAction
TRANSITIONS: dict[tuple[IncidentState, IncidentAction], IncidentState] = {
    (S.NEW, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ACKNOWLEDGE): S.ASSIGNED,
    (S.ASSIGNED, A.START_WORK): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.PEND): S.PENDING,
    (S.PENDING, A.RESUME): S.IN_PROGRESS,
    (S.NEW, A.ESCALATE_FUNCTIONAL): S.ASSIGNED,
    (S.ASSIGNED, A.ESCALATE_FUNCTIONAL): S.ASSIGNED,
    (S.IN_PROGRESS, A.ESCALATE_FUNCTIONAL): S.ASSIGNED,
    (S.PENDING, A.ESCALATE_FUNCTIONAL): S.ASSIGNED,
    (S.NEW, A.ESCALATE_HIERARCHIC): S.NEW,
    (S.ASSIGNED, A.ESCALATE_HIERARCHIC): S.ASSIGNED,
    (S.IN_PROGRESS, A.ESCALATE_HIERARCHIC): S.IN_PROGRESS,
    (S.PENDING, A.ESCALATE_HIERARCHIC): S.PENDING,
    (S.ASSIGNED, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.PENDING, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.IN_PROGRESS,
}
del S, A
INCIDENTS = Lifecycle("incident", TRANSITIONS)


class ReopenWindowClosed(ValueError):
    """A resolved incident may be reopened only within the policy's window."""


class IncidentDraft(BaseModel):
    """What is known when an incident is identified, before any rule is applied."""

    title: str = Field(min_length=3, max_length=200, title="Title", description="One line.")
    description: str = Field(
        "", max_length=20_000, title="Description", description="What is seen, since when."
    )
    service: str = Field(
        min_length=1, max_length=100, title="Service (CI)", description="Affected service or CI."
    )
    ci: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        title="Configuration item",
        description="The CI at fault, when known (e.g. the host under the service).",
    )
    category: str = Field(
        min_length=1,
        max_length=100,
        title="Category",
        description="Multi-level, e.g. network/vpn; unknown top levels are filed under other/.",
    )
    impact: Impact = Field(title="Impact", description="How much of the business is affected.")
    urgency: Urgency = Field(title="Urgency", description="How fast the business needs it back.")
    reporter: str = Field(
        min_length=1, max_length=200, title="Reporter", description="Who reported it."
    )
    source: Source = Field(Source.SERVICE_DESK, title="Source", description="How it came in.")
    major: bool = Field(
        False, title="Major incident", description="Take the major path whatever the priority."
    )
    page: bool = Field(
        False,
        title="Page the on-call now",
        description="Page the support group's on-call whatever the hour and the incident "
        "policy say (an event rule with response page sets it).",
    )

    @model_validator(mode="after")
    def _a_person_reports(self) -> "IncidentDraft":
        """Only monitoring reports under serviceops's own name (its rows count as serviceops
        acting by itself, see serviceops.domain.provenance)."""
        if self.reporter in SERVICE_ACTORS and self.source is not Source.MONITORING:
            raise ValueError(f"reporter {self.reporter!r} is serviceops's own name")
        return self


class KnownErrorMatch(BaseModel):
    """The known error that initial diagnosis matched, with the workaround offered."""

    number: str
    title: str
    workaround: str


class Incident(BaseModel):
    """An incident as the service desk sees it; numbers are INC-000123."""

    number: str
    title: str
    description: str
    service: str
    ci: str | None = None
    category: str
    impact: Impact
    urgency: Urgency
    priority: Priority | None = None
    reporter: str
    source: Source
    state: IncidentState
    major: bool = False
    category_corrected: bool = False
    support_group: str | None = None
    assignee: str | None = None
    known_error: KnownErrorMatch | None = None
    resolution_code: ResolutionCode | None = None
    resolution_notes: str | None = None
    pending_reason: str | None = None
    response_sla: SlaClock | None = None
    resolution_sla: SlaClock | None = None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    escalation_count: int = 0
    major_channel: str | None = None
    last_status_update_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def check_reopen_window(incident: Incident, at: datetime, window: timedelta) -> None:
    if incident.resolved_at is not None and at - incident.resolved_at > window:
        raise ReopenWindowClosed(
            f"{incident.number} was resolved at {incident.resolved_at.isoformat()}; "
            f"the reopen window of {window} has passed: log a new incident instead"
        )


class IncidentCommand(BaseModel):
    """What every transition form asks: which incident, and who acts. Each command names the
    flow (and deployment) that carries it out, and serviceops.domain.incident.steps.STEPS the step
    that changes the record: the CLI, the flows and their tests are derived from the two."""

    flow_name: ClassVar[str]
    label: ClassVar[str]  # the button, the link, the verb a person reads
    actions: ClassVar[tuple[IncidentAction, ...]]  # its rows in TRANSITIONS

    number: str = Field(
        pattern=r"^INC-\d{6,}$", title="Incident number", description="e.g. INC-000123"
    )
    actor: PersonName = Field(title="Actor", description="Who acts.")


class AcknowledgeIncident(IncidentCommand):
    """The support group owns the incident: the response clock stops."""

    flow_name: ClassVar[str] = "acknowledge-incident"
    label: ClassVar[str] = "Acknowledge"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.ACKNOWLEDGE,)


class StartIncidentWork(IncidentCommand):
    """Investigation and diagnosis start."""

    flow_name: ClassVar[str] = "start-incident-work"
    label: ClassVar[str] = "Start work"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.START_WORK,)


class PendIncident(IncidentCommand):
    """Waiting on someone outside the group: the SLA clocks pause."""

    flow_name: ClassVar[str] = "pend-incident"
    label: ClassVar[str] = "Pend"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.PEND,)

    reason: str = Field(min_length=3, max_length=2000, title="Reason", description="Waiting on?")


class ResumeIncident(IncidentCommand):
    """Back from pending: the SLA clocks run again."""

    flow_name: ClassVar[str] = "resume-incident"
    label: ClassVar[str] = "Resume"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.RESUME,)


class EscalationKind(StrEnum):
    FUNCTIONAL = "functional"
    HIERARCHIC = "hierarchic"


class EscalateIncident(IncidentCommand):
    """Functional: hand to another group. Hierarchic: tell management."""

    flow_name: ClassVar[str] = "escalate-incident"
    label: ClassVar[str] = "Escalate"
    actions: ClassVar[tuple[IncidentAction, ...]] = (
        IncidentAction.ESCALATE_FUNCTIONAL,
        IncidentAction.ESCALATE_HIERARCHIC,
    )

    kind: EscalationKind = Field(title="Escalation", description="functional or hierarchic")
    to_group: str | None = Field(
        None, title="To group", description="Required for a functional escalation."
    )
    reason: str = Field(
        min_length=3, max_length=2000, title="Reason", description="Why it is escalated."
    )


class ResolveIncident(IncidentCommand):
    """Service restored: the resolution clock stops."""

    flow_name: ClassVar[str] = "resolve-incident"
    label: ClassVar[str] = "Resolve"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.RESOLVE,)

    code: ResolutionCode = Field(title="Resolution code", description="How it was resolved.")
    notes: str = Field(
        min_length=3,
        max_length=20_000,
        title="Resolution notes",
        description="What was done; kept for the known error database and the user.",
    )


class CloseIncident(IncidentCommand):
    """Resolution confirmed with the user."""

    flow_name: ClassVar[str] = "close-incident"
    label: ClassVar[str] = "Close"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.CLOSE,)

    note: str = Field(
        "", max_length=2000, title="Closing note", description="e.g. how the user confirmed."
    )


class ReopenIncident(IncidentCommand):
    """The fix did not hold: back to work, within the reopen window."""

    flow_name: ClassVar[str] = "reopen-incident"
    label: ClassVar[str] = "Reopen"
    actions: ClassVar[tuple[IncidentAction, ...]] = (IncidentAction.REOPEN,)

    reason: str = Field(
        min_length=3, max_length=2000, title="Reason", description="What shows it is not fixed."
    )
