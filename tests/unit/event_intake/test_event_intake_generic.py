"""POST /webhooks/events, the generic format: single events and batches, errors that name the
field, signatures, and all-or-nothing deliveries (a repeated key, a database locked past the
patience, twenty concurrent duplicates). Both database backends; in process and over a real
socket."""

import json
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_pending
from serviceops.domain.event import EventPolicy
from serviceops.gateway import events as gateway_events
from serviceops.gateway.app import create_app
from serviceops.store.db import make_engine
from serviceops.store.event import AlertRepository
from tests.unit.event_intake.support import (
    AM_AUTH,
    SECRET,
    am_alert,
    am_payload,
    errors,
    events,
    post_generic,
    settings,
)
from tests.unit.gateway_support import closed_port_url, serve, webhook_headers

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
