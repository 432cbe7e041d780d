"""`serviceops problem list|show` and `serviceops kedb search|show|list` against a real database
(SQLite and PostgreSQL): the text output, the --json documents the read API returns, and the
exit codes of unknown and malformed numbers."""

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from tests.unit.cli.support import _failed, _json, _ok
from tests.unit.test_gateway_problems import KNOWN_ERROR_FIELDS, PROBLEM_FIELDS

# --------------------------------------------------------------------------- problem reads


def test_list_human_and_json(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    lines = _ok(runner.invoke(app, ["problem", "list"])).splitlines()
    assert lines[0].split()[:4] == ["number", "pri", "state", "source"]
    assert [line.split()[0] for line in lines[1:4]] == ["PRB-000003", "PRB-000002", "PRB-000001"]
    assert "P2" in lines[2] and "KE-000002" in lines[2]
    assert lines[-1] == "3 problem(s)"
    body = _json(runner.invoke(app, ["problem", "list", "--state", "investigating", "--json"]))
    assert (body["count"], body["limit"], body["offset"]) == (1, 100, 0)
    (view,) = body["problems"]
    assert set(view) == PROBLEM_FIELDS
    assert (view["number"], view["state"], view["frequency"]) == ("PRB-000001", "investigating", 2)


def test_list_empty_and_bad_state(runner: CliRunner, cli_db: sessionmaker[Session]) -> None:
    assert _ok(runner.invoke(app, ["problem", "list"])).strip() == "no problems"
    result = runner.invoke(app, ["problem", "list", "--state", "open"])
    assert result.exit_code == 2 and "--state" in result.output


def test_show_human_has_incidents_and_history(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    out = _ok(runner.invoke(app, ["problem", "show", "PRB-000001"]))
    assert out.startswith("PRB-000001  Recurring incidents on service mail")
    assert "trend (service:mail)" in out and "investigating" in out
    assert "incidents\n  INC-000001, INC-000002" in out
    assert "investigation notes\n  queue grows at 09:00" in out
    assert "history" in out and "new -> investigating" in out and "alice" in out


def test_show_json_is_the_read_api_document(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    document = _json(runner.invoke(app, ["problem", "show", "PRB-000001", "--json"]))
    assert set(document) == {"problem", "incidents", "audit"}
    assert document["incidents"] == ["INC-000001", "INC-000002"]
    assert [entry["action"] for entry in document["audit"]] == ["log", "link", "investigate"]


def test_show_unknown_is_1_and_malformed_is_2(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    result = runner.invoke(app, ["problem", "show", "PRB-000099"])
    assert _failed(result, 1) == "error: no problem PRB-000099"
    assert "invalid NUMBER" in _failed(runner.invoke(app, ["problem", "show", "PRB-1"]), 2)


# --------------------------------------------------------------------------- kedb


def test_kedb_search_ranks_the_best_match_first(
    runner: CliRunner, seeded: sessionmaker[Session]
) -> None:
    lines = _ok(runner.invoke(app, ["kedb", "search", "mail queue stuck"])).splitlines()
    assert [line.split()[0] for line in lines[1:3]] == ["KE-000001", "KE-000004"]
    assert lines[-1] == "2 known error(s)"
    body = _json(runner.invoke(app, ["kedb", "search", "stuck queue", "--limit", "1", "--json"]))
    assert [view["number"] for view in body["known_errors"]] == ["KE-000001"]
    assert (body["count"], body["limit"]) == (1, 1)
    assert set(body["known_errors"][0]) == KNOWN_ERROR_FIELDS
    out = _ok(runner.invoke(app, ["kedb", "search", "xyzzy"]))
    assert out.strip() == "no known error matches"


def test_kedb_show_and_list(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    out = _ok(runner.invoke(app, ["kedb", "show", "KE-000001"]))
    assert out.startswith("KE-000001  Mail queue stuck")
    assert "active" in out and "mx-2" in out
    assert "workaround\n  workaround for mail queue stuck" in out
    document = _json(runner.invoke(app, ["kedb", "show", "KE-000003", "--json"]))
    assert document["known_error"]["active"] is False
    body = _json(runner.invoke(app, ["kedb", "list", "--json"]))
    assert [view["number"] for view in body["known_errors"]] == [
        "KE-000004",
        "KE-000002",
        "KE-000001",
    ]
    assert _failed(runner.invoke(app, ["kedb", "show", "KE-000099"]), 1).endswith("KE-000099")
    assert "invalid NUMBER" in _failed(runner.invoke(app, ["kedb", "show", "PRB-000001"]), 2)
