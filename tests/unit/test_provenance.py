"""How an actor was known, in the domain: serviceops's own rows are the system's and nobody
may act under its names; the policies that want a verified channel refuse a name typed into
a form and accept Slack, the CLI and a signed gateway request (the approvals' rule is in
test_approval_authority)."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    IncidentAction,
    IncidentDraft,
    IncidentPolicy,
    IncidentState,
    ResolutionCode,
    ResolveIncident,
    Source,
)
from serviceops.domain.incident.steps import carry_out
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.provenance import (
    FORM,
    SERVICE_ACTORS,
    SYSTEM,
    Channel,
    Provenance,
    UnverifiedActor,
)
from serviceops.domain.request import ApprovalDecision
from tests.unit.test_board import incident_in

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SLACK = Provenance(via=Channel.SLACK, ref="U0BOB")
CLI = Provenance(via=Channel.CLI, ref="ops")
TOKEN = Provenance(via=Channel.TOKEN, ref="portal")
VERIFIED = [SLACK, CLI, TOKEN, SYSTEM]


def row(actor: str) -> AuditEntry:
    return AuditEntry(record="INC-1", action="x", actor=actor, at=AT, from_state=None, to_state="y")


def test_serviceops_own_rows_are_the_systems_and_stay_so() -> None:
    for actor in SERVICE_ACTORS:
        assert row(actor).via == Channel.SYSTEM
        assert row(actor).known_through(FORM).via == Channel.SYSTEM
    assert row("bob").via is None  # the task that writes it says how bob was known
    assert row("bob").known_through(SLACK).known_as == "slack U0BOB"


@pytest.mark.parametrize("name", sorted(SERVICE_ACTORS))
def test_nobody_acts_under_serviceops_names(name: str) -> None:
    with pytest.raises(ValidationError, match="serviceops's own name"):
        AcknowledgeIncident(number="INC-000001", actor=name)
    with pytest.raises(ValidationError, match="serviceops's own name"):
        ApprovalDecision(approve=True, approver=name)
    draft = {
        "title": "Mail down",
        "service": "mail",
        "category": "software",
        "impact": Impact.LOW,
        "urgency": Urgency.LOW,
        "reporter": name,
    }
    with pytest.raises(ValidationError, match="serviceops's own name"):
        IncidentDraft.model_validate(draft)
    assert IncidentDraft.model_validate(draft | {"source": Source.MONITORING}).reporter == name


def test_a_verified_only_step_refuses_a_form_and_takes_every_verified_channel() -> None:
    policy = IncidentPolicy(verified_only={IncidentAction.RESOLVE, IncidentAction.CLOSE})
    incident = incident_in(IncidentState.IN_PROGRESS)
    resolve = ResolveIncident(
        number=incident.number, actor="bob", code=ResolutionCode.FIXED, notes="restarted"
    )
    with pytest.raises(UnverifiedActor, match=rf"{incident.number}: resolve by bob was refused"):
        carry_out(resolve, incident, policy, AT, FORM)
    for known in VERIFIED:
        change = carry_out(resolve, incident, policy, AT, known)
        assert (change.incident.state, change.audit.via) == ("resolved", known.via)
    # Steps the policy does not name are taken from a form as before, and say so.
    assigned = incident_in(IncidentState.ASSIGNED)
    ack = carry_out(
        AcknowledgeIncident(number=assigned.number, actor="bob"), assigned, policy, AT, FORM
    )
    assert ack.audit.known_as == "form"
    resolved = incident_in(IncidentState.RESOLVED)
    with pytest.raises(UnverifiedActor, match="close by bob"):
        carry_out(CloseIncident(number=resolved.number, actor="bob"), resolved, policy, AT, FORM)


def test_the_unverified_refusal_survives_prefects_pickling() -> None:
    import pickle

    refused = pickle.loads(pickle.dumps(UnverifiedActor("INC-000001", "close", "bob")))
    assert str(refused).startswith("INC-000001: close by bob was refused")
