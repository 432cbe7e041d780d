"""`serviceops oncall who` and `serviceops oncall override` on SQLite and PostgreSQL: the
table and the --json document of who is on now and next, a clear error for an unknown group,
and an override run through set-oncall-override on a ticket (bad input starts nothing)."""

import getpass
import json

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app as cli
from serviceops.store.tickets import TicketRecord, ticket_of
from tests.unit.cli.support import COMPLETED, _fake_run
from tests.unit.test_oncall_desk import SAM_COVERS, load_dba


@pytest.fixture
def cli_loaded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    """The CLI's database with the dba schedule and Sam's override in it."""
    return load_dba(cli_db, SAM_COVERS)


def test_oncall_who_prints_the_table_and_the_document(
    runner: CliRunner, cli_loaded: sessionmaker[Session]
) -> None:
    at = ["--at", "2026-01-10T12:00+00:00"]  # Saturday: Sam covers Dana
    text = runner.invoke(cli, ["oncall", "who", *at])
    assert text.exit_code == 0, text.output
    assert "dba    primary  sam" in text.stdout and "override" in text.stdout
    document = json.loads(runner.invoke(cli, ["oncall", "who", "--json", *at]).stdout)
    assert document["oncall"][0]["next_person"] == "dirk"  # Monday 09:00: the next week's
    unknown = runner.invoke(cli, ["oncall", "who", "--group", "billing"])
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: no on-call schedule for billing (there are: dba)\n"


def test_oncall_override_runs_its_deployment_on_a_ticket(
    runner: CliRunner, cli_loaded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_run(monkeypatch, COMPLETED)
    args = ["oncall", "override", "--group", "dba", "--person", "tess", "--actor", "dora"]
    window = ["--from", "2026-01-13T18:00+00:00", "--until", "2026-01-14T09:00+00:00"]
    result = runner.invoke(cli, [*args, *window, "--reason", "Dirk at a wedding"])
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert call.deployment == "set-oncall-override/set-oncall-override"
    assert call.parameters["override"] == {
        "group": "dba",
        "layer": "primary",
        "person": "tess",
        "starts_at": "2026-01-13T18:00:00Z",
        "ends_at": "2026-01-14T09:00:00Z",
        "reason": "Dirk at a wedding",
        "actor": "dora",
    }
    with cli_loaded.begin() as session:
        ticket = session.get(TicketRecord, ticket_of(list(call.tags)) or "")
        assert ticket is not None and (ticket.via, ticket.ref) == ("cli", getpass.getuser())

    backwards = runner.invoke(cli, [*args, "--from", window[3], "--until", window[1]])
    assert backwards.exit_code == 2
    assert "ends_at must be after starts_at" in backwards.stderr
    assert len(calls) == 1  # nothing started
