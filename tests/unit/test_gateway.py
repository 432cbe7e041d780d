"""Read API: auth, filters, errors, health; in process (TestClient) and over a real socket."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.incident import Incident
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.db import make_engine
from serviceops.store.incident import IncidentRepository
from tests.unit.gateway_support import serve
from tests.unit.seed import FLOW_RUN_ID, seed_incidents

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _settings(tmp_path: Path, database_url: str, token: str | None = TOKEN) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        api_token=None if token is None else SecretStr(token),
    )


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> list[Incident]:
    return seed_incidents(sessions)


@pytest.fixture
def app(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(_settings(tmp_path, database_url), sessions=sessions)


@pytest.fixture
def client(app: FastAPI, seeded: list[Incident]) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _numbers(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["incidents"])
    return [incident["number"] for incident in body["incidents"]]


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
    ids=["missing", "wrong", "not-bearer", "longer"],
)
def test_without_the_right_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    for path in ("/api/v1/incidents", "/api/v1/incidents/INC-000001"):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json() == {"detail": "missing or invalid bearer token"}


def test_no_token_configured_is_503_saying_what_to_set(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = create_app(_settings(tmp_path, database_url, token=None), sessions=sessions)
    with TestClient(app) as client:
        response = client.get("/api/v1/incidents", headers=AUTH)
    assert response.status_code == 503
    assert "SERVICEOPS_API_TOKEN" in response.json()["detail"]


def test_token_file_written_by_make_up_is_accepted(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    settings = _settings(tmp_path, database_url, token=None)
    settings.state_dir.mkdir(parents=True)
    settings.api_token_file.write_text("from-file\n")
    with TestClient(create_app(settings, sessions=sessions)) as client:
        ok = client.get("/api/v1/incidents", headers={"Authorization": "Bearer from-file"})
        assert ok.status_code == 200
        assert client.get("/api/v1/incidents", headers=AUTH).status_code == 401


# --------------------------------------------------------------------------- list


def test_list_is_newest_first_with_the_public_fields(client: TestClient) -> None:
    response = client.get("/api/v1/incidents", headers=AUTH)
    assert _numbers(response) == ["INC-000003", "INC-000002", "INC-000001"]
    body = response.json()
    assert body["limit"] == 100 and body["offset"] == 0
    first = body["incidents"][2]
    assert first["title"] == "VPN drops every hour"
    assert first["state"] == "in_progress"
    assert first["priority"] == 1 and first["priority_label"] == "P1 Critical"
    assert first["response_sla"] == "met"
    assert first["resolution_sla"] == "breached"  # 1 h target, logged 3 h ago
    assert first["created_at"].endswith("Z")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=assigned", ["INC-000002"]),
        ("state=resolved", ["INC-000003"]),
        ("state=closed", []),
        ("priority=1", ["INC-000001"]),
        ("priority=5", ["INC-000003"]),
        ("service=vpn", ["INC-000003", "INC-000001"]),
        ("service=vpn&state=in_progress", ["INC-000001"]),
        ("service=nothing", []),
        ("limit=1", ["INC-000003"]),
        ("limit=2&offset=1", ["INC-000002", "INC-000001"]),
        ("offset=3", []),
    ],
)
def test_list_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert _numbers(client.get(f"/api/v1/incidents?{query}", headers=AUTH)) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("priority=9", "priority"),
        ("priority=0", "priority"),
        ("priority=high", "priority"),
        ("state=bogus", "state"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_bad_filter_is_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/incidents?{query}", headers=AUTH)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [["query", field]]
    assert "Traceback" not in response.text


# --------------------------------------------------------------------------- one incident


def test_get_one_with_its_history(client: TestClient) -> None:
    response = client.get("/api/v1/incidents/INC-000001", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["incident"]["number"] == "INC-000001"
    assert body["incident"]["support_group"] == "network"
    assert [entry["action"] for entry in body["audit"]] == [
        "log",
        "assign",
        "acknowledge",
        "start_work",
    ]
    assert body["audit"][-1]["flow_run_id"] == FLOW_RUN_ID


def test_known_error_is_in_the_document(client: TestClient) -> None:
    incident = client.get("/api/v1/incidents/INC-000003", headers=AUTH).json()["incident"]
    assert incident["known_error"]["workaround"] == "Tick remember me"
    assert incident["resolution_code"] == "workaround"


def test_unknown_incident_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/incidents/INC-999999", headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"detail": "no incident INC-999999"}


def test_malformed_number_is_422(client: TestClient) -> None:
    response = client.get("/api/v1/incidents/42", headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "number"]


# --------------------------------------------------------------------------- errors, health


def test_unexpected_error_is_a_bare_json_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(IncidentRepository, "list", explode)
    response = client.get("/api/v1/incidents", headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "secret internals" not in response.text
    assert "secret internals" in caplog.text  # but the operator sees it in the log


def test_healthz_needs_no_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_database_down_is_503_on_health_and_api(tmp_path: Path) -> None:
    # A directory is not a database file: SQLite cannot open it (OperationalError).
    url = f"sqlite:///{tmp_path}"
    engine = make_engine(url)
    try:
        app = create_app(_settings(tmp_path, url), sessions=sessionmaker(engine))
        with TestClient(app) as client:
            health = client.get("/healthz")
            listing = client.get("/api/v1/incidents", headers=AUTH)
    finally:
        engine.dispose()
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert listing.status_code == 503
    assert listing.json() == {"detail": "database unavailable"}
    assert str(tmp_path) not in listing.text


# --------------------------------------------------------------------------- real socket


@pytest.fixture
def served(app: FastAPI, seeded: list[Incident]) -> Iterator[str]:
    """The app under uvicorn on an ephemeral loopback port, in a thread; its base URL."""
    with serve(app) as url:
        yield url


def test_over_a_real_socket(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        denied = http.get("/api/v1/incidents")
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"] == "Bearer"
        assert _numbers(http.get("/api/v1/incidents?service=vpn", headers=AUTH)) == [
            "INC-000003",
            "INC-000001",
        ]
        bad = http.get("/api/v1/incidents?priority=9", headers=AUTH)
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", "priority"]
        one = http.get("/api/v1/incidents/INC-000002", headers=AUTH)
        assert one.json()["incident"]["state"] == "assigned"
        assert http.get("/api/v1/incidents/INC-000009", headers=AUTH).status_code == 404
