"""The incident run commands with the Prefect part (cli_runs.run_and_wait) replaced by a fake,
since no deployment is served here: how `open` finds its number, what a change prints after the
run, and how a failed or late run exits 1."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.cli import runs as cli_runs
from serviceops.domain.incident import IncidentDraft
from serviceops.domain.machine import AuditEntry
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from tests.unit.cli.incidents.support import OPEN
from tests.unit.cli.support import COMPLETED, RUN_ID, _fake_run, _json, _ok

# --------------------------------------------------------------------------- run commands


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
