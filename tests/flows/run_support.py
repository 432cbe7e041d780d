"""Waiting for a flow run of a served deployment to reach a state."""

import time

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def wait(run_id: str, types: set[str], timeout: float = 60) -> FlowRun:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if run.state is not None and run.state.type.value in types:
                return run
            time.sleep(0.3)
    raise AssertionError(f"run {run_id} not in {types} after {timeout} s: {run.state}")
