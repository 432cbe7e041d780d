"""POST /webhooks/alertmanager: Alertmanager's own payloads (firing, resolved, grouped) become
events, and the bad ones (no token, wrong token, unconfigured, malformed, oversize) are refused
with nothing recorded. Both database backends; in process."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_pending
from serviceops.domain.event import EventPolicy
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.event import AlertRepository
from tests.unit.event_intake.support import (
    AM_AUTH,
    AM_TOKEN,
    am_alert,
    am_payload,
    errors,
    events,
    post_generic,
)

MIB = 1024 * 1024


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
