"""`serviceops oncall who|override` and `serviceops page ack|show` on SQLite and PostgreSQL:
the table and the --json document of who is on now and next, a clear error for an unknown
group, an override run through set-oncall-override on a ticket (bad input starts nothing), and
a page answered through acknowledge-page by someone paged or in the group, nobody else."""

import getpass
import json

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app as cli
from serviceops.domain.oncall import Paged
from serviceops.store.oncall import PageRepository
from serviceops.store.tickets import TicketRecord, ticket_of
from tests.unit.cli.support import COMPLETED, _fake_run
from tests.unit.test_oncall_desk import AT, SAM_COVERS, load_dba


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


@pytest.fixture
def paged(cli_loaded: sessionmaker[Session]) -> str:
    """A page of the dba group whose first step paged dana."""
    with cli_loaded.begin() as session:
        pages = PageRepository(session)
        page = pages.open("INC-000001", "dba", AT)
        pages.save(page.model_copy(update={"paged": [Paged(step=0, persons=["dana"], at=AT)]}))
    return page.number


def test_page_ack_runs_acknowledge_page_for_the_paged_and_refuses_others(
    runner: CliRunner, paged: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_run(monkeypatch, COMPLETED)
    refused = runner.invoke(cli, ["page", "ack", paged, "--actor", "mallory"])
    assert refused.exit_code == 1
    assert refused.stderr == (
        f"error: {paged}: mallory was not paged and is not in dba; nothing changed\n"
    )
    assert calls == []
    answered = runner.invoke(cli, ["page", "ack", paged, "--actor", "dirk"])  # in the group
    assert answered.exit_code == 0, answered.output
    (call,) = calls
    assert (call.deployment, call.parameters) == (
        "acknowledge-page/acknowledge-page",
        {"command": {"number": paged, "actor": "dirk"}},
    )
    assert ticket_of(list(call.tags)) is not None
    assert answered.stdout.splitlines()[0] == f"{paged} for INC-000001 (dba): paging"


def test_page_show_lists_each_step(runner: CliRunner, paged: str) -> None:
    shown = runner.invoke(cli, ["page", "show", paged, "--json"])
    assert json.loads(shown.stdout)["page"]["paged"][0]["persons"] == ["dana"]
    missing = runner.invoke(cli, ["page", "show", "PGE-000099"])
    assert (missing.exit_code, missing.stderr) == (1, "error: no page PGE-000099\n")
