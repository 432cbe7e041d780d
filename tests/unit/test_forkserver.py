"""A run that serve starts comes from the fork server, with the flows already imported, and
runs to completion against a real Prefect server."""

import json
import multiprocessing.context
import os
import sys
from pathlib import Path

import prefect.flow_engine
import pytest
from prefect import flow
from prefect.flow_engine import run_flow_in_subprocess

from deployments.forkserver import fork_runs_from_a_warm_process


@flow(name="where-am-i")
def where_am_i(report: str) -> None:
    """Writes what the run's process knows of its start, for the test to read."""
    Path(report).write_text(
        json.dumps({"parent": os.getppid(), "preloaded": "deployments.definitions" in sys.modules})
    )


def test_a_run_forks_from_the_warm_fork_server_and_completes(
    prefect_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefect.flow_engine, "multiprocessing", prefect.flow_engine.multiprocessing)
    fork_runs_from_a_warm_process()
    report = tmp_path / "report.json"

    process = run_flow_in_subprocess(where_am_i, parameters={"report": str(report)})
    process.join(timeout=120)

    assert isinstance(process, multiprocessing.context.ForkServerProcess)
    assert process.exitcode == 0
    seen = json.loads(report.read_text())
    assert seen["parent"] != os.getpid()  # the fork server's child, not a child of serve
    assert seen["preloaded"] is True  # the flows were imported before the run began
