"""Helpers every CLI test shares: a result's output read as text or JSON, a usage error read
as its one line, and cli_runs.run_and_wait replaced by a fake that answers an outcome."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import Result

from serviceops.cli import runs as cli_runs

RUN_ID = "11111111-2222-4333-8444-555555555555"
COMPLETED = cli_runs.RunOutcome(RUN_ID, "COMPLETED", "Completed", "", final=True)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def _json(result: Result) -> Any:
    return json.loads(_ok(result))


def _failed(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line
    return line


def _fake_run(
    monkeypatch: pytest.MonkeyPatch,
    outcome: cli_runs.RunOutcome = COMPLETED,
    effect: Callable[[cli_runs.FlowCall], None] | None = None,
) -> list[cli_runs.FlowCall]:
    """run_and_wait replaced: records the call, does `effect` (what the flow would have
    written), answers `outcome`."""
    calls: list[cli_runs.FlowCall] = []

    def fake(call: cli_runs.FlowCall, timeout: float) -> cli_runs.RunOutcome:
        calls.append(call)
        if effect:
            effect(call)
        return outcome

    monkeypatch.setattr(cli_runs, "run_and_wait", fake)
    return calls
