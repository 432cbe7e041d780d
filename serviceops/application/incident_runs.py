"""Starting incident flows from the gateway (a Slack button, a modal, the /incident command):
the same deployments the Prefect UI's forms and the CLI start, with the person the directory
knows as the actor (or reporter), on a ticket that tells the run how they were known. Slack
wants an answer within 3 s, so starting a run has a deadline; the run itself then tells the
channel (the incident's message is updated in place, the change is a reply in its thread)."""

from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker

from serviceops import deployment_names as names
from serviceops.application.tickets import start_on_ticket
from serviceops.domain.incident import IncidentCommand, IncidentDraft
from serviceops.domain.provenance import Provenance


async def start_step(
    sessions: sessionmaker[Session],
    command: IncidentCommand,
    known: Provenance,
    *,
    api_url: str | None,
    timeout_s: float,
) -> UUID:
    """The id of the transition's run for `command`; TimeoutError when Prefect is slow."""
    parameters = {"command": command.model_dump(mode="json")}
    vouched = (known, command.actor, command.number)
    return await start_on_ticket(
        sessions, command.flow_name, parameters, vouched, api_url=api_url, timeout_s=timeout_s
    )


async def start_log_incident(
    sessions: sessionmaker[Session],
    draft: IncidentDraft,
    known: Provenance,
    *,
    api_url: str | None,
    timeout_s: float,
) -> UUID:
    parameters = {"incident": draft.model_dump(mode="json")}
    vouched = (known, draft.reporter, "")
    return await start_on_ticket(
        sessions, names.LOG_INCIDENT, parameters, vouched, api_url=api_url, timeout_s=timeout_s
    )
