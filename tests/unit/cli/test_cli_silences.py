"""`serviceops silence add|extend|lift|list|show` on SQLite and PostgreSQL: add runs
add-silence on a ticket and prints the silence it recorded, a silence naming nothing or a bad
--until is a usage error naming the option (nothing started), list and show read the database,
--json prints the read API's documents."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app as cli
from serviceops.cli import runs as cli_runs
from serviceops.correlate import correlate_batch
from serviceops.domain.event import AddSilence, EventIn, EventPolicy
from serviceops.domain.event import silences as steps
from serviceops.store.audit import AuditRepository
from serviceops.store.event import EventRepository, SilenceRepository
from tests.unit.cli.support import COMPLETED, RUN_ID, _fake_run

UNTIL = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)


def test_add_runs_add_silence_and_prints_what_it_recorded(
    runner: CliRunner, cli_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    def record(call: cli_runs.FlowCall) -> None:  # what the flow writes
        draft = AddSilence.model_validate(call.parameters["silence"])
        with cli_db.begin() as session:
            silence = SilenceRepository(session).add(draft, datetime.now(UTC))
            entry = steps.added(silence, draft.actor).model_copy(update={"flow_run_id": RUN_ID})
            AuditRepository(session).add(entry)

    calls = _fake_run(monkeypatch, COMPLETED, effect=record)
    until = UNTIL.strftime("%Y-%m-%dT%H:%M%z")
    args = ["silence", "add", "--ci", "db-01", "--until", until, "--reason", "kernel update"]
    result = runner.invoke(cli, [*args, "--actor", "alex"])
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert call.deployment == "add-silence/add-silence"
    assert call.parameters["silence"] | {"ends_at": None} == {
        "ci": "db-01",
        "service": None,
        "check": None,
        "ends_at": None,
        "reason": "kernel update",
        "owner": "alex",
        "actor": "alex",
    }
    assert result.stdout.startswith("SIL-000001\n") and "ci db-01" in result.stdout
    listed = json.loads(runner.invoke(cli, ["silence", "list", "--json"]).stdout)
    assert [(s["number"], s["state"]) for s in listed["silences"]] == [("SIL-000001", "active")]
    shown = json.loads(runner.invoke(cli, ["silence", "show", "SIL-000001", "--json"]).stdout)
    assert shown["held"] == [] and [e["action"] for e in shown["audit"]] == ["add"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ([], "invalid --ci/--service/--check: Value error, a silence names a ci, a service"),
        (["--ci", "db 01"], "invalid --ci"),
    ],
)
def test_a_bad_silence_is_a_usage_error_and_starts_nothing(
    runner: CliRunner,
    cli_db: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    named: str,
) -> None:
    calls = _fake_run(monkeypatch, COMPLETED)
    until = UNTIL.strftime("%Y-%m-%dT%H:%M%z")
    result = runner.invoke(
        cli, ["silence", "add", "--until", until, "--reason", "work", "--actor", "a", *extra]
    )
    assert result.exit_code == 2 and calls == []
    assert named in result.stderr


def test_show_and_list_without_silences(runner: CliRunner, cli_db: sessionmaker[Session]) -> None:
    assert runner.invoke(cli, ["silence", "list"]).stdout == "no silences\n"
    missing = runner.invoke(cli, ["silence", "show", "SIL-000042"])
    assert (missing.exit_code, missing.stderr) == (1, "error: no silence SIL-000042\n")
    assert runner.invoke(cli, ["silence", "show", "ALR-000001"]).exit_code == 2


def test_an_alert_shows_what_holds_it_back(
    runner: CliRunner, cli_db: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    draft = AddSilence(ci="db-01", ends_at=UNTIL, reason="kernel update", owner="a", actor="a")
    event = {"source": "prometheus", "ci": "db-01", "check": "Down", "severity": "critical"}
    with cli_db.begin() as session:
        SilenceRepository(session).add(draft, now)
        EventRepository(session).record([EventIn.model_validate(event | {"summary": "x"})], now)
    correlate_batch(cli_db, EventPolicy(), now)
    shown = runner.invoke(cli, ["events", "show", "ALR-000001"])
    assert shown.exit_code == 0, shown.output
    assert "held by       SIL-000001" in shown.stdout
    held = json.loads(runner.invoke(cli, ["silence", "show", "SIL-000001", "--json"]).stdout)
    assert [alert["number"] for alert in held["held"]] == ["ALR-000001"]
