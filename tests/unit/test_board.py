"""The service desk board: the next steps it offers follow the transition table (and are the
ones the steps accept), its queries put the breached first and count what is open (both
backends), and its markdown lists the incidents with links to their run forms filled in, the
approvals with whose they are, and says how many more there are when the backlog is longer
than the board."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    Incident,
    IncidentCommand,
    IncidentPolicy,
    IncidentState,
    PendIncident,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
    SlaKind,
    StartIncidentWork,
)
from serviceops.domain.incident.steps import STEPS, carry_out, next_steps
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.provenance import FORM
from serviceops.domain.request import (
    ApprovalKind,
    Identity,
    RequestPolicy,
    RequestSubmission,
    approvers_for,
)
from serviceops.domain.views.board import run_form_url, time_left
from serviceops.notify.render import render_text
from serviceops.store.incident import IncidentRepository
from serviceops.store.request import IdentityRepository, RequestRepository
from tasks.board import TransitionForms, build_board
from tests.unit.store_incidents_support import T0, add, clock, save

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FORMS = TransitionForms(
    ids={command.flow_name: f"id-{command.flow_name}" for command in STEPS},
    ui_url="http://127.0.0.1:4200",
)
COMMAND_FIELDS: dict[type[IncidentCommand], dict[str, Any]] = {
    AcknowledgeIncident: {},
    StartIncidentWork: {},
    PendIncident: {"reason": "waiting on the vendor"},
    ResumeIncident: {},
    EscalateIncident: {"kind": "hierarchic", "reason": "customer complaint"},
    ResolveIncident: {"code": "fixed", "notes": "restarted the relay"},
    CloseIncident: {},
    ReopenIncident: {"reason": "it broke again"},
}


def incident_in(state: IncidentState, **changes: object) -> Incident:
    values: dict[str, Any] = {
        "number": "INC-000001",
        "title": "Mail delayed",
        "description": "",
        "service": "mail",
        "category": "software/email",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.HIGH,
        "priority": Priority.HIGH,
        "reporter": "alice",
        "source": "user",
        "state": state,
        "support_group": "messaging",
        "created_at": AT - timedelta(hours=1),
        "updated_at": AT - timedelta(hours=1),
        "resolved_at": AT if state == IncidentState.RESOLVED else None,
    }
    return Incident.model_validate(values | changes)


def test_every_command_is_listed() -> None:
    assert set(COMMAND_FIELDS) == set(STEPS)


@pytest.mark.parametrize("state", list(IncidentState))
def test_the_steps_offered_are_those_the_steps_accept(state: IncidentState) -> None:
    incident = incident_in(state)
    offered = set(next_steps(incident))
    for command_type, fields in COMMAND_FIELDS.items():
        command = command_type.model_validate({"number": incident.number, "actor": "sam"} | fields)
        try:
            carry_out(command, incident, IncidentPolicy(), AT, FORM)
        except IllegalTransition:
            assert command_type not in offered, (state, command_type.__name__)
        else:
            assert command_type in offered, (state, command_type.__name__)


def test_an_acknowledged_incident_is_not_offered_acknowledge_again() -> None:
    owned = incident_in(IncidentState.ASSIGNED, acknowledged_at=AT, assignee="sam")
    assert [c.label for c in next_steps(owned)] == ["Start work", "Escalate", "Resolve"]
    assert AcknowledgeIncident in next_steps(incident_in(IncidentState.ASSIGNED))


def test_a_link_opens_the_run_form_with_the_number_filled_in() -> None:
    url = run_form_url("http://ui:4200/", "abc", {"command": {"number": "INC-000007"}})
    parts = urlsplit(url)
    assert parts.path == "/deployments/deployment/abc/run"
    assert json.loads(parse_qs(parts.query)["parameters"][0]) == {
        "command": {"number": "INC-000007"}
    }


def test_time_left_of_running_paused_and_stopped_clocks() -> None:
    running = clock(SlaKind.RESOLUTION, warn_at=T0, due_at=T0 + timedelta(hours=2))
    assert time_left(running, T0 + timedelta(hours=3)) == timedelta(hours=-1)
    paused = clock(
        SlaKind.RESOLUTION, warn_at=None, due_at=None, remaining=timedelta(minutes=5), paused_at=T0
    )
    assert time_left(paused, T0 + timedelta(days=3)) == timedelta(minutes=5)
    stopped = running.model_copy(update={"stopped_at": T0})
    assert time_left(stopped, T0) is None and time_left(None, T0) is None


def test_whose_approval_it_is() -> None:
    policy = RequestPolicy(manager_delegates={"mark": ["pa"]})
    request = _request("dana", {"type": "access_grant", "user": "dana", "system": "payroll",
                                "role": "viewer", "justification": "audit"})  # fmt: skip
    dana = Identity(user="dana", manager="mark")
    assert approvers_for(request, ApprovalKind.MANAGER, requester=dana, policy=policy) == [
        "mark",
        "pa",
    ]
    assert approvers_for(request, ApprovalKind.MANAGER, requester=None, policy=policy) == []
    owner = approvers_for(request, ApprovalKind.SYSTEM_OWNER, requester=dana, policy=policy)
    assert owner == [policy.access_for("payroll").owner]
    assert approvers_for(request, ApprovalKind.FINANCIAL, requester=dana, policy=policy) == [
        "finance-lead"
    ]


def _request(requester: str, details: dict[str, Any]) -> Any:
    from serviceops.domain.request import RequestState, ServiceRequest

    return ServiceRequest(
        number="REQ-000001",
        requester=requester,
        details=details,
        state=RequestState.AWAITING_APPROVAL,
        source="portal",
        created_at=AT,
        updated_at=AT,
        due_at=AT,
    )


def _timed(sessions: sessionmaker[Session], due_in: timedelta | None, **changes: object) -> str:
    """An open P2 incident whose resolution clock falls due `due_in` from AT (None: paused
    with an hour left)."""
    incident = add(sessions, at=AT - timedelta(hours=5), **changes)
    if due_in is None:
        resolution = clock(
            SlaKind.RESOLUTION,
            warn_at=None,
            due_at=None,
            remaining=timedelta(hours=1),
            paused_at=AT - timedelta(minutes=1),
        )
        state = IncidentState.PENDING
    else:
        resolution = clock(SlaKind.RESOLUTION, warn_at=AT + due_in, due_at=AT + due_in)
        state = IncidentState.ASSIGNED
    updated = incident.model_copy(
        update={
            "priority": Priority.HIGH,
            "state": state,
            "support_group": "messaging",
            "resolution_sla": resolution,
        }
    )
    return save(sessions, updated).number


def test_the_breached_lead_and_every_open_incident_is_counted(
    sessions: sessionmaker[Session],
) -> None:
    later = _timed(sessions, timedelta(hours=3))
    paused = _timed(sessions, None)
    breached = _timed(sessions, timedelta(minutes=-30))
    soon = _timed(sessions, timedelta(minutes=10))
    closed = add(sessions, at=AT)
    save(sessions, closed.model_copy(update={"state": IncidentState.CLOSED}))
    with sessions.begin() as session:
        repository = IncidentRepository(session)
        assert repository.open_by_priority(AT) == {Priority.HIGH: (4, 1)}
        urgent = [i.number for i in repository.most_urgent(Priority.HIGH, 10)]
        assert urgent == [breached, soon, later, paused]
        assert [i.number for i in repository.most_urgent(Priority.HIGH, 2)] == [breached, soon]


def test_the_board_lists_links_and_says_how_many_more(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.board.SHOWN_PER_PRIORITY", 2)
    breached = _timed(sessions, timedelta(minutes=-30), title="Mail | queue stuck")
    soon = _timed(sessions, timedelta(minutes=10))
    _timed(sessions, timedelta(hours=3))
    with sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="dana", manager="mark"))
        submission = RequestSubmission.model_validate(
            {"requester": "dana", "details": {"type": "vpn_access", "user": "dana"}}
        )
        requests = RequestRepository(session)
        request = requests.add(submission, source="portal", at=AT)
        requests.save(
            request.model_copy(
                update={"state": "awaiting_approval", "approvals_required": ["manager"]}
            )
        )
        board = build_board(session, RequestPolicy(), FORMS, AT)
    assert board.open_incidents == 3 and board.breached == 1
    (section,) = board.priorities
    assert [row.number for row in section.shown] == [breached, soon]
    assert section.shown[0].time_left == timedelta(minutes=-30)
    assert [link.label for link in section.shown[0].actions] == [
        "Acknowledge",
        "Start work",
        "Escalate",
        "Resolve",
    ]
    (approval,) = board.approvals
    assert approval.kind == ApprovalKind.MANAGER and approval.approvers == ["mark"]

    text = render_text("service_desk", board=board)
    assert "**3** open incidents, **1** past their resolution target" in text
    assert "Mail \\| queue stuck" in text  # user text cannot break the table
    assert "overdue 30m" in text
    ack = run_form_url(FORMS.ui_url, "id-acknowledge-incident", {"command": {"number": breached}})
    assert f"[Acknowledge]({ack})" in text
    assert "_The 2 most urgent of 3:" in text
    assert f"| **{request.number}** | VPN access | dana | manager | mark |" in text
