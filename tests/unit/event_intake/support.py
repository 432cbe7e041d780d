"""Helpers shared by the event intake tests: Alertmanager's payloads (am_alert, am_payload,
also used by the intake guard tests), the gateway's settings and tokens, a signed generic
delivery, its validation errors, and the events recorded so far."""

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.settings import Settings
from serviceops.store.event import EventRepository
from tests.unit.gateway_support import webhook_headers

AM_TOKEN = "am-t0ken"
AM_AUTH = {"Authorization": f"Bearer {AM_TOKEN}"}
SECRET = "monitor-secret"


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
