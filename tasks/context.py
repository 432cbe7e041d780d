"""What every task needs from its surroundings: the clock, the database, the flow run id."""

from datetime import UTC, datetime

from prefect.runtime import flow_run
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.machine import AuditEntry
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.db import sessions_for


def now() -> datetime:
    return datetime.now(UTC)


def sessions() -> sessionmaker[Session]:
    return sessions_for(get_settings().resolved_database_url)


def current_flow_run_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


def audit(session: Session, entry: AuditEntry) -> None:
    """Write the audit row, stamped with the flow run that made the change."""
    AuditRepository(session).add(entry.model_copy(update={"flow_run_id": current_flow_run_id()}))
