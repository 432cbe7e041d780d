"""What an alert's actions do to the incident it raised: the incident procedure's own steps
(resolve, reopen) applied for monitoring, or a note when the state does not allow them.

An incident that people have moved on (resolved by hand, closed) is never forced: a resolve
on a resolved incident is a no-op, and a firing after closure asks for a new incident.

An outage's symptoms (alerts of dependent items held back by inhibition) are listed on its
incident one note each, and count in its impact: WIDE_OUTAGE of them make it high, as that
many dependents do in the CMDB's blast radius.
"""

from datetime import datetime

from serviceops.domain.cmdb import WIDE_OUTAGE
from serviceops.domain.event.alerts import ActionKind, Alert
from serviceops.domain.event.record import Response, Significance
from serviceops.domain.incident import (
    OPEN_STATES,
    Change,
    Incident,
    IncidentDraft,
    IncidentPolicy,
    IncidentState,
    ReopenWindowClosed,
    ResolutionCode,
    Source,
)
from serviceops.domain.incident import steps as incident_steps
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.provenance import EVENT_ACTOR


class NeedsNewIncident(Exception):
    """The alert's incident cannot take this firing (closed, or past its reopen window)."""


def draft_for(alert: Alert, note: str, impact: Impact | None, category: str) -> IncidentDraft:
    """The incident monitoring raises for an alert: impact from the CMDB's blast radius when
    the CI is known, and from the symptoms that joined the alert; urgency from significance."""
    urgency = Urgency.HIGH if alert.significance is Significance.EXCEPTION else Urgency.MEDIUM
    if alert.symptoms >= WIDE_OUTAGE:
        impact = Impact.HIGH
    symptoms = f", {alert.symptoms} symptom(s) of dependent items" if alert.symptoms else ""
    return IncidentDraft(
        title=_title(alert.title),
        description=(
            f"Raised by {alert.number} on {alert.key}: {alert.event_count} event(s)"
            f"{symptoms}.\n{note}"
        ),
        service=alert.service or alert.ci or alert.key,
        ci=alert.ci,
        category=category,
        impact=impact or Impact.MEDIUM,
        urgency=urgency,
        reporter=EVENT_ACTOR,
        source=Source.MONITORING,
        page=alert.response is Response.PAGE,
    )


def follow_up(
    kind: ActionKind,
    incident: Incident,
    policy: IncidentPolicy,
    note: str,
    at: datetime,
    *,
    symptoms: int = 0,
) -> Change:
    """The change `kind` makes to the incident; raises NeedsNewIncident for a reopen the
    incident cannot take. `symptoms`: how many the alert has now (for ADD_SYMPTOM)."""
    if kind is ActionKind.ADD_SYMPTOM and incident.is_open:
        return _symptom(incident, policy, note, symptoms, at)
    if (
        kind is ActionKind.RESOLVE_INCIDENT
        and incident.is_open
        and incident.state is not IncidentState.NEW
    ):
        return incident_steps.resolve(
            incident, EVENT_ACTOR, at, ResolutionCode.FIXED, f"Cleared at the source: {note}"
        )
    if kind is ActionKind.REOPEN_INCIDENT and incident.state is IncidentState.CLOSED:
        raise NeedsNewIncident(f"{incident.number} is closed")
    if kind is ActionKind.REOPEN_INCIDENT and incident.state is IncidentState.RESOLVED:
        try:
            return incident_steps.reopen(incident, policy, EVENT_ACTOR, at, f"Firing again: {note}")
        except ReopenWindowClosed as exc:
            raise NeedsNewIncident(str(exc)) from None
    return _noted(incident, kind, note, at)


def _symptom(
    incident: Incident, policy: IncidentPolicy, note: str, symptoms: int, at: datetime
) -> Change:
    """A symptom on the incident's trail (the note says how many there were then); once the
    alert has WIDE_OUTAGE of them, the outage is wide: impact (and priority) high."""
    if symptoms < WIDE_OUTAGE or incident.impact is Impact.HIGH:
        return incident_steps.note(incident, EVENT_ACTOR, at, note)
    change = incident_steps.prioritize(
        incident.model_copy(update={"impact": Impact.HIGH}), policy, at
    )
    reason = f"{note}: {change.audit.reason}"
    return change.model_copy(update={"audit": change.audit.model_copy(update={"reason": reason})})


def _noted(incident: Incident, kind: ActionKind, note: str, at: datetime) -> Change:
    """No state change: the event is written on the incident's trail."""
    if incident.state not in OPEN_STATES or kind is not ActionKind.UPDATE_INCIDENT:
        note = f"{kind.value} not applied to a {incident.state.value} incident: {note}"
    return incident_steps.note(incident, EVENT_ACTOR, at, note)


def _title(text: str) -> str:
    title = " ".join(text.split())[:200]
    return title if len(title) >= 3 else f"Alert: {title}"
