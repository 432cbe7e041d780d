"""What every task needs from its surroundings: the clock, the database, the flow run id, and
how the run's actor was known."""

from datetime import UTC, datetime

from prefect.runtime import flow_run
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.machine import AuditEntry
from serviceops.domain.provenance import FORM, SERVICE_ACTORS, SYSTEM, Provenance
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.db import sessions_for
from serviceops.store.tickets import TicketRepository, ticket_of


def now() -> datetime:
    return datetime.now(UTC)


def sessions() -> sessionmaker[Session]:
    return sessions_for(get_settings().resolved_database_url)


def current_flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


def run_provenance(session: Session, actor: str) -> Provenance:
    """How `actor` was known to this run: serviceops's own actors are the system; a run the
    gateway or the CLI started on a ticket for `actor` has the ticket's channel; any other
    name came from a form (the UI, or anyone with the API), which vouches for nothing."""
    if actor in SERVICE_ACTORS:
        return SYSTEM
    ticket, run_id = ticket_of(flow_run.get_tags()), current_flow_run_id()
    if ticket is None or run_id is None:
        return FORM
    return TicketRepository(session).claim(ticket, actor, run_id) or FORM


def audit(session: Session, entry: AuditEntry) -> None:
    """Write the audit row, stamped with the flow run that made the change and, unless the
    step said already, with how its actor was known to this run."""
    if entry.via is None:
        entry = entry.known_through(run_provenance(session, entry.actor))
    AuditRepository(session).add(entry.model_copy(update={"flow_run_id": current_flow_run_id()}))
