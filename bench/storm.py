"""An alert storm through the real stack, beside Prometheus Alertmanager on the same machine.

serviceops runs as `make up` runs it (bench/stack_run.py: Prefect server, serve, the routine
runner, the gateway), once on SQLite and once on PostgreSQL. A paced client sends signed
deliveries of 50 events to `POST /webhooks/events`; latency is measured from the moment a
delivery was due, so a server that falls behind shows as latency, not as a lower rate.

(a) rising rates, 10 s a step (500, 1,000, 2,000 ... 32,000 events/s) until p99 exceeds
    50 ms or a delivery fails: the highest rate held. For each step, the decision lag (an
    event's arrival to its decision, from the database) p50/p99.
(b) 2,000 events/s for 60 s: accept p50/p99, lost events (accepted but not recorded or never
    decided), the decision lag p50/p99 (goal under 5 s), process-events runs and all flow runs
    created per minute, and the peak of flow-run processes under serve and the routine runner.
    Then the same for Alertmanager's own format through `POST /webhooks/alertmanager`.
(c) Alertmanager (Debian's prometheus-alertmanager, installed when missing) receiving the
    same rising rates as batches of 50 alerts on its `POST /api/v2/alerts`: its highest rate
    held, and serviceops's ratio to it.
"""

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.databases import postgres_database
from bench.process_cpu import ProcessPeak
from bench.stack_run import (
    SECRET,
    SOURCE,
    RunningStack,
    format_counts,
    free_port,
    running_stack,
    runs_created,
)
from serviceops.gateway.signatures import sign_serviceops
from serviceops.store.db import sessions_for
from serviceops.store.event.tables import EventRecord

BATCH = 50
GOAL_P99_S = 0.050
GOAL_LAG_S = 5.0
STEP_RATES = (500, 1000, 2000, 4000, 8000, 16000, 32000)  # events (or alerts) a second
STEP_S = 10
SUSTAINED_RATE, SUSTAINED_S = 2000, 60
SERVICES, CHECKS, INSTANCES = 20, 10, 50
REQUEST_TIMEOUT_S = 10
MAX_IN_FLIGHT = 256
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


@dataclass
class Step:
    rate: int
    sent: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return _percentile(self.latencies, q)

    @property
    def held(self) -> bool:
        return self.errors == 0 and self.percentile(0.99) <= GOAL_P99_S


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- payloads


def _events(i: int, label: str = "") -> list[dict[str, Any]]:
    """Delivery `i`'s events: 20 services, 10 checks, 50 instances; one in five critical."""
    events = []
    for j in range(BATCH):
        n = i * BATCH + j
        events.append(
            {
                "source": "storm",
                "service": f"svc-{n % SERVICES}",
                "check": f"Check{n % CHECKS}",
                "severity": "critical" if n % 5 == 0 else "warning",
                "summary": f"condition {n % CHECKS} on instance {n % INSTANCES}",
                "dedup_key": f"svc-{n % SERVICES}/Check{n % CHECKS}/{n % INSTANCES}",
                # no two deliveries alike: an equal signed body is a replay
                "details": {"seq": n, "run": label},
            }
        )
    return events


def _signed_events(i: int, label: str) -> dict[str, Any]:
    body = json.dumps({"events": _events(i, label)}).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-ServiceOps-Source": SOURCE,
        "X-ServiceOps-Timestamp": timestamp,
        "X-ServiceOps-Signature": sign_serviceops(SECRET, timestamp, body),
        "Idempotency-Key": f"{label}-{i}",
    }
    return {"content": body, "headers": headers}


def _alerts(i: int) -> list[dict[str, Any]]:
    starts = datetime.now(UTC).isoformat()
    return [
        {
            "labels": {
                "alertname": event["check"],
                "service": event["service"],
                "instance": f"host-{(i * BATCH + j) % INSTANCES}",
                "severity": event["severity"],
            },
            "annotations": {"summary": event["summary"]},
            "startsAt": starts,
        }
        for j, event in enumerate(_events(i))
    ]


def _alertmanager_webhook(token: str) -> Callable[[int, str], dict[str, Any]]:
    def delivery(i: int, label: str) -> dict[str, Any]:
        # As Alertmanager sends them: a fingerprint per label set, the same alerts again and
        # again while they fire.
        alerts = [a | {"status": "firing", "fingerprint": _fingerprint(a)} for a in _alerts(i)]
        payload = {
            "version": "4",
            "groupKey": f"{label}-{i}",
            "status": "firing",
            "receiver": "serviceops",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.bench",
            "truncatedAlerts": 0,
            "alerts": alerts,
        }
        return {"json": payload, "headers": {"Authorization": f"Bearer {token}"}}

    return delivery


def _fingerprint(alert: dict[str, Any]) -> str:
    labels = alert["labels"]
    return f"{labels['service']}-{labels['alertname']}-{labels['instance']}"


def _v2_alerts(i: int, label: str) -> dict[str, Any]:
    return {"json": _alerts(i)}


# --------------------------------------------------------------------------- load


async def _paced(
    base: str, path: str, delivery: Callable[[int, str], dict[str, Any]], rate: int,
    seconds: float, label: str,
) -> Step:  # fmt: skip
    """`rate` events a second as deliveries of BATCH, each due at its slot."""
    per_s = rate / BATCH
    total = int(per_s * seconds)
    step = Step(rate, total)
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
    prepared = [delivery(i, label) for i in range(total)]  # signing is the client's, not timed
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            due = start + i / per_s
            await asyncio.sleep(due - time.perf_counter())
            try:
                response = await http.post(path, **prepared[i])
            except httpx.HTTPError:
                step.errors += 1
                return
            if response.status_code not in (200, 202):
                step.errors += 1
                return
            step.latencies.append(time.perf_counter() - due)
            if response.headers.get("content-type", "").startswith("application/json"):
                answer = response.json()
                if isinstance(answer, dict):
                    step.numbers += [int(n.removeprefix("EVT-")) for n in answer.get("events", [])]

        await asyncio.gather(*(one(i) for i in range(total)))
    return step


def _decision_lags(
    database_url: str, numbers: list[int], wait_s: float = 60
) -> tuple[list[float], int]:
    """Arrival to decision of these events, once all are decided (or `wait_s` passed); and
    how many were not found or never decided."""
    sessions = sessions_for(database_url)
    wanted = set(numbers)
    deadline = time.monotonic() + wait_s
    while True:
        with sessions.begin() as session:
            rows = session.execute(
                select(EventRecord.id, EventRecord.received_at, EventRecord.processed_at).where(
                    EventRecord.id.between(min(wanted), max(wanted))
                )
            ).all()
        rows = [row for row in rows if row.id in wanted]
        decided = [row for row in rows if row.processed_at is not None]
        if len(decided) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    lags = [(row.processed_at - row.received_at).total_seconds() for row in decided]
    return lags, len(wanted) - len(decided)


# --------------------------------------------------------------------------- serviceops


def _steps(base: str, path: str, delivery: Callable[[int, str], dict[str, Any]], label: str,
           lags_from: str | None = None) -> int:  # fmt: skip
    """The rising rates; prints each step; returns the highest rate held."""
    held = 0
    for rate in STEP_RATES:
        step = asyncio.run(_paced(base, path, delivery, rate, STEP_S, f"{label}-{rate}"))
        line = (
            f"  step {rate:>5}/s  p50 {1000 * step.percentile(0.5):7.1f} ms  "
            f"p99 {1000 * step.percentile(0.99):8.1f} ms  errors {step.errors}"
        )
        if lags_from is not None and step.numbers:
            lags, missing = _decision_lags(lags_from, step.numbers)
            line += (
                f"  decided p50 {_percentile(lags, 0.5):5.2f} s p99 {_percentile(lags, 0.99):5.2f}"
                f" s  undecided {missing}"
            )
        print(line + ("  held" if step.held else "  not held"), flush=True)
        if not step.held:
            break
        held = rate
    return held


def _sustained(stack: RunningStack, path: str, delivery: Callable[[int, str], dict[str, Any]],
               label: str) -> None:  # fmt: skip
    since = datetime.now(UTC)
    with ProcessPeak([stack.pid("serve"), stack.pid("routine")]) as peak:
        step = asyncio.run(
            _paced(stack.gateway_url, path, delivery, SUSTAINED_RATE, SUSTAINED_S, label)
        )
        lags, undecided = _decision_lags(stack.database_url, step.numbers)
    until = datetime.now(UTC)
    accepted = (step.sent - step.errors) * BATCH
    recorded = len(step.numbers)
    runs = runs_created(stack.api_url, since - timedelta(seconds=5), until)
    minutes = (until - since).total_seconds() / 60
    print(
        f"  {SUSTAINED_RATE}/s for {SUSTAINED_S} s via {path}: accept p50 "
        f"{1000 * step.percentile(0.5):.1f} ms p99 {1000 * step.percentile(0.99):.1f} ms, "
        f"{step.errors} failed deliveries, {accepted - recorded} of {accepted} accepted events "
        f"not recorded, {undecided} undecided",
        flush=True,
    )
    print(
        f"    decided after arrival p50 {_percentile(lags, 0.5):.2f} s p99 "
        f"{_percentile(lags, 0.99):.2f} s (goal < {GOAL_LAG_S:.0f} s: "
        f"{'ok' if _percentile(lags, 0.99) < GOAL_LAG_S else 'no'}); flow runs per minute: "
        f"process-events {runs.get('process-events', 0) / minutes:.1f}, all "
        f"{sum(runs.values()) / minutes:.1f} ({format_counts(runs)}); "
        f"peak flow-run processes {peak.peak}",
        flush=True,
    )


def _serviceops(database: str, database_url: str | None) -> int:
    print(f"serviceops, {database}: make up's processes, POST /webhooks/events", flush=True)
    with running_stack(database_url) as stack:
        time.sleep(5)  # the first watch is running
        held = _steps(stack.gateway_url, "/webhooks/events", _signed_events, "steps",
                      lags_from=stack.database_url)  # fmt: skip
        print(f"  highest rate held: {held}/s (p99 <= 50 ms, no failures)", flush=True)
        _sustained(stack, "/webhooks/events", _signed_events, "sustained")
        _sustained(stack, "/webhooks/alertmanager",
                   _alertmanager_webhook(stack.alertmanager_token), "am")  # fmt: skip
    return held


# --------------------------------------------------------------------------- Alertmanager


def _ensure_alertmanager() -> str | None:
    if Path(ALERTMANAGER).exists():
        return ALERTMANAGER
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                     "prometheus-alertmanager"]):  # fmt: skip
        if subprocess.run(command, capture_output=True, check=False).returncode != 0:
            return None
    return ALERTMANAGER if Path(ALERTMANAGER).exists() else shutil.which("prometheus-alertmanager")


@contextmanager
def _alertmanager(binary: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="alertmanager-bench-") as folder:
        config = Path(folder) / "alertmanager.yml"
        config.write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n")
        port = free_port()
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.path={folder}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(10)


def main() -> None:
    print("alert storm: deliveries of 50, 10 s a step; goal 2,000 events/s, p99 accept < 50 ms")
    held = {"SQLite": _serviceops("SQLite", None)}
    with postgres_database() as url:
        held["PostgreSQL"] = _serviceops("PostgreSQL", url)
    binary = _ensure_alertmanager()
    if binary is None:
        print("Alertmanager: not installed and could not be installed; no comparison")
        return
    print("Alertmanager (Debian's package): POST /api/v2/alerts, batches of 50")
    with _alertmanager(binary) as url:
        am = _steps(url, "/api/v2/alerts", _v2_alerts, "am")
    print(f"  highest rate held: {am}/s")
    for database, rate in held.items():
        ratio = rate / am if am else float("nan")
        print(f"serviceops on {database} / Alertmanager: {rate}/s / {am}/s = {ratio:.2f}")


if __name__ == "__main__":
    main()
