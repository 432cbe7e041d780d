"""The CLI: reads against a real database, input validation, and the run commands with the
Prefect part (cli_runs.run_and_wait) replaced by a fake, since no deployment is served here."""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from serviceops.cli import app
from serviceops.cli import runs as cli_runs
from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    IncidentCommand,
    IncidentDraft,
    PendIncident,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
    StartIncidentWork,
)
from serviceops.domain.machine import AuditEntry
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import SlackMessage
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.db import sessions_for
from serviceops.store.incident import IncidentRepository
from serviceops.store.notifications import NotificationRecord
from tests.unit.seed import seed_incidents

RUN_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture
def cli_db(
    monkeypatch: pytest.MonkeyPatch, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[sessionmaker[Session]]:
    """The CLI pointed at the fixture database; its cached engine is disposed afterwards so
    no pooled connection outlives the test schema."""
    _use_database(monkeypatch, database_url)
    yield sessions
    get_settings.cache_clear()
    sessions_for(database_url).kw["bind"].dispose()
    sessions_for.cache_clear()


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_incidents(cli_db)
    return cli_db


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def _json(result: Result) -> Any:
    return json.loads(_ok(result))


# --------------------------------------------------------------------------- db


def test_db_upgrade_creates_a_usable_database(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'so.db'}"
    _use_database(monkeypatch, url)
    try:
        assert "latest schema" in _ok(runner.invoke(app, ["db", "upgrade"]))
        assert _json(runner.invoke(app, ["incident", "list", "--json"]))["count"] == 0
    finally:
        get_settings.cache_clear()
        sessions_for.cache_clear()


def test_unmigrated_database_is_one_line_not_a_traceback(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_database(monkeypatch, f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        result = runner.invoke(app, ["incident", "list"])
    finally:
        get_settings.cache_clear()
        sessions_for.cache_clear()
    assert result.exit_code == 1
    assert "db upgrade" in result.stderr
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- show, list


def test_show_human(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    out = _ok(runner.invoke(app, ["incident", "show", "INC-000001"]))
    assert out.startswith("INC-000001  VPN drops every hour")
    assert "in_progress" in out
    assert "P1 Critical" in out
    assert "met" in out and "breached" in out
    assert "history" in out and "start_work" in out and "assigned -> in_progress" in out


def test_show_json(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    document = _json(runner.invoke(app, ["incident", "show", "INC-000003", "--json"]))
    assert set(document) == {"incident", "audit"}
    incident = document["incident"]
    assert incident["number"] == "INC-000003"
    assert incident["state"] == "resolved"
    assert incident["priority"] == 5
    assert incident["known_error"]["number"] == "KE-000001"
    assert document["audit"] == []


def test_show_unknown_exits_1(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["incident", "show", "INC-000077"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no incident INC-000077"


def test_list_human(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    lines = _ok(runner.invoke(app, ["incident", "list"])).splitlines()
    assert lines[0].split() == [
        "number",
        "pri",
        "state",
        "service",
        "group",
        "response",
        "resolution",
        "title",
    ]
    assert [line.split()[0] for line in lines[1:4]] == ["INC-000003", "INC-000002", "INC-000001"]
    assert lines[-1] == "3 incident(s)"
    # aligned: every row starts its state column at the same offset
    assert len({line.index(line.split()[2]) for line in lines[:4]}) == 1


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], ["INC-000003", "INC-000002", "INC-000001"]),
        (["--state", "assigned"], ["INC-000002"]),
        (["--priority", "1"], ["INC-000001"]),
        (["--service", "vpn"], ["INC-000003", "INC-000001"]),
        (["--service", "vpn", "--limit", "1"], ["INC-000003"]),
        (["--offset", "2"], ["INC-000001"]),
        (["--state", "closed"], []),
    ],
)
def test_list_json(
    runner: CliRunner, seeded: sessionmaker[Session], options: list[str], expected: list[str]
) -> None:
    document = _json(runner.invoke(app, ["incident", "list", "--json", *options]))
    assert [incident["number"] for incident in document["incidents"]] == expected
    assert document["count"] == len(expected)


def test_list_empty_human(runner: CliRunner, cli_db: sessionmaker[Session]) -> None:
    assert _ok(runner.invoke(app, ["incident", "list"])).strip() == "no incidents"


@pytest.mark.parametrize(
    ("options", "option"),
    [(["--priority", "9"], "--priority"), (["--state", "bogus"], "--state")],
)
def test_list_bad_filter_exits_2(
    runner: CliRunner, cli_db: sessionmaker[Session], options: list[str], option: str
) -> None:
    result = runner.invoke(app, ["incident", "list", *options])
    assert result.exit_code == 2
    assert option in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- outbox


@pytest.fixture
def outbox(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    """Two queued notifications, the first of them already delivered."""
    at = datetime.now(UTC)
    with cli_db.begin() as session:
        box = Outbox(session)
        for key, text in [("k1", "INC-000001 logged"), ("k2", "INC-000001 breached")]:
            message = SlackMessage(text=text, blocks=[])
            box.post(key=key, channel="#ops", message=message, record="INC-000001", at=at)
        session.execute(
            update(NotificationRecord)
            .where(NotificationRecord.key == "k1")
            .values(delivered_at=at, slack_ts="1.2", attempts=1)
        )
    return cli_db


def test_outbox_list_shows_undelivered_by_default(
    runner: CliRunner, outbox: sessionmaker[Session]
) -> None:
    out = _ok(runner.invoke(app, ["outbox", "list"]))
    assert "INC-000001 breached" in out and "pending" in out
    assert "INC-000001 logged" not in out
    assert out.splitlines()[-1] == "1 notification(s)"


def test_outbox_list_all_json(runner: CliRunner, outbox: sessionmaker[Session]) -> None:
    document = _json(runner.invoke(app, ["outbox", "list", "--all", "--json"]))
    assert document["count"] == 2
    by_key = {n["key"]: n for n in document["notifications"]}
    assert by_key["k1"]["delivered_at"] is not None and by_key["k1"]["slack_ts"] == "1.2"
    assert by_key["k2"]["delivered_at"] is None
    assert by_key["k2"]["text"] == "INC-000001 breached"
    assert by_key["k2"]["channel"] == "#ops"


def test_outbox_list_empty(runner: CliRunner, cli_db: sessionmaker[Session]) -> None:
    assert _json(runner.invoke(app, ["outbox", "list", "--json"])) == {
        "notifications": [],
        "count": 0,
    }


# --------------------------------------------------------------------------- input validation


OPEN = [
    "incident",
    "open",
    "--title",
    "VPN is down",
    "--service",
    "vpn",
    "--category",
    "network/vpn",
    "--impact",
    "high",
    "--urgency",
    "medium",
    "--reporter",
    "bob",
]


def _by(actor: str, verb: str) -> list[str]:
    return ["incident", verb, "INC-000001", "--actor", actor]


def _replace(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> list[cli_runs.FlowCall]:
    """Record what would have been run; fail the test only by assertion, never by network."""
    calls: list[cli_runs.FlowCall] = []

    def fake(call: cli_runs.FlowCall, timeout: float) -> cli_runs.RunOutcome:
        calls.append(call)
        raise cli_runs.PrefectUnavailable("no Prefect in unit tests")

    monkeypatch.setattr(cli_runs, "run_and_wait", fake)
    return calls


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (_replace(OPEN, "--impact", "huge"), "--impact"),
        (_replace(OPEN, "--urgency", "now"), "--urgency"),
        (_replace(OPEN, "--title", "x"), "--title"),
        ([*OPEN, "--source", "carrier-pigeon"], "--source"),
        (["incident", "ack", "INC-12", "--actor", "alice"], "NUMBER"),
        (["incident", "ack", "INC-000001", "--actor", ""], "--actor"),
        (["incident", "pend", "INC-000001", "--actor", "a", "--reason", "x"], "--reason"),
        (
            [*_by("alice", "escalate"), "--kind", "sideways", "--reason", "stuck"],
            "--kind",
        ),
        (
            [*_by("alice", "resolve"), "--code", "magic", "--notes", "it works"],
            "--code",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_field(
    runner: CliRunner, no_prefect: list[cli_runs.FlowCall], args: list[str], named: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: invalid {named}:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert no_prefect == []  # nothing was started


def test_missing_required_option_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["incident", "resolve", "INC-000001", "--actor", "a"])
    assert result.exit_code == 2
    assert "--code" in result.output


def test_prefect_unavailable_is_one_line_exit_1(
    runner: CliRunner, no_prefect: list[cli_runs.FlowCall]
) -> None:
    result = runner.invoke(app, ["incident", "ack", "INC-000001", "--actor", "alice"])
    assert result.exit_code == 1
    assert result.stderr == "error: no Prefect in unit tests\n"
    assert [call.deployment for call in no_prefect] == ["acknowledge-incident/acknowledge-incident"]


# --------------------------------------------------------------------------- parameters


def _cmd(model: type[IncidentCommand], **extra: Any) -> IncidentCommand:
    return model(number="INC-000001", actor="alice", **extra)


@pytest.mark.parametrize(
    ("command", "flow"),
    [
        (_cmd(AcknowledgeIncident), "acknowledge-incident"),
        (_cmd(StartIncidentWork), "start-incident-work"),
        (_cmd(PendIncident, reason="waiting on vendor"), "pend-incident"),
        (_cmd(ResumeIncident), "resume-incident"),
        (
            _cmd(EscalateIncident, kind="functional", to_group="dba", reason="needs a DBA"),
            "escalate-incident",
        ),
        (_cmd(ResolveIncident, code="fixed", notes="rebooted"), "resolve-incident"),
        (_cmd(CloseIncident), "close-incident"),
        (_cmd(ReopenIncident, reason="back again"), "reopen-incident"),
    ],
)
def test_command_call_names_the_deployment_and_sends_json(
    command: IncidentCommand, flow: str
) -> None:
    call = cli_runs.command_call(command)
    assert call.deployment == f"{flow}/{flow}"
    assert list(call.parameters) == ["command"]
    assert json.loads(json.dumps(call.parameters["command"])) == command.model_dump(mode="json")
    assert type(command).model_validate(call.parameters["command"]) == command


# Each transition verb of the CLI, with the options it needs beyond the number and the actor.
VERBS: dict[str, list[str]] = {
    "ack": [],
    "start": [],
    "pend": ["--reason", "waiting on the vendor"],
    "resume": [],
    "escalate": ["--kind", "functional", "--to-group", "network", "--reason", "needs network"],
    "resolve": ["--code", "fixed", "--notes", "restarted the tunnel"],
    "close": [],
    "reopen": ["--reason", "it broke again"],
}


def test_every_transition_command_has_a_cli_verb_that_starts_its_flow(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    calls = _fake_run(monkeypatch, COMPLETED)
    for verb, options in VERBS.items():
        args = ["incident", verb, "INC-000002", "--actor", "alice", *options, "--json"]
        _json(runner.invoke(app, args))
    started = {call.flow for call in calls}
    assert started == {command.flow_name for command in IncidentCommand.__subclasses__()}
    for call in calls:
        (command,) = (c for c in IncidentCommand.__subclasses__() if c.flow_name == call.flow)
        command.model_validate(call.parameters["command"])  # what the server will validate


def test_log_incident_call() -> None:
    draft = IncidentDraft(
        title="VPN is down",
        service="vpn",
        category="network",
        impact="high",
        urgency="low",
        reporter="bob",
    )
    call = cli_runs.log_incident_call(draft)
    assert call.deployment == "log-incident/log-incident"
    assert call.parameters == {"incident": draft.model_dump(mode="json")}
    assert call.parameters["incident"]["impact"] == "high"


def test_run_and_wait_without_an_api_url_uses_the_make_up_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No PREFECT_API_URL: the server `make up` starts, never a throw-away ephemeral one."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("SERVICEOPS_PREFECT_PORT", "9")
    get_settings.cache_clear()
    try:
        with (
            temporary_settings(restore_defaults={PREFECT_API_URL}),
            pytest.raises(cli_runs.PrefectUnavailable, match=r"127\.0\.0\.1:9/api"),
        ):
            cli_runs.run_and_wait(cli_runs.command_call(_cmd(AcknowledgeIncident)), timeout=1)
    finally:
        get_settings.cache_clear()


def test_run_and_wait_reports_an_unreachable_api() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        pytest.raises(cli_runs.PrefectUnavailable, match="cannot reach the Prefect API"),
    ):
        cli_runs.run_and_wait(cli_runs.command_call(_cmd(AcknowledgeIncident)), timeout=1)


# --------------------------------------------------------------------------- run commands


def _fake_run(
    monkeypatch: pytest.MonkeyPatch,
    outcome: cli_runs.RunOutcome,
    effect: Callable[[cli_runs.FlowCall], None] | None = None,
) -> list[cli_runs.FlowCall]:
    calls: list[cli_runs.FlowCall] = []

    def fake(call: cli_runs.FlowCall, timeout: float) -> cli_runs.RunOutcome:
        calls.append(call)
        if effect:
            effect(call)
        return outcome

    monkeypatch.setattr(cli_runs, "run_and_wait", fake)
    return calls


COMPLETED = cli_runs.RunOutcome(RUN_ID, "COMPLETED", "Completed", "", final=True)


def test_open_finds_the_number_through_the_audit_trail(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    def log_incident(call: cli_runs.FlowCall) -> None:
        """What the real flow does, as far as the CLI can see: a row and an audit entry."""
        draft = IncidentDraft.model_validate(call.parameters["incident"])
        now = datetime.now(UTC)
        with seeded.begin() as session:
            incident = IncidentRepository(session).add(draft, now)
            AuditRepository(session).add(
                AuditEntry(
                    record=incident.number,
                    action="log",
                    actor=draft.reporter,
                    at=now,
                    from_state=None,
                    to_state="new",
                    flow_run_id=RUN_ID,
                )
            )

    calls = _fake_run(monkeypatch, COMPLETED, log_incident)
    document = _json(runner.invoke(app, [*OPEN, "--major", "--json"]))
    assert set(document) == {"incident", "flow_run_id"}
    assert document["flow_run_id"] == RUN_ID
    assert document["incident"]["number"] == "INC-000004"
    assert document["incident"]["major"] is True
    assert document["incident"]["source"] == "cli"
    assert calls[0].parameters["incident"]["title"] == "VPN is down"


def test_open_human_output(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    with seeded.begin() as session:  # pretend the run logged INC-000002
        AuditRepository(session).add(
            AuditEntry(
                record="INC-000002",
                action="log",
                actor="bob",
                at=datetime.now(UTC),
                from_state=None,
                to_state="new",
                flow_run_id=RUN_ID,
            )
        )
    _fake_run(monkeypatch, COMPLETED)
    out = _ok(runner.invoke(app, OPEN))
    assert out.startswith("INC-000002  Mail is slow")
    assert f"flow run {RUN_ID}" in out


def test_open_run_that_logged_nothing_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, cli_db: sessionmaker[Session]
) -> None:
    _fake_run(monkeypatch, COMPLETED)
    result = runner.invoke(app, OPEN)
    assert result.exit_code == 1
    assert "recorded no incident" in result.stderr


def test_change_prints_the_record_after_the_run(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    calls = _fake_run(monkeypatch, COMPLETED)
    args = ["incident", "resolve", "INC-000001", "--actor", "alice", "--code", "fixed"]
    document = _json(runner.invoke(app, [*args, "--notes", "restarted the tunnel", "--json"]))
    assert document["flow_run_id"] == RUN_ID
    assert document["incident"]["number"] == "INC-000001"
    assert calls[0].deployment == "resolve-incident/resolve-incident"
    assert calls[0].parameters == {
        "command": {
            "number": "INC-000001",
            "actor": "alice",
            "code": "fixed",
            "notes": "restarted the tunnel",
        }
    }


def test_escalate_passes_kind_and_group(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    calls = _fake_run(monkeypatch, COMPLETED)
    args = ["incident", "escalate", "INC-000002", "--actor", "alice", "--kind", "functional"]
    _ok(runner.invoke(app, [*args, "--to-group", "dba", "--reason", "needs a DBA"]))
    assert calls[0].parameters["command"]["kind"] == "functional"
    assert calls[0].parameters["command"]["to_group"] == "dba"


def test_failed_run_prints_its_state_message_and_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    message = "INC-000002: cannot close an incident that is assigned; allowed from assigned: ..."
    _fake_run(monkeypatch, cli_runs.RunOutcome(RUN_ID, "FAILED", "Failed", message, final=True))
    result = runner.invoke(app, ["incident", "close", "INC-000002", "--actor", "alice"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: flow run {RUN_ID} Failed: {message}\n"


def test_failed_run_with_json_also_prints_a_document(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    _fake_run(monkeypatch, cli_runs.RunOutcome(RUN_ID, "FAILED", "Failed", "nope", final=True))
    result = runner.invoke(app, ["incident", "start", "INC-000002", "--actor", "a", "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["flow_run_id"] == RUN_ID
    assert document["state"] == "FAILED"
    assert "nope" in document["error"]


def test_run_still_going_after_timeout_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, seeded: sessionmaker[Session]
) -> None:
    _fake_run(monkeypatch, cli_runs.RunOutcome(RUN_ID, "SCHEDULED", "Late", "", final=False))
    args = ["incident", "ack", "INC-000002", "--actor", "a", "--timeout", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "still Late after 3s" in result.stderr
