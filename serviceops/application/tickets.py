"""Writing the ticket that tells a flow run how the gateway knew its actor, before the run is
started or resumed (serviceops.store.tickets says why a parameter cannot)."""

from datetime import UTC, datetime
from uuid import UUID

import anyio
import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from serviceops import deployment_names as names
from serviceops.application.prefect_api import prefect_client
from serviceops.domain.provenance import Provenance
from serviceops.store.tickets import TicketRepository, ticket_tag


async def issue(
    sessions: sessionmaker[Session], known: Provenance, actor: str, record: str, purpose: str
) -> str:
    """The id of a new ticket: `actor`, known thus, acts on `record` for `purpose`."""

    def write() -> str:
        with sessions.begin() as session:
            return TicketRepository(session).issue(known, actor, record, purpose, datetime.now(UTC))

    return await anyio.to_thread.run_sync(write)


async def withdraw(sessions: sessionmaker[Session], ticket_id: str) -> None:
    """The call the ticket was for did not happen: no later run may claim it."""

    def delete() -> None:
        with sessions.begin() as session:
            TicketRepository(session).withdraw(ticket_id)

    await anyio.to_thread.run_sync(delete)


async def start_on_ticket(
    sessions: sessionmaker[Session],
    flow_name: str,
    parameters: dict[str, object],
    vouched: tuple[Provenance, str, str],
    *,
    api_url: str | None,
    timeout_s: float,
) -> UUID:
    """A run of `flow_name`'s deployment on a new ticket: `vouched` is how the actor was
    known, the actor and the record. TimeoutError when Prefect is slower than `timeout_s`."""
    known, actor, record = vouched
    ticket = await issue(sessions, known, actor, record, flow_name)
    with anyio.fail_after(timeout_s):
        async with prefect_client(api_url) as client:
            deployment = await client.read_deployment_by_name(names.deployment(flow_name))
            run = await client.create_flow_run_from_deployment(
                deployment.id, parameters=parameters, tags=[ticket_tag(ticket)]
            )
    return run.id
