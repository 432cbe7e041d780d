"""How each audit row's actor was known, through real flow runs: a run the gateway or the CLI
starts carries a ticket (its tag) that the run claims for its actor; a run without one was
started from a form, whatever name it was given; serviceops's own rows are the system's. The
incident policy can take resolve and close from a verified channel only."""

import getpass
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prefect import tags
from sqlalchemy.orm import Session, sessionmaker

from blocks.incident_policy import IncidentPolicyBlock
from blocks.saved import DOCUMENT
from flows.incident.log_incident import log_incident
from flows.incident.transitions import (
    acknowledge_incident,
    pend_incident,
    resolve_incident,
    start_incident_work,
)
from serviceops.domain.incident import (
    AcknowledgeIncident,
    IncidentAction,
    IncidentDraft,
    IncidentPolicy,
    IncidentState,
    PendIncident,
    ResolutionCode,
    ResolveIncident,
    StartIncidentWork,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.provenance import Channel, Provenance, UnverifiedActor
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.tickets import TicketRepository, ticket_tag

SLACK_ALEX = Provenance(via=Channel.SLACK, ref="U0ALEX")
CLI = Provenance(via=Channel.CLI, ref=getpass.getuser())


def draft(reporter: str = "alex") -> IncidentDraft:
    return IncidentDraft(
        title="Checkout returns 500",
        service="shop",
        category="software/web",
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
        reporter=reporter,
    )


def ticket(sessions: sessionmaker[Session], known: Provenance, actor: str, record: str = "") -> str:
    """What the gateway or the CLI writes before it starts the run: the run's tag."""
    with sessions.begin() as session:
        issued = TicketRepository(session).issue(known, actor, record, "test", datetime.now(UTC))
    return ticket_tag(issued)


def rows(sessions: sessionmaker[Session], number: str) -> list[AuditEntry]:
    with sessions.begin() as session:
        return AuditRepository(session).for_record(number)


def channels(sessions: sessionmaker[Session], number: str) -> list[tuple[str, str, str]]:
    return [(r.action, r.actor, r.known_as) for r in rows(sessions, number)]


@pytest.fixture
def verified_resolve() -> Iterator[None]:
    """An incident policy that takes resolve and close from a verified channel only; the
    defaults again afterwards (the test server is shared by the module's tests)."""
    policy = IncidentPolicy(verified_only={IncidentAction.RESOLVE, IncidentAction.CLOSE})
    IncidentPolicyBlock(policy=policy).save(DOCUMENT, overwrite=True)
    yield
    IncidentPolicyBlock().save(DOCUMENT, overwrite=True)


def test_each_channel_says_how_its_actor_was_known(serviceops_env, sessions, fake_slack):
    with tags(ticket(sessions, SLACK_ALEX, "alex")):
        number = log_incident(draft("alex"))
    logged = channels(sessions, number)
    assert logged[0] == ("log", "alex", "slack U0ALEX")
    assert {via for action, _, via in logged[1:]} == {"system"}  # categorize, assign ...

    with tags(ticket(sessions, CLI, "bob", number)):
        acknowledge_incident(AcknowledgeIncident(number=number, actor="bob"))
    start_incident_work(StartIncidentWork(number=number, actor="carol"))  # the UI's form

    trail = channels(sessions, number)
    assert ("acknowledge", "bob", f"cli {getpass.getuser()}") in trail
    assert ("start_work", "carol", "form") in trail


def test_a_ticket_vouches_for_its_own_actor_and_run_only(serviceops_env, sessions, fake_slack):
    number = log_incident(draft())
    alex = ticket(sessions, SLACK_ALEX, "alex", number)
    with tags(alex):  # written for alex: mallory, typed into the form, is not vouched for
        acknowledge_incident(AcknowledgeIncident(number=number, actor="mallory"))
    with tags(alex):  # alex's own run claims it
        start_incident_work(StartIncidentWork(number=number, actor="alex"))
    with tags(alex):  # a second run carrying the copied tag gets nothing from it
        pend_incident(PendIncident(number=number, actor="alex", reason="waiting on the vendor"))
    assert channels(sessions, number)[-3:] == [
        ("acknowledge", "mallory", "form"),
        ("start_work", "alex", "slack U0ALEX"),
        ("pend", "alex", "form"),
    ]


def test_a_verified_only_resolve_from_a_form_changes_nothing(
    serviceops_env, sessions, fake_slack, verified_resolve
):
    number = log_incident(draft())
    resolve = ResolveIncident(
        number=number, actor="alex", code=ResolutionCode.FIXED, notes="restarted"
    )
    before, trail_before = _incident(sessions, number), rows(sessions, number)

    with pytest.raises(UnverifiedActor, match=rf"{number}: resolve by alex was refused.*form"):
        resolve_incident(resolve)
    assert _incident(sessions, number) == before
    assert rows(sessions, number) == trail_before

    with tags(ticket(sessions, SLACK_ALEX, "alex", number)):
        assert resolve_incident(resolve) == IncidentState.RESOLVED
    assert channels(sessions, number)[-1] == ("resolve", "alex", "slack U0ALEX")


def _incident(sessions: sessionmaker[Session], number: str):
    with sessions.begin() as session:
        return IncidentRepository(session).get(number)
