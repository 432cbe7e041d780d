"""Who hears of a change to an incident, and in which words: the desk's rule, kept out of the
task that queues the messages (tasks/messages.py turns an audience into a Slack channel)."""

from enum import StrEnum

from serviceops.domain.incident.record import Incident, IncidentAction
from serviceops.domain.machine import AuditEntry


class Audience(StrEnum):
    ROUTED = "routed"  # the channel the incident's service, category and priority route to
    MANAGEMENT = "management"


def audiences(incident: Incident, change: AuditEntry) -> tuple[Audience, ...]:
    """The routed channel hears every change; management also hears a hierarchic escalation
    and the resolution of a major incident."""
    tells_management = change.action == IncidentAction.ESCALATE_HIERARCHIC or (
        incident.major and change.action == IncidentAction.RESOLVE
    )
    return (Audience.ROUTED, Audience.MANAGEMENT) if tells_management else (Audience.ROUTED,)


def change_template(change: AuditEntry) -> str:
    """An escalation reads as one; any other change as a change of state."""
    return "escalation" if change.action.startswith("escalate") else "incident_changed"
