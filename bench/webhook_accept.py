"""The webhook accept path: verify the signature, validate, record, 202; the gateway's starter
then creates the fulfil-request run off the request path.

The gateway (uvicorn serving `create_app`, its own process, 127.0.0.1 on a port the OS picks,
SQLite) talks to a real Prefect server this benchmark starts on a free port, so the
create_flow_run after each accept is the real call, on the same two cores. A separate
client process (this one) sends signed webhooks, each a new request with its own
Idempotency-Key, on a fixed schedule: latency is measured from the moment a request was due
to be sent, so a client or server that falls behind shows up as latency, not as a lower rate.

(a) p50 and p99 at a paced 50 requests/s for 20 s. Goal: p99 under 50 ms.
(b) the highest sustained rate: the offered rate doubles from 100 requests/s, 10 s a step,
    until p99 exceeds 50 ms or a request fails; the last rate that held is printed.
(c) webhook to fulfil-request RUNNING (the run's start time), p50 and p95 over 20 requests,
    with `python -m deployments.serve` executing the runs (PREFECT_RUNNER_POLL_FREQUENCY=1);
    the run id is read from a repeat delivery, which answers with it once it is known.
(d) where the time of one request goes: its steps one after the other in this process
    (record, open a Prefect client, read the deployment, create the run, note it), p50 of 20;
    only "record" is before the 202.
(e) the accept path with no Prefect call in it (a second gateway without PREFECT_API_URL: it
    records, answers 202 with flow_run_id null and leaves the start to the upkeep), paced
    50/s for 10 s: the floor, to compare (a) with.
(f) the same paced 50/s for 10 s against make up's own processes (bench/stack_run.py), serve
    executing the fulfil-request runs as they come: the case as a user runs it.

(c) runs first, while `serve` is up; then `serve` stops and (a) and (b) run against the
deployment with no runner, so their thousands of runs stay Scheduled instead of being
executed on the same two cores. The server's late-runs service is off for the same reason:
with no runner every run would turn Late 15 s later, and marking thousands of them Late is an
artefact of the benchmark, not of the accept path. Every process started here is stopped on
the way out, also on error or Ctrl-C."""

import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.accept_phases import accept_phases
from bench.child_processes import (
    answers,
    child_process,
    free_port,
    fulfil_request_id,
    gateway_child,
    runs_in_flight,
    wait_for,
)
from bench.databases import sqlite_database
from bench.process_cpu import ProcessPeak
from bench.stack_run import SECRET, SOURCE, running_stack
from serviceops.gateway.signatures import sign_serviceops
from serviceops.prefect_rest import call

GOAL_P99_S = 0.050
PACED_RATE, PACED_S, RECORD_ONLY_S, SERVED_S = 50, 20, 10, 10
STEP_RATES, STEP_S = (100, 200, 400, 800, 1600), 10
RUNNING_SAMPLES = 20
PREFECT_SERVER = [sys.executable, "-m", "prefect", "server", "start"]
MAX_IN_FLIGHT = 256  # the client's connection pool: beyond it requests queue (and count late)
REQUEST_TIMEOUT_S = 10
BODY = (
    b'{"requester": "bench", "details": {"type": "new_laptop", "model": "standard", '
    b'"cost": "999", "justification": "benchmark", "deliver_to": "bench"}}'
)


def _body(key: str) -> bytes:
    """BODY with the delivery's key as its payload id: a signed body sent twice within the
    signature window is a replay, answered and recorded once, so each delivery differs."""
    return BODY[:1] + f'"id": "{key}", '.encode() + BODY[1:]


STARTED_STATES = {"RUNNING", "PAUSED", "COMPLETED", "FAILED", "CANCELLING", "CANCELLED"}


# --------------------------------------------------------------------------- load


def _delivery(key: str) -> dict[str, Any]:
    """The body and signed headers of the delivery with Idempotency-Key `key`."""
    timestamp, body = str(int(time.time())), _body(key)
    headers = {
        "Content-Type": "application/json",
        "X-ServiceOps-Source": SOURCE,
        "X-ServiceOps-Timestamp": timestamp,
        "X-ServiceOps-Signature": sign_serviceops(SECRET, timestamp, body),
        "Idempotency-Key": key,
    }
    return {"content": body, "headers": headers}


@dataclass(frozen=True)
class Step:
    rate: int
    sent: int
    errors: int
    latencies: list[float]
    elapsed: float  # from the first request's slot to the last answer

    @property
    def served(self) -> float:
        """Accepted requests a second over the whole step, the drain after it included."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def held(self) -> bool:
        return self.errors == 0 and self.percentile(0.99) <= GOAL_P99_S


async def _paced(base: str, rate: int, seconds: float, label: str) -> Step:
    """`rate` requests a second for `seconds`, each due at its slot whatever came before."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(due - time.perf_counter())
            try:
                response = await http.post("/webhooks/requests", **_delivery(f"{label}-{i}"))
            except httpx.HTTPError:
                errors += 1
                return
            if response.status_code != 202:
                errors += 1
                return
            latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start
    return Step(rate, total, errors, latencies, elapsed)


def _to_running(base: str, api_url: str) -> tuple[list[float], list[str]]:
    """Webhook sent -> the run's start time (it entered RUNNING), one request at a time; and
    what went wrong with the requests whose run never started."""
    samples: list[float] = []
    problems: list[str] = []
    with (
        httpx.Client(base_url=base, timeout=30) as gateway,
        httpx.Client(base_url=api_url, timeout=30) as api,
    ):
        for i in range(RUNNING_SAMPLES + 1):  # the first one warms the runner up: not counted
            sent = time.time()
            answer = gateway.post("/webhooks/requests", **_delivery(f"running-{i}"))
            run_id = _run_of(gateway, i) if answer.status_code == 202 else None
            if run_id is None:
                problems.append(f"HTTP {answer.status_code} {answer.text[:80]}")
                continue
            deadline = time.monotonic() + 60
            while True:
                run = call(api, "GET", f"/flow_runs/{run_id}").json()
                if run["state_type"] in STARTED_STATES and run["start_time"]:
                    if i > 0:
                        started = datetime.fromisoformat(run["start_time"]).timestamp()
                        samples.append(started - sent)
                    break
                if run["state_type"] == "CRASHED" or time.monotonic() > deadline:
                    problems.append(f"run {run['state_name']}")
                    break
                time.sleep(0.05)
    return samples, problems


def _run_of(gateway: httpx.Client, i: int, timeout: float = 30) -> str | None:
    """The run the gateway starts after its 202: a repeat delivery answers with its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        repeat = gateway.post("/webhooks/requests", **_delivery(f"running-{i}"))
        if repeat.status_code == 202 and repeat.json().get("flow_run_id"):
            return str(repeat.json()["flow_run_id"])
        time.sleep(0.02)
    return None


# --------------------------------------------------------------------------- the run


def _env(state: Path, api_url: str, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(state / "prefect"),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "SERVICEOPS_STATE_DIR": str(state / "serviceops"),
            "SERVICEOPS_DATABASE_URL": database_url,
            "SERVICEOPS_WEBHOOK_SECRETS": f"{SOURCE}={SECRET}",
        }
    )
    return env


@dataclass(frozen=True)
class Figures:
    paced: Step
    steps: list[Step]
    running: list[float]
    never_started: list[str]
    phases: dict[str, list[float]]
    record_only: Step
    served: Step
    served_peak: int


def _warm_up(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:  # one at a time: no backlog
        for i in range(5):
            http.post("/webhooks/requests", **_delivery(f"warm-{i}"))


def measure() -> Figures:
    with ExitStack() as stack:
        state = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database_url = stack.enter_context(sqlite_database())
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        env = _env(state, api_url, database_url)
        server_log = state / "prefect-server.log"
        server = stack.enter_context(
            child_process(
                [*PREFECT_SERVER, "--host", "127.0.0.1", "--port", str(port)],
                env,
                server_log,
            )
        )
        no_prefect = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
        no_prefect["PREFECT_HOME"] = str(state / "no-prefect")  # no profile to find a URL in
        lone_log = state / "gateway-no-prefect.log"
        lone_base, lone = stack.enter_context(gateway_child(no_prefect, lone_log))
        wait_for("prefect server", lambda: answers(f"{api_url}/health"), server, server_log, 120)
        gateway_log = state / "gateway.log"
        base, gateway = stack.enter_context(gateway_child(env, gateway_log))
        wait_for("gateway", lambda: answers(f"{base}/healthz"), gateway, gateway_log, 60)
        wait_for("gateway", lambda: answers(f"{lone_base}/healthz"), lone, lone_log, 60)

        # (c) with a runner: serve registers fulfil-request and executes its runs.
        serve_log = state / "serve.log"
        with child_process([sys.executable, "-m", "deployments.serve"], env, serve_log) as serve:
            wait_for("serve", lambda: fulfil_request_id(api_url), serve, serve_log, 120)
            running = _to_running(base, api_url)
            deadline = time.monotonic() + 30
            while runs_in_flight(api_url) and time.monotonic() < deadline:
                time.sleep(0.5)
        # serve paused its deployments on the way out; fulfil-request takes runs again.
        deployment = fulfil_request_id(api_url)
        with httpx.Client(base_url=api_url, timeout=10) as api:
            call(api, "POST", f"/deployments/{deployment}/resume_deployment")

        phases = accept_phases(api_url, database_url, BODY, RUNNING_SAMPLES)
        _warm_up(base)
        paced = asyncio.run(_paced(base, PACED_RATE, PACED_S, "paced"))
        steps: list[Step] = []
        if paced.held:
            for rate in STEP_RATES:
                steps.append(asyncio.run(_paced(base, rate, STEP_S, f"step-{rate}")))
                if not steps[-1].held:
                    break
        if paced.errors or any(step.errors for step in steps):
            time.sleep(5)  # requests the client gave up on may still hold the database
        _warm_up(lone_base)
        record_only = asyncio.run(_paced(lone_base, PACED_RATE, RECORD_ONLY_S, "record-only"))
    served, peak = _as_a_user_runs_it()
    return Figures(paced, steps, *running, phases, record_only, served, peak)


def _as_a_user_runs_it() -> tuple[Step, int]:
    """(f): make up's processes, serve executing every fulfil-request run as it comes."""
    with running_stack() as stack:
        _warm_up(stack.gateway_url)
        with ProcessPeak([stack.pid("serve"), stack.pid("routine")]) as peak:
            step = asyncio.run(_paced(stack.gateway_url, PACED_RATE, SERVED_S, "served"))
    return step, peak.peak


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def _median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def main() -> None:
    figures = measure()
    paced, steps, running = figures.paced, figures.steps, figures.running
    print("webhook accept: signature, validation, record (SQLite), 202; run created after")
    verdict = "ok" if paced.held else "OVER GOAL"
    print(
        f"  (a) paced {PACED_RATE}/s for {PACED_S} s  p50 {_ms(paced.percentile(0.5))}  "
        f"p99 {_ms(paced.percentile(0.99))}  ({paced.sent} sent, {paced.errors} errors, "
        f"{paced.served:.0f}/s answered 202; goal p99 < {GOAL_P99_S * 1000:.0f} ms at "
        f"{PACED_RATE}/s: {verdict})"
    )
    for step in steps:
        mark = "held" if step.held else "not held"
        print(
            f"  (b) step {step.rate:>5}/s for {STEP_S} s  p50 {_ms(step.percentile(0.5))}  "
            f"p99 {_ms(step.percentile(0.99))}  ({step.sent} sent, {step.errors} errors, "
            f"{step.served:.0f}/s answered 202: {mark})"
        )
    held = [step.rate for step in steps if step.held]
    best = max(held, default=PACED_RATE if paced.held else None)
    alone = sum(_median(spent) for spent in figures.phases.values())
    if best is None and alone > GOAL_P99_S:
        shown = f"none: one accept alone takes {alone * 1000:.0f} ms (d), over 50 ms at any rate"
    elif best is None:
        shown = f"below {PACED_RATE}/s"
    else:
        shown = f"{best}/s" + (" (the highest step tried)" if steps and steps[-1].held else "")
    print(f"  (b) highest sustained rate  {shown} (held: p99 <= 50 ms, no errors)")
    if running:
        p50 = statistics.median(running)
        p95 = sorted(running)[min(len(running) - 1, round(0.95 * (len(running) - 1)))]
        print(
            f"  (c) webhook -> run RUNNING  p50 {p50:6.2f} s  p95 {p95:6.2f} s  "
            f"({len(running)} runs; served, poll 1 s)"
        )
    else:
        print("  (c) webhook -> run RUNNING  no run started")
    if figures.never_started:
        print(f"  (c) never started: {'; '.join(figures.never_started)}")
    parts = "  ".join(
        f"{name} {_median(spent) * 1000:.1f}" for name, spent in figures.phases.items()
    )
    print(f"  (d) one accept, step by step, p50 ms: {parts}  (sum {alone * 1000:.1f} ms)")
    lone = figures.record_only
    print(
        f"  (e) no Prefect call in the path, paced {PACED_RATE}/s for {RECORD_ONLY_S} s  "
        f"p50 {_ms(lone.percentile(0.5))}  p99 {_ms(lone.percentile(0.99))}  "
        f"({lone.sent} sent, {lone.errors} errors; p99 < 50 ms: {'yes' if lone.held else 'no'})"
    )
    served = figures.served
    print(
        f"  (f) make up's stack, serve running the runs, paced {PACED_RATE}/s for {SERVED_S} s  "
        f"p50 {_ms(served.percentile(0.5))}  p99 {_ms(served.percentile(0.99))}  "
        f"({served.sent} sent, {served.errors} errors; peak flow-run processes "
        f"{figures.served_peak}; p99 < 50 ms: {'yes' if served.held else 'no'})"
    )


if __name__ == "__main__":
    main()
