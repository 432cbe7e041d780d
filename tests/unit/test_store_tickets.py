"""Tickets and the audit trail's provenance on SQLite and PostgreSQL: a ticket vouches for its
own actor, is kept by the first run that claims it, and the newest unclaimed one answers an
approval; the audit rows keep how their actor was known."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.machine import AuditEntry
from serviceops.domain.provenance import Channel, Provenance
from serviceops.store.audit import AuditRepository
from serviceops.store.tickets import TicketRepository, decision_purpose, ticket_of, ticket_tag

Sessions = sessionmaker[Session]

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SLACK = Provenance(via=Channel.SLACK, ref="U0BOB")
CLI = Provenance(via=Channel.CLI, ref="ops")
RUN, OTHER_RUN = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def issue(sessions: Sessions, known: Provenance, actor: str, *, minutes: int = 0) -> str:
    purpose = decision_purpose("manager", 1)
    with sessions.begin() as session:
        at = T0 + timedelta(minutes=minutes)
        return TicketRepository(session).issue(known, actor, "REQ-000001", purpose, at)


def claim(sessions: Sessions, ticket: str, actor: str, run: str = RUN) -> Provenance | None:
    with sessions.begin() as session:
        return TicketRepository(session).claim(ticket, actor, run)


def claim_for(sessions: Sessions, actor: str, run: str = RUN) -> Provenance | None:
    with sessions.begin() as session:
        tickets = TicketRepository(session)
        return tickets.claim_for("REQ-000001", decision_purpose("manager", 1), actor, run)


def test_a_ticket_vouches_for_its_actor_in_the_run_that_claims_it(sessions: Sessions) -> None:
    ticket = issue(sessions, SLACK, "bob")
    assert claim(sessions, ticket, "mallory") is None  # someone else's name: nothing
    assert claim(sessions, ticket, "bob") == SLACK
    assert claim(sessions, ticket, "bob") == SLACK  # the same run again (its next row)
    assert claim(sessions, ticket, "bob", OTHER_RUN) is None  # a copied tag: nothing
    assert claim(sessions, "0" * 32, "bob") is None


def test_an_approval_finds_the_newest_unclaimed_ticket_of_its_approver(sessions: Sessions) -> None:
    issue(sessions, SLACK, "bob")
    issue(sessions, CLI, "bob", minutes=1)
    assert claim_for(sessions, "carol") is None
    assert claim_for(sessions, "bob") == CLI
    assert claim_for(sessions, "bob", OTHER_RUN) == SLACK  # the older one, still unclaimed
    assert claim_for(sessions, "bob", "33333333-3333-3333-3333-333333333333") is None


def test_a_withdrawn_ticket_vouches_for_nobody(sessions: Sessions) -> None:
    ticket = issue(sessions, SLACK, "bob")
    with sessions.begin() as session:
        TicketRepository(session).withdraw(ticket)
    assert claim(sessions, ticket, "bob") is None
    assert claim_for(sessions, "bob") is None


def test_the_tag_names_the_ticket() -> None:
    assert ticket_of(["incident", ticket_tag("abc123")]) == "abc123"
    assert ticket_of(["incident", "ticketing"]) is None


def test_audit_rows_keep_how_their_actor_was_known(sessions: Sessions) -> None:
    row = AuditEntry(
        record="INC-000001", action="resolve", actor="bob", at=T0, from_state="new", to_state="x"
    )
    with sessions.begin() as session:
        audit = AuditRepository(session)
        audit.add(row.known_through(SLACK))
        audit.add_many([row.known_through(CLI), row])
    with sessions.begin() as session:
        trail = AuditRepository(session).for_record("INC-000001")
    assert [(e.via, e.actor_ref, e.known_as) for e in trail] == [
        (Channel.SLACK, "U0BOB", "slack U0BOB"),
        (Channel.CLI, "ops", "cli ops"),
        (None, "", "-"),  # a row older than provenance, or nobody said
    ]
