"""The incident procedure through real flow runs: record, audit trail and Slack messages."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy.orm import Session, sessionmaker

from flows.incident.log_incident import log_incident
from flows.incident.transitions import (
    acknowledge_incident,
    close_incident,
    escalate_incident,
    pend_incident,
    reopen_incident,
    resolve_incident,
    resume_incident,
    start_incident_work,
)
from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    EscalationKind,
    Incident,
    IncidentDraft,
    IncidentState,
    PendIncident,
    ReopenIncident,
    ResolutionCode,
    ResolveIncident,
    ResumeIncident,
    StartIncidentWork,
)
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository


def draft(**overrides: object) -> IncidentDraft:
    values: dict[str, object] = {
        "title": "Outbound mail delayed",
        "description": "Mail queued since 09:00, users cannot send",
        "service": "email",
        "category": " Software/Email ",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "reporter": "alice@example.com",
    }
    return IncidentDraft.model_validate(values | overrides)


def load(sessions: sessionmaker[Session], number: str) -> Incident:
    with sessions.begin() as session:
        return IncidentRepository(session).get(number)


def trail(sessions: sessionmaker[Session], number: str) -> list:
    with sessions.begin() as session:
        return AuditRepository(session).for_record(number)


def test_whole_lifecycle_writes_record_audit_and_slack(serviceops_env, sessions, fake_slack):
    number = log_incident(draft())
    assert re.fullmatch(r"INC-\d{6}", number)

    logged = load(sessions, number)
    assert logged.state == IncidentState.ASSIGNED
    assert logged.category == "software/email"
    assert logged.priority == Priority.MEDIUM
    assert logged.support_group == "service-desk"
    assert logged.response_sla is not None and logged.response_sla.due_at is not None
    assert logged.resolution_sla is not None and logged.resolution_sla.due_at is not None

    actor = "bob"
    acknowledge_incident(AcknowledgeIncident(number=number, actor=actor))
    start_incident_work(StartIncidentWork(number=number, actor=actor))
    pend_incident(PendIncident(number=number, actor=actor, reason="waiting on the mail vendor"))
    paused = load(sessions, number)
    assert paused.state == IncidentState.PENDING
    assert paused.resolution_sla is not None and paused.resolution_sla.paused_at is not None
    assert paused.resolution_sla.due_at is None
    resume_incident(ResumeIncident(number=number, actor=actor))
    resolve_incident(
        ResolveIncident(
            number=number, actor=actor, code=ResolutionCode.FIXED, notes="queue flushed"
        )
    )
    close_incident(CloseIncident(number=number, actor="alice@example.com", note="confirmed"))

    closed = load(sessions, number)
    assert closed.state == IncidentState.CLOSED
    assert closed.assignee == actor
    assert closed.acknowledged_at is not None and closed.closed_at is not None
    assert closed.resolution_code == ResolutionCode.FIXED
    assert closed.response_sla is not None and closed.response_sla.stopped_at is not None
    assert closed.resolution_sla is not None and closed.resolution_sla.stopped_at is not None

    entries = trail(sessions, number)
    assert [e.action for e in entries] == [
        "log", "categorize", "prioritize", "diagnose", "assign", "set_sla",
        "acknowledge", "start_work", "pend", "resume", "resolve", "close",
    ]  # fmt: skip
    moves = [(e.from_state, e.to_state) for e in entries[6:]]
    assert moves == [
        ("assigned", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "pending"),
        ("pending", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert entries[8].reason == "waiting on the mail vendor"
    assert all(e.actor == actor for e in entries[6:11])
    run_ids = [e.flow_run_id for e in entries]
    assert all(run_ids)
    assert len(set(run_ids[:6])) == 1, "the logging steps belong to one log-incident run"
    assert len(set(run_ids)) == 7, "each transition is its own flow run"

    posted = [m for m in fake_slack.messages if number in m["text"]]
    assert len(posted) == 7  # logged + six transitions
    logged_message, *changes = posted
    assert logged_message["channel"] == "#service-desk" and logged_message["thread_ts"] is None
    assert "Outbound mail delayed" in logged_message["text"]
    for change in changes:  # each change is a reply in the incident's thread
        assert change["channel_id"] == logged_message["channel_id"]
        assert change["thread_ts"] == logged_message["ts"]
    updates = [
        c for c in fake_slack.calls_to("chat.update") if c["params"]["ts"] == logged_message["ts"]
    ]
    assert len(updates) == 6  # the incident's own message, updated after every change
    assert "state closed" in logged_message["text"] or "closed" in json.dumps(
        logged_message["blocks"]
    )


async def _artifact_markdown(key: str) -> str:
    async with get_client() as client:
        artifact = await client.read_latest_artifacts(limit=50)
    latest = {a.key: a for a in artifact}
    return str(latest[key].data)


def test_log_incident_leaves_a_summary_artifact(serviceops_env, fake_slack):
    import asyncio

    number = log_incident(draft(title="VPN drops every hour"))
    markdown = asyncio.run(_artifact_markdown(f"incident-{number.lower()}"))
    assert number in markdown
    assert "VPN drops every hour" in markdown


def test_illegal_transition_fails_and_changes_nothing(serviceops_env, sessions, fake_slack):
    number = log_incident(draft())
    before, audit_before = load(sessions, number), trail(sessions, number)
    messages_before = len(fake_slack.messages)

    with pytest.raises(IllegalTransition, match=rf"{number}: cannot close .*assigned"):
        close_incident(CloseIncident(number=number, actor="bob"))

    assert load(sessions, number) == before
    assert trail(sessions, number) == audit_before
    assert len(fake_slack.messages) == messages_before


def test_escalations_route_and_tell_management(serviceops_env, sessions, fake_slack):
    number = log_incident(draft())
    escalate_incident(
        EscalateIncident(
            number=number,
            actor="bob",
            kind=EscalationKind.FUNCTIONAL,
            to_group="messaging",
            reason="needs mail platform team",
        )
    )
    moved = load(sessions, number)
    assert moved.support_group == "messaging"
    assert moved.assignee is None
    escalate_incident(
        EscalateIncident(
            number=number, actor="bob", kind=EscalationKind.HIERARCHIC, reason="VIP affected"
        )
    )
    assert load(sessions, number).escalation_count == 2
    to_management = [m for m in fake_slack.messages if m["channel"] == "#incident-management"]
    assert len(to_management) == 1 and number in to_management[0]["text"]


def test_reopen_within_window_puts_it_back_to_work(serviceops_env, sessions, fake_slack):
    number = log_incident(draft())
    start_incident_work(StartIncidentWork(number=number, actor="bob"))
    resolve_incident(
        ResolveIncident(number=number, actor="bob", code=ResolutionCode.WORKAROUND, notes="restart")
    )
    reopen_incident(ReopenIncident(number=number, actor="alice", reason="broke again"))
    reopened = load(sessions, number)
    assert reopened.state == IncidentState.IN_PROGRESS
    assert reopened.reopen_count == 1
    assert reopened.resolution_sla is not None and reopened.resolution_sla.running


def test_sla_clock_of_a_p1_runs_round_the_clock(serviceops_env, sessions, fake_slack):
    number = log_incident(draft(impact=Impact.HIGH, urgency=Urgency.HIGH))
    incident = load(sessions, number)
    assert incident.priority == Priority.CRITICAL
    assert incident.resolution_sla is not None and incident.resolution_sla.due_at is not None
    assert incident.resolution_sla.due_at - incident.created_at == timedelta(hours=1)
    assert incident.created_at <= datetime.now(UTC)


def test_user_text_pings_nobody_in_slack(serviceops_env, fake_slack):
    number = log_incident(draft(title="<!channel> mail down <@U123> & more"))
    (posted,) = [m for m in fake_slack.messages if number in m["text"]]
    everything = str(posted["text"]) + str(posted["blocks"])
    assert "<!channel>" not in everything and "<@U123>" not in everything
    assert "&lt;!channel&gt; mail down" in posted["text"]
