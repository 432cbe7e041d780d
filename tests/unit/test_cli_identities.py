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
