"""Who hears of a change to an incident: the routed channel always, management for a
hierarchic escalation and for the resolution of a major incident; and in which words."""

from datetime import UTC, datetime

import pytest

from serviceops.domain.incident import (
    Audience,
    Impact,
    Incident,
    IncidentState,
    Source,
    Urgency,
    audiences,
    change_template,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Priority

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
BOTH = (Audience.ROUTED, Audience.MANAGEMENT)


def incident(*, major: bool = False) -> Incident:
    return Incident(
        number="INC-000001", title="mail down", description="", service="mail",
        category="software", impact=Impact.HIGH, urgency=Urgency.HIGH, priority=Priority.HIGH,
        reporter="alice", source=Source.USER, state=IncidentState.IN_PROGRESS, created_at=T0,
        updated_at=T0, major=major,
    )  # fmt: skip


def entry(action: str) -> AuditEntry:
    return AuditEntry(
        record="INC-000001", action=action, actor="sam", at=T0, from_state="in_progress",
        to_state="in_progress",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "major", "heard_by"),
    [
        ("escalate_hierarchic", False, BOTH),
        ("escalate_functional", False, (Audience.ROUTED,)),
        ("resolve", True, BOTH),
        ("resolve", False, (Audience.ROUTED,)),
        ("pend", True, (Audience.ROUTED,)),
        ("acknowledge", False, (Audience.ROUTED,)),
    ],
)
def test_who_hears_of_a_change(action: str, major: bool, heard_by: tuple[Audience, ...]) -> None:
    assert audiences(incident(major=major), entry(action)) == heard_by


def test_an_escalation_reads_as_one() -> None:
    assert change_template(entry("escalate_functional")) == "escalation"
    assert change_template(entry("escalate_hierarchic")) == "escalation"
    assert change_template(entry("resolve")) == "incident_changed"
