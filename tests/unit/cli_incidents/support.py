"""Helpers shared by the incident CLI tests: the CLI pointed at a database, a result's output
read as text or JSON, the `incident open` arguments, and cli_runs.run_and_wait replaced by a
fake."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

from serviceops.cli import runs as cli_runs
from serviceops.settings import get_settings

RUN_ID = "11111111-2222-4333-8444-555555555555"


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", url)
    get_settings.cache_clear()


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def _json(result: Result) -> Any:
    return json.loads(_ok(result))


OPEN = [
    "incident",
    "open",
    "--title",
    "VPN is down",
    "--service",
    "vpn",
    "--category",
    "network/vpn",
    "--impact",
    "high",
    "--urgency",
    "medium",
    "--reporter",
    "bob",
]


def _fake_run(
    monkeypatch: pytest.MonkeyPatch,
    outcome: cli_runs.RunOutcome,
    effect: Callable[[cli_runs.FlowCall], None] | None = None,
) -> list[cli_runs.FlowCall]:
    calls: list[cli_runs.FlowCall] = []

    def fake(call: cli_runs.FlowCall, timeout: float) -> cli_runs.RunOutcome:
        calls.append(call)
        if effect:
            effect(call)
        return outcome

    monkeypatch.setattr(cli_runs, "run_and_wait", fake)
    return calls


COMPLETED = cli_runs.RunOutcome(RUN_ID, "COMPLETED", "Completed", "", final=True)
