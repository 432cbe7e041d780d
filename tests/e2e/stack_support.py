"""What the stack tests share: running a deployment and waiting for its run through Prefect's
REST API, and a signed storm delivery."""

import json
import time
from datetime import UTC, datetime

import httpx

from serviceops.gateway.signatures import sign_serviceops
from serviceops.prefect_rest import call
from tests.e2e.conftest import WEBHOOK_SECRET, RunningStack

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def run_deployment(stack: RunningStack, name: str, parameters: dict) -> dict:
    """create_flow_run from the deployment over REST, polled until it is final."""
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        deployment = call(api, "GET", f"/deployments/name/{name}/{name}").json()
        run = call(
            api,
            "POST",
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": parameters},
        )
        run_id = run.json()["id"]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = call(api, "GET", f"/flow_runs/{run_id}").json()["state"]
            if state["type"] in FINAL:
                return state
            time.sleep(0.5)
    raise AssertionError(f"{name} run {run_id} did not finish in 90 s")


def wait_for_run(stack: RunningStack, run_id: str, types: set[str]) -> str:
    with httpx.Client(base_url=stack.api_url, timeout=10) as api:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = call(api, "GET", f"/flow_runs/{run_id}").json()["state"]["type"]
            if state in types:
                return state
            time.sleep(0.5)
    raise AssertionError(f"run {run_id} never reached {types}")


def storm_delivery(i: int, batch: int) -> dict[str, object]:
    events = [
        {
            "source": "storm",
            "service": f"storm-{n % 10}",
            "check": f"Check{n % 7}",
            "severity": "warning",
            "summary": f"condition {n % 7}",
            "details": {"seq": n},
        }
        for n in range(i * batch, (i + 1) * batch)
    ]
    body = json.dumps({"events": events}).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-ServiceOps-Source": "portal",
        "X-ServiceOps-Timestamp": timestamp,
        "X-ServiceOps-Signature": sign_serviceops(WEBHOOK_SECRET, timestamp, body),
    }
    return {"content": body, "headers": headers}


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()
