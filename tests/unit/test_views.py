"""IncidentView is a public contract: its keys and its SLA words must not drift."""

from datetime import UTC, datetime, timedelta

import pytest

from serviceops.domain.incident import (
    BusinessCalendar,
    Incident,
    IncidentState,
    KnownErrorMatch,
    ResolutionCode,
    SlaClock,
    SlaKind,
    Source,
    pause_clock,
    start_clock,
    stop_clock,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.domain.views import AuditView, IncidentView, SlaLevel, sla_level

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ALWAYS = BusinessCalendar(always_open=True)

PUBLIC_KEYS = {
    "number",
    "title",
    "description",
    "state",
    "priority",
    "priority_label",
    "impact",
    "urgency",
    "service",
    "ci",
    "category",
    "support_group",
    "assignee",
    "reporter",
    "source",
    "major",
    "known_error",
    "resolution_code",
    "resolution_notes",
    "created_at",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "resolution_due_at",
    "response_sla",
    "resolution_sla",
    "reopen_count",
}


def _incident(**changes: object) -> Incident:
    base = Incident(
        number="INC-000042",
        title="VPN drops",
        description="every hour",
        service="vpn",
        category="network/vpn",
        impact=Impact.HIGH,
        urgency=Urgency.MEDIUM,
        reporter="bob",
        source=Source.CLI,
        state=IncidentState.NEW,
        created_at=T0,
        updated_at=T0,
    )
    return base.model_copy(update=changes)


def _clock(hours: float = 4) -> SlaClock:
    return start_clock(SlaKind.RESOLUTION, ALWAYS, T0, timedelta(hours=hours))


def test_untriaged_incident_has_nulls_not_errors() -> None:
    view = IncidentView.of(_incident(), T0)
    assert view.priority is None and view.priority_label is None
    assert view.response_sla is None and view.resolution_due_at is None
    assert view.known_error is None


def test_json_document_has_exactly_the_public_keys() -> None:
    view = IncidentView.of(_incident(priority=Priority.HIGH, resolution_sla=_clock()), T0)
    document = view.model_dump(mode="json")
    assert set(document) == PUBLIC_KEYS
    assert document["priority"] == 2
    assert document["priority_label"] == "P2 High"
    assert document["state"] == "new"
    assert document["source"] == "cli"
    assert document["resolution_due_at"] == "2025-03-03T13:00:00Z"
    assert document["resolution_sla"] == "ok"


def test_known_error_and_resolution_are_flattened_to_plain_values() -> None:
    incident = _incident(
        state=IncidentState.RESOLVED,
        known_error=KnownErrorMatch(number="KE-000001", title="Double prompt", workaround="Tick"),
        resolution_code=ResolutionCode.WORKAROUND,
        resolution_notes="told the user",
        reopen_count=1,
    )
    document = IncidentView.of(incident, T0).model_dump(mode="json")
    assert document["known_error"] == {
        "number": "KE-000001",
        "title": "Double prompt",
        "workaround": "Tick",
    }
    assert document["resolution_code"] == "workaround"
    assert document["reopen_count"] == 1


@pytest.mark.parametrize(
    ("elapsed", "level"),
    [
        (timedelta(hours=1), SlaLevel.OK),
        (timedelta(hours=3, minutes=30), SlaLevel.WARNING),
        (timedelta(hours=4), SlaLevel.BREACHED),
        (timedelta(days=3), SlaLevel.BREACHED),
    ],
)
def test_running_clock_level_follows_now(elapsed: timedelta, level: SlaLevel) -> None:
    assert sla_level(_clock(), T0 + elapsed) is level


def test_paused_clock_reads_paused_and_has_no_due_time() -> None:
    paused = pause_clock(_clock(), ALWAYS, T0 + timedelta(hours=1))
    view = IncidentView.of(_incident(resolution_sla=paused), T0 + timedelta(days=9))
    assert view.resolution_sla == "paused"
    assert view.resolution_due_at is None


def test_clock_paused_after_its_due_time_reads_breached() -> None:
    paused = pause_clock(_clock(), ALWAYS, T0 + timedelta(hours=5))
    assert sla_level(paused, T0 + timedelta(hours=6)) is SlaLevel.BREACHED


@pytest.mark.parametrize(
    ("stopped_after", "level"),
    [(timedelta(hours=2), SlaLevel.MET), (timedelta(hours=5), SlaLevel.BREACHED)],
)
def test_stopped_clock_is_judged_at_its_stop(stopped_after: timedelta, level: SlaLevel) -> None:
    stopped = stop_clock(_clock(), T0 + stopped_after)
    assert sla_level(stopped, T0 + timedelta(days=30)) is level


def test_clock_stopped_while_paused_within_target_reads_met() -> None:
    paused = pause_clock(_clock(), ALWAYS, T0 + timedelta(hours=1))
    stopped = stop_clock(paused, T0 + timedelta(days=2))
    assert sla_level(stopped, T0 + timedelta(days=3)) is SlaLevel.MET


def test_audit_view_copies_the_entry() -> None:
    entry = AuditEntry(
        record="INC-000042",
        action="resolve",
        actor="alice",
        at=T0,
        from_state="in_progress",
        to_state="resolved",
        reason="rebooted",
        flow_run_id="abc",
    )
    assert AuditView.of(entry).model_dump() == entry.model_dump()
