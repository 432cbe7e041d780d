"""Tickets: how the gateway and the CLI tell a flow run how they knew its actor.

A flow run's parameters can be typed by anyone in the Prefect UI, so they cannot carry the
proof. Before the gateway (a Slack press) or the CLI starts a run, or resumes one with an
approval, it writes a ticket here: who acts, on which record, for what, and how they were
known. The run tags itself with the ticket's id (random, so it cannot be guessed) or, for an
approval, finds the ticket by record, approval and approver; the first run to claim a ticket
keeps it, so a copied tag or a replayed decision proves nothing.
"""

from datetime import datetime
from uuid import uuid4

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from serviceops.domain.provenance import Channel, Provenance
from serviceops.store.base import Base


class TicketRecord(Base):
    __tablename__ = "actor_tickets"
    __table_args__ = (Index("ix_actor_tickets_record_purpose", "record", "purpose"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    via: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    record: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(60))
    issued_at: Mapped[datetime]
    flow_run_id: Mapped[str | None] = mapped_column(String(36))


class TicketRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def issue(self, known: Provenance, actor: str, record: str, purpose: str, at: datetime) -> str:
        """The new ticket's id: `actor` acts on `record` for `purpose`, `known` thus."""
        ticket = TicketRecord(
            id=uuid4().hex,
            via=known.via,
            ref=known.ref,
            actor=actor,
            record=record,
            purpose=purpose,
            issued_at=at,
        )
        self.session.add(ticket)
        return ticket.id

    def withdraw(self, ticket_id: str) -> None:
        """The call it was written for did not happen (refused, the run not paused)."""
        ticket = self.session.get(TicketRecord, ticket_id)
        if ticket is not None:
            self.session.delete(ticket)

    def claim(self, ticket_id: str, actor: str, flow_run_id: str) -> Provenance | None:
        """How `actor` was known, if ticket `ticket_id` is theirs and no other run claimed it."""
        ticket = self.session.get(TicketRecord, ticket_id, with_for_update=True)
        return self._claimed(ticket, actor, flow_run_id)

    def claim_for(
        self, record: str, purpose: str, actor: str, flow_run_id: str
    ) -> Provenance | None:
        """How `actor` was known for `purpose` on `record`: the newest ticket no other run
        has claimed (an approval's resume carries no tag to name it)."""
        ticket = self.session.scalars(
            select(TicketRecord)
            .where(
                TicketRecord.record == record,
                TicketRecord.purpose == purpose,
                TicketRecord.actor == actor,
                (TicketRecord.flow_run_id.is_(None)) | (TicketRecord.flow_run_id == flow_run_id),
            )
            .order_by(TicketRecord.issued_at.desc())
            .limit(1)
            .with_for_update()
        ).first()
        return self._claimed(ticket, actor, flow_run_id)

    @staticmethod
    def _claimed(ticket: TicketRecord | None, actor: str, flow_run_id: str) -> Provenance | None:
        if ticket is None or ticket.actor != actor:
            return None
        if ticket.flow_run_id not in (None, flow_run_id):
            return None
        ticket.flow_run_id = flow_run_id
        return Provenance(via=Channel(ticket.via), ref=ticket.ref)


TAG_PREFIX = "ticket:"


def ticket_tag(ticket_id: str) -> str:
    """The tag a run started on a ticket carries."""
    return f"{TAG_PREFIX}{ticket_id}"


def ticket_of(tags: list[str]) -> str | None:
    """The ticket id among a run's tags, if it was started on one."""
    return next((tag.removeprefix(TAG_PREFIX) for tag in tags if tag.startswith(TAG_PREFIX)), None)


def decision_purpose(kind: str, round_: int) -> str:
    """What a ticket for an approval decision is for: that approval, in that round."""
    return f"approval:{kind}:{round_}"
