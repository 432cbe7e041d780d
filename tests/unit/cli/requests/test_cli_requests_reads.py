"""`serviceops catalogue list` (and `request catalogue`) and `serviceops request show|list`
against a real database (both backends): the text output, the --json documents the read API
returns, and the exit codes of unknown numbers and bad filters."""

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.domain.request import catalogue
from serviceops.domain.views import CatalogueDocument
from tests.unit.cli.requests.support import LAPTOP_DETAILS, NOT_STARTED, _error
from tests.unit.cli.support import _json, _ok

# --------------------------------------------------------------------------- catalogue


def test_catalogue_human_under_both_names(runner: CliRunner) -> None:
    out = _ok(runner.invoke(app, ["catalogue", "list"]))
    assert _ok(runner.invoke(app, ["request", "catalogue"])) == out
    lines = out.splitlines()
    assert lines[0].split() == ["type", "title", "approvals", "fulfilment", "target"]
    laptop = next(line for line in lines if line.startswith("new_laptop "))
    assert "financial over 1500, manager" in laptop
    assert "order_hardware, hand_over_hardware" in laptop
    assert laptop.endswith("5 days")
    reset = next(line for line in lines if line.startswith("password_reset "))
    assert "none" in reset and reset.endswith("4 h")
    assert lines[-1] == f"{len(catalogue())} item(s)"


def test_catalogue_json_is_the_read_api_document(runner: CliRunner) -> None:
    document = _json(runner.invoke(app, ["catalogue", "list", "--json"]))
    assert document == _json(runner.invoke(app, ["request", "catalogue", "--json"]))
    assert CatalogueDocument.model_validate(document) == CatalogueDocument(items=catalogue())
    by_type = {item["type"]: item for item in document["items"]}
    assert by_type["new_laptop"]["approvals"] == ["manager", "financial"]
    assert by_type["new_laptop"]["financial_threshold"] == "1500"
    assert by_type["new_laptop"]["fulfilment"] == ["order_hardware", "hand_over_hardware"]
    assert by_type["new_laptop"]["target"] == "P5D"
    assert by_type["access_grant"]["approvals"] == ["manager", "system_owner"]


# --------------------------------------------------------------------------- show, list


def test_show_json_is_request_and_audit(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    document = _json(runner.invoke(app, ["request", "show", "REQ-000001", "--json"]))
    assert set(document) == {"request", "audit"}
    request = document["request"]
    assert request["number"] == "REQ-000001"
    assert request["state"] == "awaiting_approval"
    assert request["pending_approval"] == "manager"
    assert request["approvals_required"] == ["manager"]
    assert request["details"] == LAPTOP_DETAILS
    assert request["requester"] == "alice"
    [entry] = document["audit"]
    assert (entry["action"], entry["to_state"], entry["actor"]) == ("submit", "submitted", "alice")


def test_show_human(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    out = _ok(runner.invoke(app, ["request", "show", "REQ-000001"]))
    assert out.startswith("REQ-000001  New laptop (new_laptop)")
    assert "awaiting_approval" in out
    assert "manager approval" in out
    assert "justification  New starter in the platform team" in out
    assert NOT_STARTED in out
    assert "history" in out and "- -> submitted" in out


def test_show_unknown_exits_1(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    assert _error(runner.invoke(app, ["request", "show", "REQ-000077"]), 1) == (
        "error: no request REQ-000077"
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], ["REQ-000003", "REQ-000002", "REQ-000001"]),
        (["--state", "awaiting_approval"], ["REQ-000001"]),
        (["--type", "vpn_access"], ["REQ-000002"]),
        (["--requester", "alice"], ["REQ-000003", "REQ-000001"]),
        (["--requester", "alice", "--limit", "1"], ["REQ-000003"]),
        (["--offset", "2"], ["REQ-000001"]),
        (["--state", "rejected"], []),
    ],
)
def test_list_json(
    runner: CliRunner, seeded: sessionmaker[Session], options: list[str], expected: list[str]
) -> None:
    document = _json(runner.invoke(app, ["request", "list", "--json", *options]))
    assert set(document) == {"requests", "count", "limit", "offset"}
    assert [request["number"] for request in document["requests"]] == expected
    assert document["count"] == len(expected)


def test_list_human(runner: CliRunner, seeded: sessionmaker[Session]) -> None:
    lines = _ok(runner.invoke(app, ["request", "list"])).splitlines()
    assert lines[0].split()[:4] == ["number", "state", "type", "requester"]
    assert [line.split()[0] for line in lines[1:4]] == ["REQ-000003", "REQ-000002", "REQ-000001"]
    assert lines[3].split()[:5] == [
        "REQ-000001",
        "awaiting_approval",
        "new_laptop",
        "alice",
        "manager",
    ]
    assert lines[-1] == "3 request(s)"
    assert _ok(runner.invoke(app, ["request", "list", "--state", "failed"])).strip() == (
        "no requests"
    )


@pytest.mark.parametrize("options", [["--type", "pony"], ["--state", "bogus"], ["--limit", "0"]])
def test_list_bad_filter_exits_2(
    runner: CliRunner, cli_db: sessionmaker[Session], options: list[str]
) -> None:
    result = runner.invoke(app, ["request", "list", *options])
    assert result.exit_code == 2
    assert options[0] in result.output
    assert "Traceback" not in result.output
