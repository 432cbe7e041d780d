"""The incident commands up to the run they start, with no Prefect: bad input exits 2 naming the
field and starts nothing, each command's deployment and JSON parameters (VERBS, every transition
verb, walked against the commands), and run_and_wait's errors when Prefect cannot be reached."""

import getpass
import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

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
from serviceops.settings import get_settings
from serviceops.store.tickets import TicketRecord, ticket_of
from tests.unit.cli.incidents.support import OPEN
from tests.unit.cli.support import COMPLETED, _fake_run, _json

# --------------------------------------------------------------------------- input validation


def _by(actor: str, verb: str) -> list[str]:
    return ["incident", verb, "INC-000001", "--actor", actor]


def _replace(args: list[str], option: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


@pytest.fixture
def no_prefect(
    monkeypatch: pytest.MonkeyPatch, cli_db: sessionmaker[Session]
) -> list[cli_runs.FlowCall]:
    """Record what would have been run; fail the test only by assertion, never by network.
    The CLI writes the run's ticket in the database first (cli_db)."""
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


def test_the_run_carries_a_ticket_saying_the_cli_ran_it(
    runner: CliRunner, no_prefect: list[cli_runs.FlowCall], cli_db: sessionmaker[Session]
) -> None:
    """--actor is a name anyone can type; the ticket says the OS user who ran the CLI."""
    runner.invoke(app, ["incident", "ack", "INC-000001", "--actor", "alice"])
    (call,) = no_prefect
    with cli_db.begin() as session:
        ticket = session.get(TicketRecord, ticket_of(list(call.tags)) or "")
        assert ticket is not None
        vouched = (ticket.via, ticket.ref, ticket.actor, ticket.record, ticket.purpose)
    assert vouched == ("cli", getpass.getuser(), "alice", "INC-000001", "acknowledge-incident")


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
