"""The major incident procedure: a faster path with its own channel, team and status cadence."""

from prefect import flow

from tasks.major import open_major_incident, post_major_status_updates
from tasks.notifications import deliver_notifications


@flow(name="major-incident-procedure")
def major_incident_procedure(number: str) -> str:
    """Open the channel, invite the team, tell management; returns the channel name."""
    incident = open_major_incident(number)
    return incident.major_channel or ""


@flow(name="post-major-updates")
def post_major_updates() -> list[str]:
    """Scheduled: a status update for every open major incident whose cadence has come round."""
    updated = post_major_status_updates()
    deliver_notifications()
    return updated
