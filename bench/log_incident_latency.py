"""log-incident through a served deployment, trigger to COMPLETED, over 20 runs.

Beside it, the same work done by the domain and the store alone (no Prefect): the ratio is
what Prefect adds (scheduling hop, run/task state API calls, block loads). Goal: p50 <= 3 s
with PREFECT_RUNNER_POLL_FREQUENCY=1.
"""

import os
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.databases import sqlite_database
from serviceops.domain.incident import IncidentDraft, IncidentPolicy
from serviceops.domain.incident import steps as incident_steps
from serviceops.domain.incident.buttons import step_buttons
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.prefect_rest import call
from serviceops.settings import Settings
from serviceops.stack import Stack
from serviceops.store.audit import AuditRepository
from serviceops.store.db import sessions_for
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import KnownErrorRepository

RUNS = 20
DRAFT = {
    "title": "Benchmark incident",
    "service": "shop",  # one of the default catalogue's items: the form offers only those
    "category": "software",
    "impact": "medium",
    "urgency": "medium",
    "reporter": "bench",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def through_prefect(api_url: str, runs: int = RUNS) -> list[float]:
    samples = []
    with httpx.Client(base_url=api_url, timeout=10) as api:
        deployment = call(api, "GET", "/deployments/name/log-incident/log-incident")
        create = f"/deployments/{deployment.json()['id']}/create_flow_run"
        for _ in range(runs):
            started = time.perf_counter()
            run = call(api, "POST", create, json={"parameters": {"incident": DRAFT}})
            while True:
                state = call(api, "GET", f"/flow_runs/{run.json()['id']}").json()["state"]
                if state["type"] == "COMPLETED":
                    break
                if state["type"] in {"FAILED", "CRASHED", "CANCELLED"}:
                    raise RuntimeError(f"log-incident run ended {state}")
                time.sleep(0.05)
            samples.append(time.perf_counter() - started)
    return samples


def domain_and_store_alone(url: str) -> list[float]:
    """The steps of log-incident, each in its own transaction as the tasks do, minus Prefect."""
    sessions = sessions_for(url)
    policy = IncidentPolicy()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        draft = IncidentDraft.model_validate(DRAFT)
        with sessions.begin() as session:
            incident = IncidentRepository(session).add(draft, datetime.now(UTC))
            AuditRepository(session).add(incident_steps.logged(incident))
        number = incident.number
        with sessions.begin() as session:
            known = KnownErrorRepository(session).candidates(incident.service)
        steps = (
            lambda i: incident_steps.categorize(i, policy, datetime.now(UTC)),
            lambda i: incident_steps.prioritize(i, policy, datetime.now(UTC)),
            lambda i, known=known: incident_steps.diagnose(i, known, datetime.now(UTC)),
            lambda i: incident_steps.assign(i, policy, datetime.now(UTC)),
            lambda i: incident_steps.start_slas(i, policy, datetime.now(UTC)),
        )
        for step in steps:
            with sessions.begin() as session:
                repository = IncidentRepository(session)
                change = step(repository.get(number, for_update=True))
                incident = repository.save(change.incident)
                AuditRepository(session).add(change.audit)
        with sessions.begin() as session:
            Outbox(session).post(
                key=f"{number}:logged",
                channel="#service-desk",
                message=render_message(
                    "incident_logged", incident=incident, buttons=step_buttons(incident)
                ),
                record=number,
                at=datetime.now(UTC),
            )
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "1")
    with tempfile.TemporaryDirectory() as state:
        settings = Settings(
            state_dir=Path(state),
            prefect_port=_free_port(),
            gateway_port=_free_port(),
            slack_token=None,
        )
        stack = Stack(settings)
        try:
            stack.up()
            through_prefect(settings.prefect_api_url, runs=1)  # warm-up: first imports, caches
            served = through_prefect(settings.prefect_api_url)
        finally:
            stack.down()
    with sqlite_database() as url:
        alone = domain_and_store_alone(url)
    served_p50, served_p95 = _percentiles(served)
    alone_p50, alone_p95 = _percentiles(alone)
    verdict = "ok" if served_p50 <= 3 else "OVER GOAL"
    poll = os.environ["PREFECT_RUNNER_POLL_FREQUENCY"]
    print(f"log-incident, {RUNS} runs, SQLite, PREFECT_RUNNER_POLL_FREQUENCY={poll}")
    served_line = f"  served deployment  p50 {served_p50:6.2f} s  p95 {served_p95:6.2f} s"
    print(f"{served_line}  (goal p50 <= 3 s: {verdict})")
    print(f"  domain+store alone p50 {alone_p50 * 1000:6.1f} ms p95 {alone_p95 * 1000:6.1f} ms")
    print(f"  Prefect adds x{served_p50 / alone_p50:,.0f} at p50")


if __name__ == "__main__":
    main()
