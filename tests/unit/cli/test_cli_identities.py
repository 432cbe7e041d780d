"""`serviceops identity`: the directory access management reads, on both databases."""

import json

import pytest
from typer.testing import CliRunner

from serviceops.cli import app
from serviceops.settings import get_settings


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_set_then_list(cli: CliRunner) -> None:
    made = cli.invoke(app, ["identity", "set", "rita", "--manager", "sam", "--group", "sales",
                            "--group", "support", "--json"])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["identity"]["groups"] == ["sales", "support"]
    moved = cli.invoke(app, ["identity", "set", "rita", "--status", "leaver"])
    assert moved.exit_code == 0 and "leaver" in moved.output
    listed = json.loads(cli.invoke(app, ["identity", "list", "--json"]).output)
    assert listed["count"] == 1
    assert listed["identities"][0]["status"] == "leaver"
    assert listed["identities"][0]["manager"] == "sam", "set changes only what is given"
    assert listed["identities"][0]["groups"] == ["sales", "support"]


def test_unknown_status_is_a_usage_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["identity", "set", "rita", "--status", "retired"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_slack_id_email_and_phone_are_set_shown_and_kept(cli: CliRunner) -> None:
    made = cli.invoke(app, ["identity", "set", "sam", "--slack-id", "U0123ABCD", "--email",
                            "sam@example.com", "--phone", "+4915112345678", "--json"])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["identity"] == {
        "user": "sam",
        "status": "active",
        "manager": None,
        "groups": [],
        "slack_user_id": "U0123ABCD",
        "email": "sam@example.com",
        "phone": "+4915112345678",
    }
    assert cli.invoke(app, ["identity", "set", "dana", "--manager", "sam"]).exit_code == 0
    listed = json.loads(cli.invoke(app, ["identity", "list", "--json"]).output)
    assert [(p["user"], p["slack_user_id"]) for p in listed["identities"]] == [
        ("dana", None),
        ("sam", "U0123ABCD"),
    ]
    human = cli.invoke(app, ["identity", "list"]).output.splitlines()
    assert human[1].split() == [
        "sam", "active", "manager=-", "-", "slack=U0123ABCD", "email=sam@example.com",
        "phone=+4915112345678",
    ]  # fmt: skip
    cli.invoke(app, ["identity", "set", "sam", "--group", "finance"])
    again = json.loads(cli.invoke(app, ["identity", "list", "--json"]).output)["identities"][1]
    assert (again["slack_user_id"], again["groups"]) == ("U0123ABCD", ["finance"])


def test_a_slack_id_held_by_someone_else_is_refused(cli: CliRunner) -> None:
    assert cli.invoke(app, ["identity", "set", "sam", "--slack-id", "U0SAM"]).exit_code == 0
    taken = cli.invoke(app, ["identity", "set", "kim", "--slack-id", "U0SAM"])
    assert taken.exit_code == 1
    assert taken.stderr.strip() == "error: Slack id U0SAM is sam's already"
    listed = json.loads(cli.invoke(app, ["identity", "list", "--json"]).output)
    assert [p["user"] for p in listed["identities"]] == ["sam"]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--slack-id", "sam"), ("--email", "not-an-address"), ("--phone", "call me")],
)
def test_malformed_contacts_are_usage_errors(cli: CliRunner, option: str, value: str) -> None:
    result = cli.invoke(app, ["identity", "set", "sam", option, value])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: invalid {option}:")
