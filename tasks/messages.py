"""Which Slack messages a change produces and where they go, queued in the caller's transaction.

Keys are derived from the change itself (record, action, time), so a retried task queues
nothing twice.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from blocks.slack import SlackBlock
from serviceops.domain.incident import (
    Audience,
    BreachLevel,
    Incident,
    SlaAlert,
    audiences,
    change_template,
)
from serviceops.domain.incident.buttons import step_buttons
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Priority
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import SlackMessage, render_message
from serviceops.store.audit import AuditRepository

SLA_TEMPLATES = {BreachLevel.WARNING: "sla_warning", BreachLevel.BREACHED: "sla_breach"}
STATUS_NOTES = 3


def incident_channel(slack: SlackBlock, incident: Incident) -> str:
    return slack.channel_for(
        service=incident.service,
        category=incident.category,
        priority=incident.priority or Priority.PLANNING,
    )


def logged_key(number: str) -> str:
    """The outbox key of an incident's own message: the one updated in place after changes."""
    return f"{number}:logged"


def _incident_message(incident: Incident) -> SlackMessage:
    return render_message("incident_logged", incident=incident, buttons=step_buttons(incident))


def queue_logged(session: Session, slack: SlackBlock, incident: Incident, at: datetime) -> None:
    Outbox(session).post(
        key=logged_key(incident.number),
        channel=incident_channel(slack, incident),
        message=_incident_message(incident),
        record=incident.number,
        at=at,
    )


def queue_change(
    session: Session, slack: SlackBlock, incident: Incident, entry: AuditEntry
) -> None:
    """The incident's own message updated in place (state, owner, buttons for the next
    steps), and the change told to each audience (domain/incident/notices.py): in the
    support group's channel as a reply in the incident's thread."""
    outbox = Outbox(session)
    key = f"{incident.number}:{entry.action}:{entry.at.isoformat()}"
    outbox.update(
        key=f"{key}:update",
        of=logged_key(incident.number),
        message=_incident_message(incident),
        record=incident.number,
        at=entry.at,
    )
    message = render_message(change_template(entry), incident=incident, change=entry)
    for audience in audiences(incident, entry):
        if audience is Audience.ROUTED:
            channel, audience_key, thread = (
                incident_channel(slack, incident),
                key,
                logged_key(incident.number),
            )
        else:
            channel, audience_key, thread = slack.management_channel, f"{key}:management", None
        outbox.post(
            key=audience_key,
            channel=channel,
            message=message,
            record=incident.number,
            at=entry.at,
            thread_of=thread,
        )


def queue_sla_alert(
    session: Session, slack: SlackBlock, incident: Incident, alert: SlaAlert, at: datetime
) -> None:
    Outbox(session).post(
        key=f"{incident.number}:sla:{alert.kind}:{alert.level}",
        channel=incident_channel(slack, incident),
        message=render_message(SLA_TEMPLATES[alert.level], incident=incident, alert=alert),
        record=incident.number,
        at=at,
    )


def major_channel_name(incident: Incident) -> str:
    return f"major-{incident.number.lower()}"


def queue_major_opened(
    session: Session, slack: SlackBlock, incident: Incident, at: datetime
) -> str:
    """Open the incident's own channel, invite the team, tell management at once."""
    outbox = Outbox(session)
    channel = major_channel_name(incident)
    outbox.open_channel(
        key=f"{incident.number}:major:open-channel",
        name=channel,
        members=slack.major_incident_members,
        topic=f"{incident.number} {incident.title}",
        record=incident.number,
        at=at,
    )
    message = render_message("major_opened", incident=incident, channel=channel)
    for target, suffix in ((slack.management_channel, "management"), (f"#{channel}", "channel")):
        outbox.post(
            key=f"{incident.number}:major:notice:{suffix}",
            channel=target,
            message=message,
            record=incident.number,
            at=at,
        )
    return channel


def queue_major_status(session: Session, incident: Incident, at: datetime) -> None:
    """The latest notes are the reasons of the latest audited changes, newest first."""
    trail = AuditRepository(session).for_record(incident.number)
    notes = [f"{e.actor}: {e.reason}" for e in reversed(trail) if e.reason][:STATUS_NOTES]
    Outbox(session).post(
        key=f"{incident.number}:major:status:{at.isoformat()}",
        channel=f"#{incident.major_channel or major_channel_name(incident)}",
        message=render_message("major_status", incident=incident, now=at, notes=notes),
        record=incident.number,
        at=at,
    )
