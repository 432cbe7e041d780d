"""One deployment per transition, each with its own form; all share one shape."""

from prefect import flow

from flows.incident.artifacts import publish_summary
from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    IncidentCommand,
    PendIncident,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
    StartIncidentWork,
)
from tasks.incident import change_incident
from tasks.notifications import deliver_notifications


def _transition(command: IncidentCommand) -> str:
    """Change (or fail with the reason and change nothing), tell Slack, update the summary.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    incident = change_incident(command)
    deliver_notifications()
    publish_summary(incident.number)
    return incident.state.value


@flow(name=AcknowledgeIncident.flow_name)
def acknowledge_incident(command: AcknowledgeIncident) -> str:
    """The support group owns the incident; the response clock stops.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=StartIncidentWork.flow_name)
def start_incident_work(command: StartIncidentWork) -> str:
    """Investigation and diagnosis begin.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=PendIncident.flow_name)
def pend_incident(command: PendIncident) -> str:
    """Waiting on someone outside the group; the SLA clocks pause.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=ResumeIncident.flow_name)
def resume_incident(command: ResumeIncident) -> str:
    """Back from pending; the SLA clocks run on with the time that was left.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=EscalateIncident.flow_name)
def escalate_incident(command: EscalateIncident) -> str:
    """Functional: to another support group. Hierarchic: management is told.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=ResolveIncident.flow_name)
def resolve_incident(command: ResolveIncident) -> str:
    """Service restored, with a resolution code and notes.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=CloseIncident.flow_name)
def close_incident(command: CloseIncident) -> str:
    """The user confirmed the resolution.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


@flow(name=ReopenIncident.flow_name)
def reopen_incident(command: ReopenIncident) -> str:
    """The fix did not hold: back to work, within the reopen window.

    Args:
        command: The incident, who acts, and what this step needs.
    """
    return _transition(command)


TRANSITION_FLOWS = (
    acknowledge_incident,
    start_incident_work,
    pend_incident,
    resume_incident,
    escalate_incident,
    resolve_incident,
    close_incident,
    reopen_incident,
)
