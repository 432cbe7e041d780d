"""Event management and routine checks as flows on a real Prefect server (the harness), with
real loopback targets and the loopback Slack fake: a storm is one incident and a handful of
messages, a resolution resolves it, a new firing reopens it, a runbook runs, a failing check
becomes an incident through the same pipeline, and a silent check raises the dead-man."""

import contextvars
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.automations import Automation
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.events import emit_event
from sqlalchemy.orm import Session, sessionmaker

import flows.event.process_events as process_events_flow
from blocks.event_policy import EventPolicyBlock
from deployments.automations import deadman_automations, disable_automations
from flows.event.process_events import ActionsFailed, process_events
from flows.event.record_missed_check import record_missed_check
from flows.operations.run_checks import CHECKS_REPORTED, reporter_resource, run_checks
from serviceops.domain.cmdb import Catalogue, CheckKind, CheckStatus
from serviceops.domain.event import (
    AlertState,
    MissedCheck,
)
from serviceops.domain.incident import IncidentState, Source
from serviceops.stopping import STOPPING
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository
from serviceops.store.event import AlertActionRepository, AlertRepository, EventRepository
from serviceops.store.incident import IncidentRepository
from tests.flows.event_support import (
    Target,
    alerts,
    event,
    incident,
    load_catalogue,
    missed_check_probe,
    pending_count,
    record,
    save_argv_runbook,
    save_broken_runbook,
)


def test_a_storm_is_one_incident_and_at_most_five_messages(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    storm = [event(check=f"Check{i % 20}", ci=None) for i in range(100)]
    for start in range(0, 100, 25):
        record(sessions, storm[start : start + 25])
    result = process_events()
    assert result.correlation.events == 100 and result.actions_failed == []
    (alert,) = alerts(sessions)
    assert alert.incident_number is not None
    raised = incident(sessions, alert.incident_number)
    assert (raised.source, raised.service, raised.reporter) == (
        Source.MONITORING,
        "mail",
        "event-management",
    )
    with sessions.begin() as session:
        trail = AuditRepository(session).for_record(alert.incident_number)
        incidents = IncidentRepository(session).list()
    assert len(incidents) == 1
    assert [e.action for e in trail].count("event") == 1  # 19 more conditions, one note
    assert len(fake_slack.messages) <= 5
    again = process_events()  # nothing pending, nothing claimed twice
    assert again.correlation.events == 0 and again.actions_done == []


def test_a_storm_across_twenty_dependents_of_a_failed_switch_is_one_incident(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    web = [f"web-{i}" for i in range(1, 21)]
    items = [{"name": "core-sw-1", "type": "network", "owner_group": "network", "tier": 3}]
    items += [
        {"name": n, "owner_group": "web", "tier": 3, "depends_on": ["core-sw-1"]} for n in web
    ]
    with sessions.begin() as session:
        CatalogueRepository(session).replace(
            Catalogue.model_validate({"items": items}), datetime.now(UTC), "cmdb.toml"
        )
    storm = [event(service=None, ci="core-sw-1", check="LinkDown")]
    storm += [event(service=None, ci=web[i % 20], check=f"Check{i % 3}") for i in range(99)]
    for start in range(0, 100, 25):  # four deliveries, the switch's first
        record(sessions, storm[start : start + 25])
    result = process_events()
    assert result.correlation.events == 100 and result.actions_failed == []
    with sessions.begin() as session:
        incidents = IncidentRepository(session).list()
        found = AlertRepository(session).list(limit=100)
    assert len(incidents) == 1  # not 21
    (switch,) = [alert for alert in found if alert.key == "core-sw-1"]
    assert switch.symptoms == 20 and switch.incident_number == incidents[0].number
    assert {alert.suppressed_by for alert in found if alert is not switch} == {switch.number}
    raised = incident(sessions, switch.incident_number or "")
    assert raised.impact == "high"  # 20 dependents, 20 symptoms: a wide outage
    with sessions.begin() as session:
        trail = AuditRepository(session).for_record(raised.number)
    noted = [e.reason for e in trail if e.reason.startswith("symptom: ")]
    assert sorted(reason.split(":")[1].strip() for reason in noted) == sorted(web)
    assert len(fake_slack.messages) <= 5


def test_a_watch_decides_what_arrives_while_it_watches_in_one_run(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    """One run, three deliveries a second apart: each is decided while the run watches (the
    run is the only decider, so a wave drained before the watch is told to end was decided by
    it), and the quiet half-seconds in between make no passes. The test ends the watch once
    the third is decided (as the routine runner does at SIGTERM). How fast a wave is decided
    is bench/event_throughput.py's to measure, not this test's: a loaded machine is slow."""
    watched: list[Any] = []
    settings = contextvars.copy_context()  # the harness's API URL is a context setting

    def watch() -> None:
        watched.append(process_events(watch_seconds=60))

    watcher = threading.Thread(target=settings.run, args=(watch,))
    watcher.start()
    drained = []
    for i in range(3):
        time.sleep(1)
        record(sessions, [event(check=f"Wave{i}")])
        deadline = time.monotonic() + 60
        while pending_count(sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
        drained.append(pending_count(sessions) == 0 and watcher.is_alive())
    STOPPING.set()
    try:
        watcher.join(timeout=60)
    finally:
        STOPPING.clear()
    assert len(watched) == 1, "the watch ends when told to"
    (result,) = watched
    assert result.correlation.events == 3 and result.actions_failed == []
    assert 2 <= result.passes <= 7, result.passes  # the sweep, a pass or two a wave, no more
    assert drained == [True, True, True], "each wave is decided while the run watches"
    (alert,) = alerts(sessions)
    assert alert.event_count == 3 and alert.incident_number is not None


def test_a_pass_stops_acting_once_its_budget_is_spent_and_the_next_goes_on(
    serviceops_env: str,
    sessions: sessionmaker[Session],
    fake_slack: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three alerts, three incidents to raise, no time for more than one a pass: each pass
    raises one (actions are claimed one at a time, so events that arrive meanwhile wait for
    one action, not for all) and the run goes on passing until none is left, then ends."""
    monkeypatch.setattr(process_events_flow, "ACTION_BUDGET_S", 0.0)
    record(sessions, [event(service=service) for service in ("mail", "web", "dns")])
    result = process_events()
    assert result.correlation.events == 3 and len(result.actions_done) == 3
    assert result.passes == 4  # one action each, then one that finds none left
    assert all(alert.incident_number is not None for alert in alerts(sessions))


def test_a_stopping_runner_ends_the_watch_after_its_pass(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    """SIGTERM to the routine runner sets STOPPING: a 60-second watch decides what is pending
    and ends at once, Completed, instead of being cut off when the process exits."""
    record(sessions, [event()])
    STOPPING.set()
    try:
        started = time.monotonic()
        result = process_events(watch_seconds=60)
    finally:
        STOPPING.clear()
    assert time.monotonic() - started < 30
    assert result.passes == 1 and result.correlation.events == 1


def test_resolved_events_resolve_the_incident_and_a_new_firing_reopens_it(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    record(sessions, [event(), event(check="MailDown")])
    process_events()
    (alert,) = alerts(sessions)
    assert alert.incident_number is not None
    record(sessions, [event(status="resolved")])
    process_events()
    assert incident(sessions, alert.incident_number).state is IncidentState.ASSIGNED
    record(sessions, [event(check="MailDown", status="resolved")])
    process_events()
    resolved = incident(sessions, alert.incident_number)
    assert resolved.state is IncidentState.RESOLVED
    assert (
        resolved.resolution_notes is not None
        and "Cleared at the source" in resolved.resolution_notes
    )
    assert alerts(sessions)[0].state is AlertState.RESOLVED
    record(sessions, [event()])
    process_events()
    reopened = incident(sessions, alert.incident_number)
    assert reopened.state is IncidentState.IN_PROGRESS and reopened.reopen_count == 1
    (same,) = alerts(sessions)
    assert same.number == alert.number and same.state is AlertState.OPEN


def test_a_closed_incident_is_not_reopened_a_new_one_is_raised(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    record(sessions, [event(), event(status="resolved")])
    process_events()
    (alert,) = alerts(sessions)
    first = alert.incident_number
    assert first is not None
    with sessions.begin() as session:
        incidents = IncidentRepository(session)
        closed = incidents.get(first).model_copy(update={"state": IncidentState.CLOSED})
        incidents.save(closed)
    record(sessions, [event()])
    process_events()
    (again,) = alerts(sessions)
    assert again.incident_number not in (None, first)
    assert incident(sessions, again.incident_number).state is IncidentState.ASSIGNED


def test_auto_remediation_runs_the_allow_listed_runbook_without_a_shell(
    serviceops_env: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The alert's service and the check's name go in as one argument each."""
    marker = tmp_path / "restarted"
    save_argv_runbook(marker, "{service}", "{check}")
    try:
        record(sessions, [event(check="QueueStuck", service="mail")])
        result = process_events()
    finally:
        EventPolicyBlock().save("default", overwrite=True)
    assert result.actions_failed == [], result.actions_failed
    assert marker.read_text() == repr(["mail", "QueueStuck"])
    (alert,) = alerts(sessions)
    with sessions.begin() as session:
        (action,) = AlertActionRepository(session).for_alert(alert.number or "")
        trail = AuditRepository(session).for_record(alert.number or "")
    assert action.runbook == "restart"
    assert [e.action for e in trail] == ["alert", "runbook"]


def test_a_hostile_ci_label_refuses_the_runbook_and_starts_nothing(
    serviceops_env: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """`-oProxyCommand=...` as {ci} would be an ssh option: refused, given up at once (not
    retried by the next runs), the reason on the alert's trail."""
    marker = tmp_path / "ran"
    save_argv_runbook(marker, "{ci}")
    try:
        record(sessions, [event(check="QueueStuck", ci=f"-oProxyCommand=touch {marker}")])
        with pytest.raises(ActionsFailed, match=r"given up.*refused") as failed:
            process_events()
        quiet = process_events()
    finally:
        EventPolicyBlock().save("default", overwrite=True)
    assert "ci '-oProxyCommand=touch" in str(failed.value)
    assert not marker.exists()
    assert quiet.actions_done == [] and quiet.actions_failed == []
    (alert,) = alerts(sessions)
    with sessions.begin() as session:
        (action,) = AlertActionRepository(session).for_alert(alert.number or "")
        trail = AuditRepository(session).for_record(alert.number or "")
    assert action.attempts == 1 and action.done_at is not None
    assert action.outcome is not None and action.outcome.startswith("given up: runbook restart")
    assert [e.action for e in trail] == ["alert", "runbook"]
    assert trail[-1].reason.startswith("runbook restart refused: ci '-oProxyCommand=touch")


def test_a_failing_runbook_fails_the_run_and_is_given_up_after_three_attempts(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    save_broken_runbook()
    try:
        record(sessions, [event(check="QueueStuck")])
        for attempt in (1, 2, 3):
            with pytest.raises(ActionsFailed, match="exited 3") as failed:
                process_events()
            expected = "given up" if attempt == 3 else "will be retried"
            assert expected in str(failed.value)
        quiet = process_events()
    finally:
        EventPolicyBlock().save("default", overwrite=True)
    assert quiet.actions_done == [] and quiet.actions_failed == []
    (alert,) = alerts(sessions)
    with sessions.begin() as session:
        (action,) = AlertActionRepository(session).for_alert(alert.number or "")
        trail = AuditRepository(session).for_record(alert.number or "")
    assert action.attempts == 3 and action.done_at is not None
    assert action.outcome is not None and action.outcome.startswith("gave up after 3 attempts")
    assert trail[-1].action == "action" and "gave up" in trail[-1].reason


def test_failing_runbooks_on_many_alerts_are_tried_once_a_pass(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    """Seven alerts whose runbook fails: one pass tries each at most once, none is given up
    (a released action is claimable at once; claiming on would have spent its attempts)."""
    save_broken_runbook()
    try:
        record(sessions, [event(check="QueueStuck", service=f"svc{i}") for i in range(7)])
        with pytest.raises(ActionsFailed):
            process_events()
    finally:
        EventPolicyBlock().save("default", overwrite=True)
    with sessions.begin() as session:
        actions = [
            action
            for alert in AlertRepository(session).list()
            for action in AlertActionRepository(session).for_alert(alert.number or "")
        ]
    assert len(actions) == 7
    assert all(action.attempts <= 1 and action.done_at is None for action in actions)


@pytest.fixture
def target() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Target.status = 200
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_failing_check_becomes_an_incident_and_its_recovery_resolves_it(
    serviceops_env: str, sessions: sessionmaker[Session], target: int
) -> None:
    load_catalogue(sessions, target)
    (ok,) = run_checks(CheckKind.HTTP)
    assert ok.status is CheckStatus.OK and alerts(sessions) == []
    Target.status = 500
    (failed,) = run_checks(CheckKind.HTTP)
    assert failed.status is CheckStatus.CRITICAL
    (alert,) = alerts(sessions)
    raised = incident(sessions, alert.incident_number or "")
    assert (raised.service, raised.ci, raised.impact.value) == ("shop", "shop", "high")
    run_checks(CheckKind.HTTP)  # still failing: a duplicate event, no new incident
    with sessions.begin() as session:
        assert [e.duplicate for e in EventRepository(session).list()] == [True, False]
        assert len(IncidentRepository(session).list()) == 1
        assert len(CheckRunRepository(session).history("shop-http")) == 3
    Target.status = 200
    run_checks(CheckKind.HTTP)
    assert incident(sessions, alert.incident_number or "").state is IncidentState.RESOLVED


def test_a_missed_check_raises_one_incident_and_reporting_again_resolves_it(
    serviceops_env: str, sessions: sessionmaker[Session], target: int
) -> None:
    load_catalogue(sessions, target)
    missed = MissedCheck(kind=CheckKind.HTTP, window_s=900)
    record_missed_check(missed)
    record_missed_check(missed)  # the automation fires again while still silent
    (alert,) = alerts(sessions)
    assert alert.event_count == 2 and alert.incident_number is not None
    assert "http checks have not reported" in incident(sessions, alert.incident_number).title
    run_checks(CheckKind.HTTP)
    assert incident(sessions, alert.incident_number).state is IncidentState.RESOLVED


def test_dead_man_automations_fire_for_the_silent_kinds_only(prefect_server: None) -> None:
    """The declared automations on the server: http keeps reporting, the rest are silent."""
    deployment_id = missed_check_probe.to_deployment(name="probe").apply()
    quick = {kind: 3 for kind in CheckKind}
    automations = [
        a.create() for a in deadman_automations(deployment_id, quick, timedelta(seconds=10))
    ]
    try:
        asked: set[str] = set()
        deadline = time.monotonic() + 60
        while asked != {k.value for k in CheckKind} - {"http"} and time.monotonic() < deadline:
            emit_event(
                event=CHECKS_REPORTED,
                resource={"prefect.resource.id": reporter_resource(CheckKind.HTTP)},
            )
            time.sleep(2)
            with get_client(sync_client=True) as client:
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
                )
            asked = {run.parameters["missed"]["kind"] for run in runs}
        assert asked == {k.value for k in CheckKind} - {"http"}
        windows = {run.parameters["missed"]["window_s"] for run in runs}
        assert windows == {10}
        assert len(disable_automations()) == len(CheckKind)  # what make down does
        assert not any(Automation.read(id=a.id).enabled for a in automations)
    finally:
        for automation in automations:
            automation.delete()
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment_id)
