"""The major incident procedure: a faster path with its own channel, team and status cadence."""

from prefect import flow

from serviceops import deployment_names as names
from tasks.major import open_major_incident


@flow(name=names.MAJOR_INCIDENT)
def major_incident_procedure(number: str) -> str:
    """Open the channel, invite the team, tell management; returns the channel name."""
    incident = open_major_incident(number)
    return incident.major_channel or ""
