"""Writing the ticket that tells a flow run how the gateway knew its actor, before the run is
started or resumed (serviceops.store.tickets says why a parameter cannot)."""

from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.provenance import Provenance
from serviceops.store.tickets import TicketRepository


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
