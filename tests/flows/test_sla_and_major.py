"""The every-minute housekeeping: the SLA sweep tells each threshold once, major incidents get their
channel, management's notice and status updates, and the outbox survives Slack being away."""

from datetime import UTC, datetime, timedelta

import pytest
from prefect import task
from sqlalchemy.orm import Session, sessionmaker

import flows.operations.housekeeping as housekeeping_flow
from flows.incident.log_incident import log_incident
from flows.operations.housekeeping import housekeeping
from serviceops.domain.incident import Incident, IncidentDraft
from serviceops.domain.priority import Impact, Urgency
from serviceops.notify.delivery import DeliveryReport
from serviceops.notify.outbox import Outbox
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from tasks.sla import SweepReport


def draft(impact: Impact = Impact.MEDIUM, urgency: Urgency = Urgency.MEDIUM) -> IncidentDraft:
    return IncidentDraft(
        title="Payroll export fails",
        description="The nightly export job exits 1",
        service="payroll",
        category="software",
        impact=impact,
        urgency=urgency,
        reporter="carol",
    )


def shift_response_clock(
    sessions: sessionmaker[Session], number: str, *, warn_in: timedelta, due_in: timedelta
) -> None:
    """Move the response thresholds relative to now, as if time had passed."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        repository = IncidentRepository(session)
        incident = repository.get(number)
        assert incident.response_sla is not None
        clock = incident.response_sla.model_copy(
            update={"warn_at": now + warn_in, "due_at": now + due_in}
        )
        repository.save(incident.model_copy(update={"response_sla": clock}))


def load(sessions: sessionmaker[Session], number: str) -> Incident:
    with sessions.begin() as session:
        return IncidentRepository(session).get(number)


def sla_sweep() -> SweepReport:
    """One minute's housekeeping; its SLA part's report."""
    report = housekeeping()
    assert report.sla is not None and report.failed == {}
    return report.sla


def post_major_updates() -> list[str]:
    return housekeeping().major_updates


def deliver_notifications() -> DeliveryReport:
    report = housekeeping()
    assert report.delivery is not None
    return report.delivery


def sla_messages(fake_slack, number: str) -> list[dict]:
    return [m for m in fake_slack.messages if number in m["text"] and "SLA" in m["text"]]


def test_sweep_warns_once_then_breaches_once_and_escalates(serviceops_env, sessions, fake_slack):
    number = log_incident(draft())
    quiet = sla_sweep()
    assert quiet.warnings == 0 and quiet.breaches == 0

    shift_response_clock(sessions, number, warn_in=-timedelta(minutes=1), due_in=timedelta(hours=1))
    first = sla_sweep()
    assert first.warnings == 1 and first.breaches == 0
    assert len(sla_messages(fake_slack, number)) == 1
    assert sla_sweep().warnings == 0, "the next sweep does not repeat the warning"
    assert len(sla_messages(fake_slack, number)) == 1

    shift_response_clock(
        sessions, number, warn_in=-timedelta(hours=1), due_in=-timedelta(seconds=1)
    )
    breach = sla_sweep()
    assert breach.breaches == 1 and breach.escalated == [number]
    assert sla_sweep().breaches == 0, "the next sweep does not repeat the breach"
    assert len(sla_messages(fake_slack, number)) == 2

    incident = load(sessions, number)
    assert incident.escalation_count == 1
    assert incident.response_sla is not None
    assert incident.response_sla.breach_notified_at is not None
    with sessions.begin() as session:
        escalations = [
            e for e in AuditRepository(session).for_record(number)
            if e.action == "escalate_hierarchic"
        ]  # fmt: skip
    assert len(escalations) == 1 and escalations[0].actor == "sla-sweep"
    management = [m for m in fake_slack.messages if m["channel"] == "#incident-management"]
    assert any(number in m["text"] for m in management)


def test_priority_one_takes_the_major_path(serviceops_env, sessions, fake_slack):
    number = log_incident(draft(Impact.HIGH, Urgency.HIGH))
    incident = load(sessions, number)
    assert incident.major
    channel = f"major-{number.lower()}"
    assert incident.major_channel == channel
    created = [c for c in fake_slack.calls if c["method"] == "conversations.create"]
    assert [c["params"]["name"] for c in created] == [channel]
    management = [m for m in fake_slack.messages if m["channel"] == "#incident-management"]
    assert len(management) == 1 and number in management[0]["text"]

    assert post_major_updates() == [], "no update before the cadence comes round"
    with sessions.begin() as session:
        repository = IncidentRepository(session)
        stale = repository.get(number).model_copy(
            update={"last_status_update_at": datetime.now(UTC) - timedelta(hours=1)}
        )
        repository.save(stale)
    assert post_major_updates() == [number]
    status = [m for m in fake_slack.messages if m["channel"] == f"#{channel}"]
    assert len(status) == 2  # the opening notice and one status update


def test_without_a_token_messages_wait_and_go_out_later(
    serviceops_env, sessions, fake_slack, monkeypatch
):
    monkeypatch.delenv("SERVICEOPS_SLACK_TOKEN")
    get_settings.cache_clear()
    number = log_incident(draft())
    assert fake_slack.messages == []
    with sessions.begin() as session:
        waiting = Outbox(session).list(undelivered_only=True)
    assert [n.record for n in waiting] == [number]

    monkeypatch.setenv("SERVICEOPS_SLACK_TOKEN", "xoxb-test")
    get_settings.cache_clear()
    report = deliver_notifications()
    assert report.delivered == 1 and report.remaining == 0
    assert len(fake_slack.messages) == 1 and number in fake_slack.messages[0]["text"]
    assert deliver_notifications().delivered == 0, "a delivered message is never sent again"


@task(name="sweep-sla")
def broken_sweep() -> SweepReport:
    raise RuntimeError("incident table unreadable")


def test_one_part_failing_fails_the_minute_but_the_others_do_their_work(
    serviceops_env, sessions, fake_slack, monkeypatch
):
    """The SLA sweep breaks; the outbox is still delivered, and the run says which part."""
    monkeypatch.delenv("SERVICEOPS_SLACK_TOKEN")
    get_settings.cache_clear()
    number = log_incident(draft())
    monkeypatch.setenv("SERVICEOPS_SLACK_TOKEN", "xoxb-test")
    get_settings.cache_clear()
    parts = dict(housekeeping_flow.PARTS) | {"sla": broken_sweep}
    monkeypatch.setattr(housekeeping_flow, "PARTS", tuple(parts.items()))
    state = housekeeping(return_state=True)
    assert state.is_failed()
    with pytest.raises(housekeeping_flow.HousekeepingFailed, match=r"sla: .*unreadable"):
        state.result()
    assert len(fake_slack.messages) == 1 and number in fake_slack.messages[0]["text"]


def test_slack_down_during_delivery_leaves_the_sweep_done_and_the_message_waiting(
    serviceops_env, sessions, fake_slack
):
    number = log_incident(draft())
    shift_response_clock(sessions, number, warn_in=-timedelta(minutes=1), due_in=timedelta(hours=1))
    fake_slack.fail_next("chat.postMessage", 500, times=3)  # one message, retried twice
    state = housekeeping(return_state=True)
    with sessions.begin() as session:
        told = IncidentRepository(session).get(number).response_sla
        waiting = Outbox(session).list(undelivered_only=True)
    assert told is not None and told.warning_notified_at is not None, "the sweep did its part"
    assert any(number in n.text for n in waiting), "the warning waits for Slack"
    report = state.result()
    assert report.sla is not None and report.sla.warnings == 1
    assert report.delivery is not None and report.delivery.failed == 1
    assert deliver_notifications().remaining == 0, "the next minute sends it"
    assert len(sla_messages(fake_slack, number)) == 1
