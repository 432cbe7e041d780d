"""Read API for events and alerts: auth, pages and filters, documents, 404 and 422, on SQLite
and PostgreSQL, with alerts made by the real correlation batch."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_batch
from serviceops.domain.event import EventIn, EventPolicy
from serviceops.domain.views import ALERT_EVENTS_SHOWN
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.event import EventRepository
from tests.unit.bad_rows import SHOWN, record_bad_events
from tests.unit.gateway_support import AUTH, TOKEN

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

EVENT_FIELDS = {
    "number", "source", "service", "ci", "check", "severity", "summary", "details", "dedup_key",
    "fingerprint", "status", "occurred_at", "received_at", "pending", "processed_at",
    "significance", "response", "dropped", "duplicate", "alert_number",
}  # fmt: skip
ALERT_FIELDS = {
    "number", "key", "service", "ci", "title", "state", "significance", "response", "firing",
    "fingerprints", "event_count", "duplicate_count", "notified", "incident_number",
    "first_event_at", "last_event_at", "resolved_at", "closed_at", "reopen_count",
    "suppressed_by", "symptoms",
}  # fmt: skip


def event(**fields: object) -> EventIn:
    base: dict[str, object] = {
        "source": "prometheus",
        "service": "mail",
        "check": "HighLatency",
        "severity": "critical",
        "summary": "p99 latency over 2 s",
        "details": {"labels": {"instance": "mx-1:9100"}},
    }
    return EventIn.model_validate(base | fields)


def record(sessions: sessionmaker[Session], events: list[EventIn], at: datetime) -> list[str]:
    with sessions.begin() as session:
        return EventRepository(session).record(events, at)


def seed_events(sessions: sessionmaker[Session]) -> None:
    """Six events and two alerts, numbered the same on every backend:

    EVT-000001 prometheus mail critical    -> ALR-000001 (open, raises an incident)
    EVT-000002 prometheus mail, same again -> ALR-000001, duplicate
    EVT-000003 nagios db-1 warning         -> ALR-000002 (notify)
    EVT-000004 nagios db-1 info, dropped   (filtered by the policy)
    EVT-000005 nagios db-1 resolved        -> ALR-000002 resolved
    EVT-000006 script web info             pending (not correlated yet)
    """
    policy = EventPolicy.model_validate({"filters": [{"check": "Noise*"}]})
    disk = {"source": "nagios", "service": None, "ci": "db-1", "check": "DiskFull"}
    record(
        sessions,
        [
            event(),
            event(),
            event(**disk, severity="warning", summary="disk 91% full"),
            event(**disk | {"check": "NoiseCheck"}, severity="info", summary="chatter"),
        ],
        T0,
    )
    correlate_batch(sessions, policy, T0 + timedelta(minutes=1))
    record(
        sessions,
        [event(**disk, status="resolved", summary="disk 70% full")],
        T0 + timedelta(minutes=2),
    )
    correlate_batch(sessions, policy, T0 + timedelta(minutes=3))
    record(
        sessions,
        [
            event(
                source="script",
                service="web",
                check="Deploy",
                severity="info",
                summary="deployed",
                details={},
            )
        ],
        T0 + timedelta(minutes=4),
    )


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    seed_events(sessions)
    with TestClient(create_app(settings, sessions=sessions)) as test_client:
        yield test_client


def _numbers(response: httpx.Response, records: str) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body[records])
    return [record["number"] for record in body[records]]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_without_the_right_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    paths = ["/api/v1/events", "/api/v1/events/EVT-000001"]
    paths += ["/api/v1/alerts", "/api/v1/alerts/ALR-000001"]
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_event_list_is_newest_first_with_the_public_fields(client: TestClient) -> None:
    response = client.get("/api/v1/events", headers=AUTH)
    assert _numbers(response, "events") == [f"EVT-00000{i}" for i in range(6, 0, -1)]
    body = response.json()
    assert (body["limit"], body["offset"]) == (100, 0)
    by_number = {view["number"]: view for view in body["events"]}
    assert all(set(view) == EVENT_FIELDS for view in body["events"])
    first = by_number["EVT-000001"]
    assert first["details"] == {"labels": {"instance": "mx-1:9100"}}
    assert (first["significance"], first["response"], first["alert_number"]) == (
        "exception",
        "incident",
        "ALR-000001",
    )
    assert first["received_at"].endswith("Z") and first["fingerprint"].startswith("fp:")
    assert by_number["EVT-000002"]["duplicate"] is True
    assert by_number["EVT-000004"]["dropped"] is True
    assert by_number["EVT-000004"]["alert_number"] is None
    pending = by_number["EVT-000006"]
    assert pending["pending"] is True
    assert (pending["processed_at"], pending["significance"], pending["response"]) == (None,) * 3


def test_event_list_filters(client: TestClient) -> None:
    cases = {
        "source=nagios": ["EVT-000005", "EVT-000004", "EVT-000003"],
        "source=script": ["EVT-000006"],
        "source=nothing": [],
        "alert=ALR-000001": ["EVT-000002", "EVT-000001"],
        "alert=ALR-000002": ["EVT-000005", "EVT-000003"],
        "alert=ALR-999999": [],
        "status=resolved": ["EVT-000005"],
        "status=firing&source=nagios": ["EVT-000004", "EVT-000003"],
        "limit=2": ["EVT-000006", "EVT-000005"],
        "limit=2&offset=3": ["EVT-000003", "EVT-000002"],
        "offset=6": [],
    }
    for query, expected in cases.items():
        assert (
            _numbers(client.get(f"/api/v1/events?{query}", headers=AUTH), "events") == expected
        ), query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("alert=INC-000001", "alert"),
        ("alert=ALR-1", "alert"),
        ("status=open", "status"),
        ("source=bad%20name", "source"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_bad_event_filter_is_422_naming_it(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/events?{query}", headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_event_document(client: TestClient) -> None:
    response = client.get("/api/v1/events/EVT-000005", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"event"}
    view = body["event"]
    assert (view["status"], view["ci"], view["service"], view["alert_number"]) == (
        "resolved",
        "db-1",
        None,
        "ALR-000002",
    )
    assert view["pending"] is False and view["processed_at"].startswith("2026-11-26T09:03")


def test_alert_list_and_state_filter(client: TestClient) -> None:
    response = client.get("/api/v1/alerts", headers=AUTH)
    assert _numbers(response, "alerts") == ["ALR-000002", "ALR-000001"]
    views = response.json()["alerts"]
    assert all(set(view) == ALERT_FIELDS for view in views)
    assert [view["state"] for view in views] == ["resolved", "open"]
    mail = views[1]
    assert (mail["key"], mail["significance"], mail["response"]) == (
        "mail",
        "exception",
        "incident",
    )
    assert (mail["event_count"], mail["duplicate_count"], len(mail["firing"])) == (2, 1, 1)
    for query, expected in {
        "state=open": ["ALR-000001"],
        "state=resolved": ["ALR-000002"],
        "state=closed": [],
        "limit=1&offset=1": ["ALR-000001"],
    }.items():
        assert _numbers(client.get(f"/api/v1/alerts?{query}", headers=AUTH), "alerts") == expected
    assert client.get("/api/v1/alerts?state=firing", headers=AUTH).status_code == 422


def test_alert_document_has_events_actions_and_audit(client: TestClient) -> None:
    response = client.get("/api/v1/alerts/ALR-000002", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"alert", "events", "actions", "audit"}
    assert body["alert"]["state"] == "resolved"
    assert body["alert"]["resolved_at"].startswith("2026-11-26T09:02")  # the event's time
    assert [view["number"] for view in body["events"]] == ["EVT-000005", "EVT-000003"]
    assert body["actions"] == []  # notify: a message, no action
    assert [(a["from_state"], a["to_state"]) for a in body["audit"]] == [
        (None, "open"),
        ("open", "resolved"),
    ]
    assert all(a["record"] == "ALR-000002" and a["actor"] for a in body["audit"])

    mail = client.get("/api/v1/alerts/ALR-000001", headers=AUTH).json()
    assert [action["kind"] for action in mail["actions"]] == ["raise_incident"]
    assert [view["number"] for view in mail["events"]] == ["EVT-000002", "EVT-000001"]


def test_alert_document_shows_the_latest_events_only(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    storm = ALERT_EVENTS_SHOWN + 5
    numbers = record(
        sessions, [event(service="dns", check="Timeout")] * storm, T0 + timedelta(minutes=5)
    )
    correlate_batch(sessions, EventPolicy(), T0 + timedelta(minutes=6))
    first = client.get(f"/api/v1/events/{numbers[0]}", headers=AUTH).json()["event"]
    body = client.get(f"/api/v1/alerts/{first['alert_number']}", headers=AUTH).json()
    assert body["alert"]["event_count"] == storm
    shown = [view["number"] for view in body["events"]]
    assert shown == numbers[::-1][:ALERT_EVENTS_SHOWN]


@pytest.mark.parametrize(
    "path", ["/api/v1/events/EVT-999999", "/api/v1/alerts/ALR-999999", "/api/v1/events/EVT-000000"]
)
def test_unknown_number_is_404(client: TestClient, path: str) -> None:
    response = client.get(path, headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"no {'event' if 'EVT' in path else 'alert'} {path.rsplit('/', 1)[1]}"
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/INC-000001",
        "/api/v1/events/EVT-1",
        "/api/v1/events/ALR-000001",
        "/api/v1/alerts/EVT-000001",
        "/api/v1/alerts/ALR-12x456",
    ],
)
def test_malformed_number_is_422(client: TestClient, path: str) -> None:
    response = client.get(path, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "number"]


def test_details_no_read_could_show_are_shown_replaced_and_clipped(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """Rows stored before intake refused them (tests/unit/bad_rows.py) read in every document
    that carries events: the list, the event's and its alert's."""
    numbers = record_bad_events(sessions, T0 + timedelta(minutes=5))
    correlate_batch(sessions, EventPolicy(), T0 + timedelta(minutes=6))
    for name, number in numbers.items():
        response = client.get(f"/api/v1/events/{number}", headers=AUTH)
        assert response.status_code == 200, (name, response.text)
        view = response.json()["event"]
        assert view["details"] == SHOWN[name], name
        alert = client.get(f"/api/v1/alerts/{view['alert_number']}", headers=AUTH)
        assert alert.status_code == 200, (name, alert.text)
        shown = {event["number"]: event["details"] for event in alert.json()["events"]}
        assert shown[number] == SHOWN[name], name
    page = client.get("/api/v1/events?source=legacy", headers=AUTH)
    assert page.status_code == 200, page.text
    assert {view["number"]: view["details"] for view in page.json()["events"]} == {
        number: SHOWN[name] for name, number in numbers.items()
    }
