"""Major incident procedure: its own channel and team, management told, status on a cadence."""

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.incident_policy import load_policy
from blocks.slack import load_slack
from serviceops.domain.incident import (
    Incident,
)
from serviceops.domain.machine import AuditEntry
from serviceops.store.incident import IncidentRepository
from tasks import messages
from tasks.context import audit, now, sessions


@task(cache_policy=NO_CACHE)
def open_major_incident(number: str) -> Incident:
    """Queue the channel, the invitations and management's notice; remember the channel."""
    slack = load_slack()
    at = now()
    with sessions().begin() as session:
        repository = IncidentRepository(session)
        incident = repository.get(number, for_update=True)
        channel = messages.queue_major_opened(session, slack, incident, at)
        incident = repository.save(
            incident.model_copy(
                update={"major_channel": channel, "last_status_update_at": at, "updated_at": at}
            )
        )
        audit(
            session,
            AuditEntry(
                record=number,
                action="major_incident",
                actor="serviceops",
                at=at,
                from_state=incident.state,
                to_state=incident.state,
                reason=f"major incident procedure: #{channel}, management told",
            ),
        )
    return incident


@task(cache_policy=NO_CACHE)
def post_major_status_updates() -> list[str]:
    """A status update in each open major incident's channel whose cadence has come round."""
    cadence = load_policy().major_update_cadence
    at = now()
    updated = []
    with sessions().begin() as session:
        repository = IncidentRepository(session)
        for incident in repository.open_major_needing_update(at, cadence):
            messages.queue_major_status(session, incident, at)
            repository.save(incident.model_copy(update={"last_status_update_at": at}))
            updated.append(incident.number)
    return updated
