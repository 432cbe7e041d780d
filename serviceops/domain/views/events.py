"""The public JSON of events and alerts: what `GET /api/v1/events`, `GET /api/v1/alerts` and
`serviceops events|alerts ... --json` return.

As with the incident views, these documents are a contract with scripts and dashboards,
kept apart from the domain models on purpose: correlation may rename or regroup its internals
without breaking anybody who reads them. Enumerations are plain strings here, so a reader needs
no knowledge of the domain's types. Pure pydantic, no I/O: callers load the records and pass
them in (StoredEvent and AlertAction are structurally typed, so the domain needs no store).
"""

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from serviceops.domain.event import (
    ActionKind,
    Alert,
    EventStatus,
    Response,
    Severity,
    Significance,
    Silence,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.views.audit import AuditView

__all__ = [
    "ALERT_EVENTS_SHOWN",
    "AlertActionView",
    "AlertDocument",
    "AlertList",
    "AlertView",
    "EventDocument",
    "EventList",
    "EventView",
    "SilenceDocument",
    "SilenceList",
    "SilenceView",
    "shown_details",
]

ALERT_EVENTS_SHOWN = 50
"""An alert document carries its latest events only: a storm's alert may hold thousands,
which `events list --alert` pages through."""

SHOWN_DEPTH = 64
"""How deep an event's details are shown: deeper than sources send (Alertmanager's are three
levels), and far from the 255 levels pydantic can serialize a document to."""

CLIPPED = f"[nested deeper than {SHOWN_DEPTH} levels: not shown]"
"""What an event's details show in place of an object or array nested past SHOWN_DEPTH."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_STRUCTURE = re.compile(r'(?P<open>[\[{])|(?P<close>[\]}])|"[^"\\]*(?:\\.[^"\\]*)*"')


def shown_details(stored: str) -> Any:
    """An event's details, from the JSON text stored, as every view shows them: lone
    surrogates (U+D800..U+DFFF: a JSON escape carries one, UTF-8 cannot) become U+FFFD, and
    objects or arrays nested deeper than SHOWN_DEPTH become CLIPPED.

    Intake refuses such details; rows stored before it did must still read. The text is
    decoded here, not by the database driver, because decoding recurses once per level and a
    document nested near Python's recursion limit would fail the whole read.
    """
    return _shown(json.loads(_shallow(stored, SHOWN_DEPTH + 1)), SHOWN_DEPTH)


def _shallow(text: str, limit: int) -> str:
    """JSON `text` with each object or array nested deeper than `limit` replaced by null."""
    if text.count("{") + text.count("[") <= limit:
        return text  # cannot nest deeper: the common case, at the speed of str.count
    kept: list[str] = []
    level = start = 0
    for token in _JSON_STRUCTURE.finditer(text):  # strings are skipped whole
        if token.lastgroup == "open":
            level += 1
            if level == limit + 1:
                kept.append(text[start : token.start()] + "null")
        elif token.lastgroup == "close":
            if level == limit + 1:
                start = token.end()
            level -= 1
    kept.append(text[start:])
    return "".join(kept)


def _shown(value: Any, depth: int) -> Any:
    """`value` with its lone surrogates replaced and its containers `depth` levels down
    clipped (see shown_details)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict | list) and depth == 0:
        return CLIPPED
    if isinstance(value, dict):
        return {_shown(key, depth): _shown(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_shown(item, depth - 1) for item in value]
    return value


class StoredEventLike(Protocol):
    """What an event view needs of a recorded event (serviceops.store.event.StoredEvent)."""

    number: str
    source: str
    service: str | None
    ci: str | None
    check: str
    severity: Severity
    summary: str
    details: dict[str, Any]
    dedup_key: str | None
    status: EventStatus
    occurred_at: datetime | None
    received_at: datetime
    processed_at: datetime | None
    significance: Significance | None
    response: Response | None
    dropped: bool
    duplicate: bool
    alert_number: str | None

    @property
    def fingerprint(self) -> str: ...


class AlertActionLike(Protocol):
    """What an action view needs of a stored action (serviceops.store.event.AlertAction)."""

    kind: ActionKind
    note: str
    runbook: str | None
    attempts: int
    done_at: datetime | None
    outcome: str | None


class EventView(BaseModel):
    """One event as received and as event management decided it (null fields while pending)."""

    number: str = Field(description="EVT-000123")
    source: str = Field(description="What sent it: a monitoring system, a check, a script")
    service: str | None
    ci: str | None = Field(description="The configuration item, when the source named one")
    check: str = Field(description="What was measured or tested")
    severity: str = Field(description="As the source says: critical, error, warning or info")
    summary: str
    details: dict[str, Any] = Field(description="Anything else the source sent, kept as sent")
    dedup_key: str | None = Field(description="The source's deduplication key, if it gave one")
    fingerprint: str = Field(description="Same condition, same fingerprint")
    status: str = Field(description="firing or resolved")
    occurred_at: datetime | None = Field(description="When the source saw it, if it said")
    received_at: datetime
    pending: bool = Field(description="Not yet correlated: the fields below are null until it is")
    processed_at: datetime | None
    significance: str | None = Field(description="informational, warning or exception")
    response: str | None = Field(description="log, notify, remediate or incident")
    dropped: bool = Field(description="Filtered out by the event policy")
    duplicate: bool = Field(description="Its condition was already firing in its alert")
    alert_number: str | None = Field(description="The alert it joined (ALR-000123), if any")

    @classmethod
    def of(cls, event: StoredEventLike) -> "EventView":
        return cls(
            number=event.number,
            source=event.source,
            service=event.service,
            ci=event.ci,
            check=event.check,
            severity=event.severity.value,
            summary=event.summary,
            details=event.details,
            dedup_key=event.dedup_key,
            fingerprint=event.fingerprint,
            status=event.status.value,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            pending=event.processed_at is None,
            processed_at=event.processed_at,
            significance=None if event.significance is None else event.significance.value,
            response=None if event.response is None else event.response.value,
            dropped=event.dropped,
            duplicate=event.duplicate,
            alert_number=event.alert_number,
        )


class EventDocument(BaseModel):
    """`{"event": {...}}`: from `GET /api/v1/events/{number}` and `events show EVT-.. --json`."""

    event: EventView


class EventList(BaseModel):
    """`{"events": [...], "count": n, "limit", "offset"}`: one page, newest first."""

    events: list[EventView]
    count: int = Field(description="How many events this page holds.")
    limit: int
    offset: int


class AlertView(BaseModel):
    """A correlated group of events on one service or CI, and what was done about it."""

    number: str = Field(description="ALR-000123")
    key: str = Field(description="What its events are grouped by: the CI, else the service")
    service: str | None
    ci: str | None
    title: str = Field(description="The summary of the event that opened it")
    state: str = Field(description="open, resolved or closed")
    significance: str = Field(
        description="The highest of its events': informational, warning or exception"
    )
    response: str = Field(description="The strongest so far: log, notify, remediate, incident")
    firing: list[str] = Field(description="Fingerprints of the conditions still firing")
    fingerprints: list[str] = Field(description="Every condition it has seen")
    event_count: int = Field(description="Events it holds, duplicates included")
    duplicate_count: int = Field(description="Events that repeated a condition still firing")
    notified: int = Field(description="Slack messages sent for it")
    incident_number: str | None = Field(description="The incident it raised (INC-000123)")
    first_event_at: datetime
    last_event_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    suppressed_by: str | None = Field(
        description="The alert (ALR-) it is a symptom of: it raises nothing while held"
    )
    symptoms: int = Field(description="Alerts of dependent items that joined it as symptoms")

    @classmethod
    def of(cls, alert: Alert) -> "AlertView":
        """The view of a saved alert: one the store has not numbered yet has no public form."""
        if alert.number is None:
            raise ValueError("an alert is shown once saved: it has no number yet")
        return cls(
            number=alert.number,
            key=alert.key,
            service=alert.service,
            ci=alert.ci,
            title=alert.title,
            state=alert.state.value,
            significance=alert.significance.value,
            response=alert.response.value,
            firing=list(alert.firing),
            fingerprints=list(alert.fingerprints),
            event_count=alert.event_count,
            duplicate_count=alert.duplicate_count,
            notified=alert.notified,
            incident_number=alert.incident_number,
            first_event_at=alert.first_event_at,
            last_event_at=alert.last_event_at,
            resolved_at=alert.resolved_at,
            closed_at=alert.closed_at,
            reopen_count=alert.reopen_count,
            suppressed_by=alert.suppressed_by,
            symptoms=alert.symptoms,
        )


class AlertList(BaseModel):
    """`{"alerts": [...], "count": n, "limit", "offset"}`: one page, newest first."""

    alerts: list[AlertView]
    count: int = Field(description="How many alerts this page holds.")
    limit: int
    offset: int


class AlertActionView(BaseModel):
    """Something the alert asked of serviceops: raise or update an incident, run a runbook."""

    kind: str = Field(
        description="raise_incident, update_incident, resolve_incident, reopen_incident or "
        "run_runbook"
    )
    note: str
    runbook: str | None
    attempts: int = Field(description="Times it was claimed to be carried out")
    done_at: datetime | None = Field(description="When it was carried out; null: not yet")
    outcome: str | None = Field(description="What it did, or the last attempt's error")

    @classmethod
    def of(cls, action: AlertActionLike) -> "AlertActionView":
        return cls(
            kind=action.kind.value,
            note=action.note,
            runbook=action.runbook,
            attempts=action.attempts,
            done_at=action.done_at,
            outcome=action.outcome,
        )


class AlertDocument(BaseModel):
    """`{"alert": {...}, "events": [...], "actions": [...], "audit": [...]}`: one alert with its
    latest events (newest first, at most ALERT_EVENTS_SHOWN; `alert.event_count` says how many
    there are), its actions and its history (oldest first).

    The same document comes from `GET /api/v1/alerts/{number}` and `events show ALR-.. --json`.
    """

    alert: AlertView
    events: list[EventView]
    actions: list[AlertActionView]
    audit: list[AuditView]

    @classmethod
    def of(
        cls,
        alert: Alert,
        events: Iterable[StoredEventLike],
        actions: Iterable[AlertActionLike],
        audit: Iterable[AuditEntry],
    ) -> "AlertDocument":
        """The document of `alert` from what the caller loaded: its latest events (newest
        first), its actions and its audit entries (oldest first)."""
        return cls(
            alert=AlertView.of(alert),
            events=[EventView.of(event) for event in events],
            actions=[AlertActionView.of(action) for action in actions],
            audit=[AuditView.of(entry) for entry in audit],
        )


class SilenceView(BaseModel):
    """A silence: what it matches, until when, why, whose, and where it stands."""

    number: str = Field(description="SIL-000123")
    ci: str | None
    service: str | None
    check: str | None
    scope: str = Field(description="What it silences, e.g. `ci db-01, check DiskFull`")
    state: str = Field(description="active, expired or lifted")
    reason: str
    owner: str = Field(description="Who answers for it: reminded in Slack before it ends")
    ends_at: datetime
    extensions: int = Field(description="How often its end was put back")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, silence: Silence) -> "SilenceView":
        return cls(
            scope=silence.scope,
            **silence.model_dump(
                include={
                    "number",
                    "ci",
                    "service",
                    "check",
                    "reason",
                    "owner",
                    "ends_at",
                    "extensions",
                    "created_at",
                    "updated_at",
                }
            ),
            state=silence.state.value,
        )


class SilenceList(BaseModel):
    """`{"silences": [...], "count": n, "limit", "offset"}`: one page, newest first."""

    silences: list[SilenceView]
    count: int = Field(description="How many silences this page holds.")
    limit: int
    offset: int


class SilenceDocument(BaseModel):
    """`{"silence": {...}, "held": [...], "audit": [...]}`: a silence, the alerts it holds back
    now, and its history (oldest first). From `GET /api/v1/silences/{number}` and
    `serviceops silence show SIL-.. --json`."""

    silence: SilenceView
    held: list[AlertView]
    audit: list[AuditView]
