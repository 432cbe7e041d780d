"""POST /webhooks/alertmanager and /webhooks/events: Alertmanager's own payloads (firing,
resolved, grouped), the generic format, the bad ones (no token, wrong token, malformed,
oversize), all-or-nothing deliveries, and the hand-over to process-events (one run per slot,
on a real Prefect server). Both database backends; in process and over a real socket."""

import asyncio
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.states import Running
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_pending
from serviceops.domain.event import EventPolicy
from serviceops.gateway import events as gateway_events
from serviceops.gateway.app import create_app
from serviceops.gateway.event_runs import ProcessingKicker, slot_of
from serviceops.settings import Settings
from serviceops.store.db import make_engine
from serviceops.store.event import AlertRepository, EventRepository
from tests.unit.gateway_support import closed_port_url, serve, webhook_headers

AM_TOKEN = "am-t0ken"
AM_AUTH = {"Authorization": f"Bearer {AM_TOKEN}"}
SECRET = "monitor-secret"
MIB = 1024 * 1024


def am_alert(name: str = "HighLatency", status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": name,
            "severity": "critical",
            "job": "mail",
            "instance": "mx-1:9100",
        }
        | labels,
        "annotations": {"summary": f"{name} on mx-1", "description": "p99 over 2 s"},
        "startsAt": "2026-11-26T08:59:00.123456789Z",
        "endsAt": "2026-11-26T09:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": f"{abs(hash((name, tuple(sorted(labels.items()))))):016x}",
    }


def am_payload(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    """What Alertmanager 0.27 posts (copied field for field from its webhook docs)."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighLatency"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "serviceops",
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"job": "mail"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        alertmanager_token=SecretStr(AM_TOKEN),
        webhook_secrets={"nagios": [SecretStr(SECRET)]},
    )


@pytest.fixture
def app(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(
        settings(tmp_path, database_url), sessions=sessions, prefect_api_url=closed_port_url()
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def events(sessions: sessionmaker[Session]) -> list[Any]:
    with sessions.begin() as session:
        return list(reversed(EventRepository(session).list(limit=1000)))


def post_generic(
    client: TestClient | httpx.Client, document: Any, **headers: str
) -> httpx.Response:
    body = json.dumps(document).encode()
    signed = webhook_headers(body, SECRET, source="nagios") | headers
    return client.post("/webhooks/events", content=body, headers=signed)


def errors(response: httpx.Response) -> list[tuple[list[Any], str]]:
    return [(error["loc"], error["msg"]) for error in response.json()["detail"]]


# --------------------------------------------------------------------------- alertmanager


def test_alertmanager_group_is_recorded_one_event_per_alert(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    payload = am_payload(am_alert(), am_alert("DiskFull", severity="warning"))
    response = client.post("/webhooks/alertmanager", json=payload, headers=AM_AUTH)
    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    first, second = events(sessions)
    assert response.json()["events"] == [first.number, second.number]
    assert (first.source, first.check, first.service, first.ci) == (
        "alertmanager",
        "HighLatency",
        "mail",
        "mx-1:9100",
    )
    assert (first.severity.value, second.severity.value) == ("critical", "warning")
    assert first.summary == "HighLatency on mx-1"
    assert first.dedup_key == f"alertmanager:{payload['alerts'][0]['fingerprint']}"
    assert first.details["labels"]["instance"] == "mx-1:9100"
    assert first.occurred_at is not None and first.occurred_at.minute == 59


def test_alertmanager_resolved_resolves_what_firing_opened(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    firing, resolved = am_alert(), am_alert(status="resolved")
    client.post("/webhooks/alertmanager", json=am_payload(firing), headers=AM_AUTH)
    client.post(
        "/webhooks/alertmanager", json=am_payload(resolved, status="resolved"), headers=AM_AUTH
    )
    correlate_pending(sessions, EventPolicy(), lambda: events(sessions)[-1].received_at)
    with sessions.begin() as session:
        (alert,) = AlertRepository(session).list()
    assert alert.state.value == "resolved" and alert.event_count == 2
    assert events(sessions)[-1].occurred_at.hour == 9  # endsAt, not startsAt


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": AM_TOKEN}, 401)],
    ids=["no-token", "wrong-token", "not-bearer"],
)
def test_alertmanager_without_the_right_token_is_refused(
    client: TestClient, sessions: sessionmaker[Session], headers: dict[str, str], status: int
) -> None:
    response = client.post("/webhooks/alertmanager", json=am_payload(am_alert()), headers=headers)
    assert response.status_code == status
    assert events(sessions) == []


def test_alertmanager_unconfigured_is_503(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    bare = Settings(state_dir=tmp_path / "bare", database_url=database_url)
    with TestClient(create_app(bare, sessions=sessions)) as client:
        response = client.post(
            "/webhooks/alertmanager", json=am_payload(am_alert()), headers=AM_AUTH
        )
    assert response.status_code == 503
    assert "SERVICEOPS_ALERTMANAGER_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        (b"{not json", ["body"]),
        (json.dumps(am_payload(am_alert()) | {"version": "3"}).encode(), ["body", "version"]),
        (json.dumps(am_payload()).encode(), ["body", "alerts"]),
        (
            json.dumps(am_payload(am_alert(), {"status": "firing"})).encode(),
            ["body", "alerts", 1, "labels"],
        ),
        (
            json.dumps(am_payload(am_alert(), am_alert(status="burning"))).encode(),
            ["body", "alerts", 1, "status"],
        ),
        (
            json.dumps(am_payload(am_alert() | {"startsAt": "2026-11-26T08:59:00"})).encode(),
            ["body", "alerts", 0, "startsAt"],
        ),
    ],
    ids=["malformed", "version", "no-alerts", "no-labels", "bad-status", "no-time-zone"],
)
def test_malformed_alertmanager_payload_is_422_naming_the_field_and_records_nothing(
    client: TestClient, sessions: sessionmaker[Session], payload: bytes, loc: list[Any]
) -> None:
    response = client.post("/webhooks/alertmanager", content=payload, headers=AM_AUTH)
    assert response.status_code == 422
    assert loc in [error_loc for error_loc, _ in errors(response)]
    assert events(sessions) == []


def test_alertmanager_alert_without_a_service_or_ci_label_is_422(client: TestClient) -> None:
    orphan = am_alert()
    orphan["labels"] = {"alertname": "Orphan"}
    response = client.post(
        "/webhooks/alertmanager", json=am_payload(am_alert(), orphan), headers=AM_AUTH
    )
    assert response.status_code == 422
    assert errors(response)[0][0] == ["body", "alerts", 1, "labels"]


def test_oversize_is_413_before_reading(client: TestClient) -> None:
    big = b"{" + b" " * MIB + b"}"
    response = client.post("/webhooks/alertmanager", content=big, headers=AM_AUTH)
    assert response.status_code == 413
    body = json.dumps({"events": [{"check": "x", "service": "s", "summary": "y" * 400}] * 3000})
    assert post_generic(client, json.loads(body)).status_code == 413


# --------------------------------------------------------------------------- generic events


def test_generic_event_single_and_batch(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    one = {
        "service": "web",
        "check": "http",
        "severity": "error",
        "summary": "500s",
        "details": {"rate": 0.25},
        "dedup_key": "web-http",
        "status": "firing",
    }
    assert post_generic(client, one).json()["accepted"] == 1
    batch = {
        "events": [
            one | {"status": "resolved"},
            {"ci": "db-1", "check": "disk", "summary": "92 % used", "source": "zabbix"},
        ]
    }
    assert post_generic(client, batch).json()["accepted"] == 2
    first, second, third = events(sessions)
    assert (first.source, first.details, first.fingerprint) == (
        "nagios",
        {"rate": 0.25},
        "web-http",
    )
    assert second.status.value == "resolved" and third.source == "zabbix"


def test_generic_event_errors_name_the_field_and_record_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    good = {"service": "web", "check": "http", "summary": "500s"}
    response = post_generic(client, {"events": [good, good | {"severity": "apocalyptic"}]})
    assert response.status_code == 422
    assert errors(response)[0][0] == ["body", "events", 1, "severity"]
    response = post_generic(client, {"check": "http", "summary": "no resource"})
    assert response.status_code == 422 and "service or a ci" in errors(response)[0][1]
    assert post_generic(client, {"events": []}).status_code == 422
    nul = post_generic(client, good | {"summary": "a\u0000b"})
    assert nul.status_code == 422 and errors(nul)[0][0] == ["body", "summary"]
    assert events(sessions) == []


def test_generic_events_need_a_valid_signature(client: TestClient) -> None:
    body = json.dumps({"service": "web", "check": "http", "summary": "x"}).encode()
    wrong = webhook_headers(body, "not-the-secret", source="nagios")
    assert client.post("/webhooks/events", content=body, headers=wrong).status_code == 401
    unknown = webhook_headers(body, SECRET, source="nobody")
    assert client.post("/webhooks/events", content=body, headers=unknown).status_code == 401
    stale = webhook_headers(body, SECRET, source="nagios", at=time.time() - 600)
    assert client.post("/webhooks/events", content=body, headers=stale).status_code == 401


def test_a_repeated_delivery_key_records_once(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    event = {"service": "web", "check": "http", "summary": "500s"}
    first = post_generic(client, event, **{"Idempotency-Key": "delivery-1"})
    again = post_generic(client, event, **{"Idempotency-Key": "delivery-1"})
    assert again.status_code == 202 and again.json() == first.json()
    assert len(events(sessions)) == 1


def test_a_database_locked_past_the_patience_is_503_and_the_resend_records(
    tmp_path: Path, migrated_sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite only (PostgreSQL's writers do not exclude each other): a writer that holds the
    lock longer than intake waits gets a 503 to retry, with nothing recorded or claimed, so
    the sender's resend of the same delivery is recorded once."""
    path = tmp_path / "serviceops.db"
    shutil.copyfile(migrated_sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setattr(gateway_events, "WRITE_PATIENCE_S", 0.2)
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    app = create_app(settings(tmp_path, url), sessions=sessions, prefect_api_url=closed_port_url())
    event = {"service": "web", "check": "http", "summary": "500s"}
    with TestClient(app) as client, closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        busy = post_generic(client, event, **{"Idempotency-Key": "delivery-1"})
        other.execute("ROLLBACK")
        again = post_generic(client, event, **{"Idempotency-Key": "delivery-1"})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert "nothing was recorded" in busy.json()["detail"]
    assert again.status_code == 202 and again.json()["accepted"] == 1
    assert len(events(sessions)) == 1
    engine.dispose()


def test_twenty_concurrent_duplicates_over_a_socket_give_one_alert(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    payload = am_payload(am_alert())
    with (
        serve(app) as base,
        httpx.Client(base_url=base, timeout=30) as http,
        ThreadPoolExecutor(20) as pool,
    ):
        answers = list(
            pool.map(
                lambda _: http.post("/webhooks/alertmanager", json=payload, headers=AM_AUTH),
                range(20),
            )
        )
    assert [a.status_code for a in answers] == [202] * 20
    correlate_pending(sessions, EventPolicy(), lambda: events(sessions)[-1].received_at)
    with sessions.begin() as session:
        alerts = AlertRepository(session).list()
    assert len(alerts) == 1 and alerts[0].event_count == 20 and alerts[0].duplicate_count == 19


# --------------------------------------------------------------------------- hand-over


@flow(name="process-events")
def stand_in_process_events(watch_seconds: float = 0, max_batches: int = 100) -> None:
    """Never runs: the kicker only needs a deployment of that name."""


def _kick(prefect_server: str, times: int, slot_s: float) -> ProcessingKicker:
    async def kick_many() -> ProcessingKicker:
        kicker = ProcessingKicker(prefect_server, slot_s=slot_s)
        for _ in range(times):
            kicker.kick()
            await asyncio.sleep(0.01)
        await kicker.drain()
        return kicker

    return asyncio.run(kick_many())


def _runs_of(deployment_id: UUID) -> list[FlowRun]:
    with get_client(sync_client=True) as prefect:
        return prefect.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )


def _delete_runs(deployment_id: UUID) -> None:
    with get_client(sync_client=True) as prefect:
        for run in _runs_of(deployment_id):
            prefect.delete_flow_run(run.id)


def test_with_no_watcher_thirty_kicks_request_one_run(prefect_server: str) -> None:
    """Kicks a few milliseconds apart over slots of 0.1 s: the first finds nobody watching
    and requests a run due now, keyed by its slot; every later check finds that run due and
    requests nothing, however many slots the kicks spanned."""
    deployment_id = stand_in_process_events.to_deployment(name="process-events").apply()
    _delete_runs(deployment_id)
    first = slot_of(time.time(), 0.1)
    kicker = _kick(prefect_server, 30, slot_s=0.1)
    last = slot_of(time.time(), 0.1)
    runs = _runs_of(deployment_id)
    _delete_runs(deployment_id)
    assert kicker.checks >= 2, "the kicks spanned several slots, each checked"
    assert kicker.runs_requested == 1 and len(runs) == 1
    (run,) = runs
    assert run.state is not None and run.state.is_scheduled()
    slot = int((run.idempotency_key or "").removeprefix("process-events-"))
    assert first <= slot <= last


def test_a_running_watch_means_no_run_is_requested(prefect_server: str) -> None:
    deployment_id = stand_in_process_events.to_deployment(name="process-events").apply()
    _delete_runs(deployment_id)
    with get_client(sync_client=True) as prefect:
        watching = prefect.create_flow_run_from_deployment(deployment_id)
        prefect.set_flow_run_state(watching.id, Running(), force=True)
    kicker = _kick(prefect_server, 10, slot_s=0.1)
    runs = _runs_of(deployment_id)
    _delete_runs(deployment_id)
    assert kicker.checks >= 1 and kicker.runs_requested == 0
    assert [run.id for run in runs] == [watching.id]


def test_prefect_down_still_records(client: TestClient, sessions: sessionmaker[Session]) -> None:
    response = client.post("/webhooks/alertmanager", json=am_payload(am_alert()), headers=AM_AUTH)
    assert response.status_code == 202 and len(events(sessions)) == 1
