"""Starting incident flows from the gateway (a Slack button, a modal, the /incident command):
the same deployments the Prefect UI's forms and the CLI start, with the person the directory
knows as the actor (or reporter). Slack wants an answer within 3 s, so starting a run has a
deadline; the run itself then tells the channel (the incident's message is updated in place,
the change is a reply in its thread)."""

from uuid import UUID

import anyio

from serviceops import deployment_names as names
from serviceops.application.prefect_api import prefect_client
from serviceops.domain.incident import IncidentCommand, IncidentDraft


async def start_step(command: IncidentCommand, *, api_url: str | None, timeout_s: float) -> UUID:
    """The id of the transition's run for `command`; TimeoutError when Prefect is slow."""
    parameters = {"command": command.model_dump(mode="json")}
    return await _start(command.flow_name, parameters, api_url, timeout_s)


async def start_log_incident(
    draft: IncidentDraft, *, api_url: str | None, timeout_s: float
) -> UUID:
    parameters = {"incident": draft.model_dump(mode="json")}
    return await _start(names.LOG_INCIDENT, parameters, api_url, timeout_s)


async def _start(
    flow_name: str, parameters: dict[str, object], api_url: str | None, timeout_s: float
) -> UUID:
    with anyio.fail_after(timeout_s):
        async with prefect_client(api_url) as client:
            deployment = await client.read_deployment_by_name(names.deployment(flow_name))
            run = await client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    return run.id
