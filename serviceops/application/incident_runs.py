"""Starting incident flows from the gateway (a Slack button, a modal, the /incident command):
the same deployments the Prefect UI's forms and the CLI start, with the person the directory
knows as the actor (or reporter), on a ticket that tells the run how they were known. Slack
wants an answer within 3 s, so starting a run has a deadline; the run itself then tells the
channel (the incident's message is updated in place, the change is a reply in its thread)."""

from uuid import UUID

import anyio
from sqlalchemy.orm import Session, sessionmaker

from serviceops import deployment_names as names
from serviceops.application import tickets
from serviceops.application.prefect_api import prefect_client
from serviceops.domain.incident import IncidentCommand, IncidentDraft
from serviceops.domain.provenance import Provenance
from serviceops.store.tickets import ticket_tag


async def start_step(
    sessions: sessionmaker[Session],
    command: IncidentCommand,
    known: Provenance,
    *,
    api_url: str | None,
    timeout_s: float,
) -> UUID:
    """The id of the transition's run for `command`; TimeoutError when Prefect is slow."""
    ticket = await tickets.issue(sessions, known, command.actor, command.number, command.flow_name)
    parameters = {"command": command.model_dump(mode="json")}
    return await _start(command.flow_name, parameters, ticket, api_url, timeout_s)


async def start_log_incident(
    sessions: sessionmaker[Session],
    draft: IncidentDraft,
    known: Provenance,
    *,
    api_url: str | None,
    timeout_s: float,
) -> UUID:
    ticket = await tickets.issue(sessions, known, draft.reporter, "", names.LOG_INCIDENT)
    parameters = {"incident": draft.model_dump(mode="json")}
    return await _start(names.LOG_INCIDENT, parameters, ticket, api_url, timeout_s)


async def _start(
    flow_name: str,
    parameters: dict[str, object],
    ticket: str,
    api_url: str | None,
    timeout_s: float,
) -> UUID:
    with anyio.fail_after(timeout_s):
        async with prefect_client(api_url) as client:
            deployment = await client.read_deployment_by_name(names.deployment(flow_name))
            run = await client.create_flow_run_from_deployment(
                deployment.id, parameters=parameters, tags=[ticket_tag(ticket)]
            )
    return run.id
