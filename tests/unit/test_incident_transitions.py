"""The incident lifecycle: every (state, action) pair, and the reopen window."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from serviceops.domain.incident import (
    INCIDENTS,
    OPEN_STATES,
    TRANSITIONS,
    Impact,
    Incident,
    IncidentAction,
    IncidentState,
    ReopenWindowClosed,
    Source,
    Urgency,
    check_reopen_window,
)
from serviceops.domain.machine import IllegalTransition

# The lifecycle from ITIL.md, written out by hand: (state, action) -> new state.
LEGAL = {
    ("new", "assign"): "assigned",
    ("assigned", "assign"): "assigned",  # reassignment inside the group
    ("assigned", "acknowledge"): "assigned",
    ("assigned", "start_work"): "in_progress",
    ("in_progress", "pend"): "pending",
    ("pending", "resume"): "in_progress",
    ("new", "escalate_functional"): "assigned",
    ("assigned", "escalate_functional"): "assigned",
    ("in_progress", "escalate_functional"): "assigned",
    ("pending", "escalate_functional"): "assigned",
    ("new", "escalate_hierarchic"): "new",
    ("assigned", "escalate_hierarchic"): "assigned",
    ("in_progress", "escalate_hierarchic"): "in_progress",
    ("pending", "escalate_hierarchic"): "pending",
    ("assigned", "resolve"): "resolved",
    ("in_progress", "resolve"): "resolved",
    ("pending", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "in_progress",
}

ALL_PAIRS = [(s.value, a.value) for s in IncidentState for a in IncidentAction]
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_the_enums_are_the_ones_the_table_was_written_for() -> None:
    assert [s.value for s in IncidentState] == [
        "new",
        "assigned",
        "in_progress",
        "pending",
        "resolved",
        "closed",
    ]
    assert {a.value for a in IncidentAction} == {
        "assign",
        "acknowledge",
        "start_work",
        "pend",
        "resume",
        "escalate_functional",
        "escalate_hierarchic",
        "resolve",
        "close",
        "reopen",
    }
    assert len(ALL_PAIRS) == 60
    assert len(ILLEGAL) == 60 - 19


def test_transition_table_is_exactly_the_lifecycle() -> None:
    assert {(s.value, a.value): to.value for (s, a), to in TRANSITIONS.items()} == LEGAL


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL))
def test_legal_transition(state: str, action: str) -> None:
    to = INCIDENTS.next_state("INC-000001", IncidentState(state), IncidentAction(action))
    assert to is IncidentState(LEGAL[(state, action)])


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transition_raises_and_names_number_action_state(state: str, action: str) -> None:
    with pytest.raises(IllegalTransition) as caught:
        INCIDENTS.next_state("INC-000042", IncidentState(state), IncidentAction(action))
    error = caught.value
    message = str(error)
    assert "INC-000042" in message
    assert f"cannot {action} an incident that is {state}" in message
    assert error.number == "INC-000042"
    assert (error.kind, error.state, error.action) == ("incident", state, action)
    assert isinstance(error, ValueError)
    # the message lists what is allowed instead, so the caller can offer it
    allowed = sorted(a for (s, a) in LEGAL if s == state)
    assert message.endswith(", ".join(allowed) or "nothing")


def test_closing_a_new_incident_is_refused_with_a_readable_message() -> None:
    with pytest.raises(IllegalTransition) as caught:
        INCIDENTS.next_state("INC-000007", IncidentState.NEW, IncidentAction.CLOSE)
    assert str(caught.value) == (
        "INC-000007: cannot close an incident that is new; "
        "allowed from new: assign, escalate_functional, escalate_hierarchic"
    )


def test_nothing_leaves_closed() -> None:
    for action in IncidentAction:
        with pytest.raises(IllegalTransition, match="allowed from closed: nothing"):
            INCIDENTS.next_state("INC-000001", IncidentState.CLOSED, action)


def test_open_states() -> None:
    assert {s.value for s in OPEN_STATES} == {"new", "assigned", "in_progress", "pending"}


def test_full_lifecycle_walk() -> None:
    walk = [
        ("assign", "assigned"),
        ("acknowledge", "assigned"),
        ("start_work", "in_progress"),
        ("pend", "pending"),
        ("resume", "in_progress"),
        ("escalate_hierarchic", "in_progress"),
        ("escalate_functional", "assigned"),
        ("start_work", "in_progress"),
        ("resolve", "resolved"),
        ("reopen", "in_progress"),
        ("resolve", "resolved"),
        ("close", "closed"),
    ]
    state = IncidentState.NEW
    for action, expected in walk:
        state = INCIDENTS.next_state("INC-000001", state, IncidentAction(action))
        assert state == expected


# --- reopen window -------------------------------------------------------------------------

RESOLVED_AT = datetime(2025, 1, 13, 10, tzinfo=UTC)
WINDOW = timedelta(days=7)


def resolved_incident(resolved_at: datetime | None = RESOLVED_AT) -> Incident:
    return Incident(
        number="INC-000123",
        title="VPN drops every ten minutes",
        description="",
        service="vpn",
        category="network/vpn",
        impact=Impact.MEDIUM,
        urgency=Urgency.HIGH,
        reporter="alice",
        source=Source.USER,
        state=IncidentState.RESOLVED,
        created_at=RESOLVED_AT - timedelta(hours=5),
        updated_at=RESOLVED_AT,
        resolved_at=resolved_at,
    )


@pytest.mark.parametrize(
    "at",
    [
        RESOLVED_AT,
        RESOLVED_AT + timedelta(hours=1),
        RESOLVED_AT + timedelta(days=6, hours=23),
        RESOLVED_AT + WINDOW,  # the last instant of the window still counts
    ],
)
def test_reopen_inside_the_window(at: datetime) -> None:
    check_reopen_window(resolved_incident(), at, WINDOW)


@pytest.mark.parametrize(
    "at",
    [
        RESOLVED_AT + WINDOW + timedelta(microseconds=1),
        RESOLVED_AT + timedelta(days=8),
        RESOLVED_AT + timedelta(days=400),
    ],
)
def test_reopen_outside_the_window(at: datetime) -> None:
    with pytest.raises(ReopenWindowClosed) as caught:
        check_reopen_window(resolved_incident(), at, WINDOW)
    message = str(caught.value)
    assert "INC-000123" in message
    assert "log a new incident" in message


def test_reopen_window_follows_the_policy() -> None:
    incident = resolved_incident()
    at = RESOLVED_AT + timedelta(days=2)
    check_reopen_window(incident, at, timedelta(days=3))
    with pytest.raises(ReopenWindowClosed):
        check_reopen_window(incident, at, timedelta(days=1))


def test_reopen_window_compares_instants_not_wall_clocks() -> None:
    # 10:00 UTC + 7 days is 11:00 in Paris (CET); 11:30 Paris is outside
    paris = ZoneInfo("Europe/Paris")
    check_reopen_window(resolved_incident(), datetime(2025, 1, 20, 11, tzinfo=paris), WINDOW)
    with pytest.raises(ReopenWindowClosed):
        check_reopen_window(
            resolved_incident(), datetime(2025, 1, 20, 11, 30, tzinfo=paris), WINDOW
        )
