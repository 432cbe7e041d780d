"""One line of any record's history as the read API and --json show it."""

from datetime import datetime

from pydantic import BaseModel

from serviceops.domain.machine import AuditEntry
from serviceops.domain.provenance import Channel, known_as


class AuditView(BaseModel):
    """One line of a record's history: who did what, when, from which state, in which run,
    and how the actor was known (`via`: slack, token, cli, form or system, null on rows
    older than that; `actor_ref`: the Slack user id, the token's source or the OS user)."""

    record: str
    action: str
    actor: str
    at: datetime
    from_state: str | None
    to_state: str
    reason: str
    flow_run_id: str | None
    via: Channel | None
    actor_ref: str

    @property
    def known_as(self) -> str:
        return known_as(self.via, self.actor_ref)

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditView":
        return cls(**entry.model_dump())
