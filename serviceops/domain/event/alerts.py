"""The records correlation works on and decides: alerts (ALR-000001), the actions and notices
they ask for, their state changes, and what became of each event of a batch."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from serviceops.domain.event.record import Response, Significance


class AlertState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ActionKind(StrEnum):
    """What an alert asks of the rest of serviceops, done after the batch commits."""

    RAISE_INCIDENT = "raise_incident"
    UPDATE_INCIDENT = "update_incident"
    RESOLVE_INCIDENT = "resolve_incident"
    REOPEN_INCIDENT = "reopen_incident"
    PAGE_INCIDENT = "page_incident"  # the alert climbed to page after its incident was raised
    ADD_SYMPTOM = "add_symptom"  # a dependent's alert joined this one: noted on its incident
    RUN_RUNBOOK = "run_runbook"


class NoticeKind(StrEnum):
    """Slack messages an alert sends, within its policy's notify limit."""

    OPENED = "opened"
    ESCALATED = "escalated"
    REOPENED = "reopened"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """A correlated group of events (ALR-000001); `number` is None until the store saves it."""

    number: str | None = None
    key: str = Field(description="Correlation key: the CI, else the service.")
    service: str | None
    ci: str | None
    title: str
    state: AlertState = AlertState.OPEN
    significance: Significance
    response: Response
    firing: list[str] = Field(default_factory=list, description="Fingerprints still firing.")
    fingerprints: list[str] = Field(default_factory=list, description="Every fingerprint seen.")
    event_count: int = 0
    duplicate_count: int = 0
    notified: int = 0
    incident_number: str | None = None
    first_event_at: datetime
    last_event_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    runbook: str | None = Field(None, description="The runbook its remediate response chose.")
    suppressed_by: str | None = Field(
        None,
        description="What holds its response back: the alert (ALR-) it is a symptom of, "
        "or the silence (SIL-) it is under.",
    )
    symptoms: int = Field(0, description="Alerts of dependent items that joined it.")

    @property
    def held(self) -> bool:
        return self.suppressed_by is not None


class Action(BaseModel):
    """One thing to do for an alert, which is named by its place in Decisions.alerts until
    the store has numbered new alerts."""

    kind: ActionKind
    alert_key: int = Field(description="Index into Decisions.alerts.")
    note: str = ""
    runbook: str | None = None
    count: int = Field(1, description="Events this action stands for.")


class Notice(BaseModel):
    kind: NoticeKind
    alert_key: int
    ordinal: int = Field(description="The alert's n-th message: its outbox key.")
    summary: str


class AlertChange(BaseModel):
    """A state change of an alert, for the audit trail."""

    alert_key: int
    from_state: AlertState | None
    to_state: AlertState
    at: datetime
    reason: str


class Verdict(BaseModel):
    """What became of one event."""

    fingerprint: str
    significance: Significance
    response: Response
    dropped: bool = False
    duplicate: bool = False
    alert_key: int | None = None


class Decisions(BaseModel):
    """The outcome of a batch: a verdict per event (in order), every alert that changed, the
    actions and the notices to queue."""

    verdicts: list[Verdict] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    changes: list[AlertChange] = Field(default_factory=list)
    symptom_of: dict[int, int] = Field(
        default_factory=dict,
        description="A symptom's place in `alerts` -> its parent's: the store names the parent "
        "once both are numbered (a parent may be new in the batch).",
    )
