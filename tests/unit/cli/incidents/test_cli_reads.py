"""`serviceops db|incident|outbox` reads against a real database (SQLite and PostgreSQL): the
schema upgrade, incident show and list as text and --json, the outbox, and the exit codes of
unknown numbers and bad filters."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import SlackMessage
from serviceops.settings import get_settings
from serviceops.store.db import sessions_for
from serviceops.store.notifications import NotificationRecord
from tests.unit.cli.incidents.support import _use_database
from tests.unit.cli.support import _json, _ok

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
