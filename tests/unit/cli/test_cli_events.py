"""`serviceops events|alerts ...` against a real database (SQLite and PostgreSQL): one line per
record, the --json documents the read API returns, and the exit codes of bad or unknown
numbers."""

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.correlate import correlate_batch
from serviceops.domain.event import EventPolicy
from serviceops.store.base import MAX_ROW_ID
from tests.unit.bad_rows import SHOWN, record_bad_events
from tests.unit.cli.support import _failed, _json, _ok
from tests.unit.test_gateway_events import ALERT_FIELDS, EVENT_FIELDS, T0, seed_events


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_events(cli_db)
    return cli_db


def test_events_list_human_is_one_line_per_event(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    lines = _ok(runner.invoke(app, ["events", "list"])).splitlines()
    assert lines[0].split()[:2] == ["number", "received"]
    assert [line.split()[0] for line in lines[1:]] == [f"EVT-00000{i}" for i in range(6, 0, -1)]
    by_number = {line.split()[0]: line for line in lines[1:]}
    assert "pending" in by_number["EVT-000006"]
    assert "dropped" in by_number["EVT-000004"]
    assert "duplicate" in by_number["EVT-000002"] and "ALR-000001" in by_number["EVT-000002"]
    assert "2026-11-26 09:02:00" in by_number["EVT-000005"]


def test_events_list_json_with_filters(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    body = _json(runner.invoke(app, ["events", "list", "--json"]))
    assert (body["count"], body["limit"], body["offset"]) == (6, 100, 0)
    assert all(set(view) == EVENT_FIELDS for view in body["events"])
    cases = {
        ("--source", "nagios", "--status", "firing"): ["EVT-000004", "EVT-000003"],
        ("--alert", "ALR-000001"): ["EVT-000002", "EVT-000001"],
        ("--status", "resolved"): ["EVT-000005"],
        ("--limit", "2", "--offset", "1"): ["EVT-000005", "EVT-000004"],
    }
    for options, expected in cases.items():
        body = _json(runner.invoke(app, ["events", "list", *options, "--json"]))
        assert [view["number"] for view in body["events"]] == expected, options


def test_events_list_bad_options_are_usage_errors(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    assert "--alert" in _failed(runner.invoke(app, ["events", "list", "--alert", "INC-1"]), 2)
    assert runner.invoke(app, ["events", "list", "--status", "open"]).exit_code == 2
    assert runner.invoke(app, ["events", "list", "--limit", "0"]).exit_code == 2


def test_events_list_empty(runner: CliRunner, cli_db: sessionmaker[Session]) -> None:
    assert _ok(runner.invoke(app, ["events", "list"])).strip() == "no events"
    assert _ok(runner.invoke(app, ["alerts", "list"])).strip() == "no alerts"
    assert _json(runner.invoke(app, ["events", "list", "--json"]))["events"] == []


def test_events_show_an_event(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    out = _ok(runner.invoke(app, ["events", "show", "EVT-000001"]))
    assert out.startswith("EVT-000001  p99 latency over 2 s")
    assert "exception" in out and "incident" in out and "ALR-000001" in out
    assert '"instance": "mx-1:9100"' in out  # details, as sent
    body = _json(runner.invoke(app, ["events", "show", "EVT-000006", "--json"]))
    assert set(body) == {"event"} and set(body["event"]) == EVENT_FIELDS
    assert body["event"]["pending"] is True and body["event"]["source"] == "script"


def test_events_show_an_alert_with_events_and_history(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    out = _ok(runner.invoke(app, ["events", "show", "ALR-000002"]))
    assert out.startswith("ALR-000002  disk 91% full")
    assert "resolved" in out and "db-1" in out
    assert "EVT-000005" in out and "EVT-000003" in out
    assert "history" in out and "open -> resolved" in out
    body = _json(runner.invoke(app, ["events", "show", "ALR-000001", "--json"]))
    assert set(body) == {"alert", "events", "actions", "audit"}
    assert set(body["alert"]) == ALERT_FIELDS
    assert [view["number"] for view in body["events"]] == ["EVT-000002", "EVT-000001"]
    assert [action["kind"] for action in body["actions"]] == ["raise_incident"]
    assert [(a["from_state"], a["to_state"]) for a in body["audit"]] == [(None, "open")]
    assert _json(runner.invoke(app, ["alerts", "show", "ALR-000001", "--json"])) == body


@pytest.mark.parametrize("number", ["EVT-999999", "ALR-999999"])
def test_unknown_number_exits_1(
    runner: CliRunner, seeded: sessionmaker[Session], number: str
) -> None:
    for command in (["events", "show", number], ["events", "show", number, "--json"]):
        line = _failed(runner.invoke(app, command), 1)
        assert line == f"error: no {'event' if number.startswith('EVT') else 'alert'} {number}"
    assert runner.invoke(app, ["alerts", "show", "ALR-999999"]).exit_code == 1


@pytest.mark.parametrize("number", ["INC-000001", "EVT-1", "evt-000001"])
def test_malformed_number_is_a_usage_error(
    runner: CliRunner, cli_db: sessionmaker[Session], number: str
) -> None:
    assert "NUMBER" in _failed(runner.invoke(app, ["events", "show", number]), 2)


def test_alerts_list(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    lines = _ok(runner.invoke(app, ["alerts", "list"])).splitlines()
    assert [line.split()[:2] for line in lines[1:]] == [
        ["ALR-000002", "resolved"],
        ["ALR-000001", "open"],
    ]
    assert "disk 91% full" in lines[1]
    body = _json(runner.invoke(app, ["alerts", "list", "--state", "open", "--json"]))
    assert (body["count"], body["limit"], body["offset"]) == (1, 100, 0)
    assert body["alerts"][0]["number"] == "ALR-000001"
    assert body["alerts"][0]["response"] == "incident"
    assert runner.invoke(app, ["alerts", "list", "--state", "firing"]).exit_code == 2


def test_details_no_read_could_show_are_shown_replaced_and_clipped(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    """Rows stored before intake refused them (tests/unit/bad_rows.py): every command that
    prints events prints them, --json or not."""
    numbers = record_bad_events(seeded, T0 + timedelta(minutes=5))
    correlate_batch(seeded, EventPolicy(), T0 + timedelta(minutes=6))
    for name, number in numbers.items():
        body = _json(runner.invoke(app, ["events", "show", number, "--json"]))
        assert body["event"]["details"] == SHOWN[name], name
        assert _ok(runner.invoke(app, ["events", "show", number])).startswith(number)
        alert = body["event"]["alert_number"]
        shown = _json(runner.invoke(app, ["alerts", "show", alert, "--json"]))["events"]
        assert {view["number"]: view["details"] for view in shown}[number] == SHOWN[name]
        assert number in _ok(runner.invoke(app, ["alerts", "show", alert]))
    listed = _json(runner.invoke(app, ["events", "list", "--source", "legacy", "--json"]))
    assert {view["number"]: view["details"] for view in listed["events"]} == {
        number: SHOWN[name] for name, number in numbers.items()
    }
    assert "surrogates" in _ok(runner.invoke(app, ["events", "list", "--source", "legacy"]))


@pytest.mark.parametrize("number", [f"EVT-{MAX_ROW_ID + 1}", f"EVT-{2**63}", f"ALR-{2**63}"])
def test_a_number_past_the_row_ids_is_unknown(
    runner: CliRunner, cli_db: sessionmaker[Session], number: str
) -> None:
    for command in (["events", "show", number], ["events", "show", number, "--json"]):
        assert _failed(runner.invoke(app, command), 1).startswith("error: no ")


LISTS = [
    ["events", "list"],
    ["alerts", "list"],
    ["incident", "list"],
    ["request", "list"],
    ["problem", "list"],
    ["kedb", "list"],
]


@pytest.mark.parametrize("command", LISTS, ids=" ".join)
def test_an_offset_past_the_row_ids_is_a_usage_error(
    runner: CliRunner, cli_db: sessionmaker[Session], command: list[str]
) -> None:
    for offset in (MAX_ROW_ID + 1, 2**63):
        result = runner.invoke(app, [*command, "--offset", str(offset)])
        assert result.exit_code == 2, result.output
        assert "--offset" in result.output and "Traceback" not in result.output
    _ok(runner.invoke(app, [*command, "--offset", str(MAX_ROW_ID)]))  # the largest offset: exit 0
