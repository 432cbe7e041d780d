"""One line of any record's history as the read API and --json show it."""

from datetime import datetime

from pydantic import BaseModel

from serviceops.domain.machine import AuditEntry


class AuditView(BaseModel):
    """One line of a record's history: who did what, when, from which state, in which run."""

    record: str
    action: str
    actor: str
    at: datetime
    from_state: str | None
    to_state: str
    reason: str
    flow_run_id: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditView":
        return cls(**entry.model_dump())
