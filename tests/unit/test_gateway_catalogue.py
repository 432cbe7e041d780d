"""Read API of the catalogue and the checks: auth, services with dependents and blast radius,
checks with their latest result and history, 404s, and no password in what is returned."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import Catalogue, CheckKind, CheckResult, CheckStatus
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.cmdb import CatalogueRepository, CheckRunRepository
from tests.unit.gateway_support import AUTH, TOKEN

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

CATALOGUE = {
    "items": [
        {
            "name": "shop",
            "type": "application",
            "owner_group": "web",
            "tier": 3,
            "depends_on": ["shop-db"],
            "endpoints": [{"url": "https://shop.example.com/health", "contains": "ok"}],
        },
        {"name": "shop-db", "type": "database", "owner_group": "dba", "tier": 3},
        {"name": "report", "owner_group": "bi", "tier": 1, "depends_on": ["shop"]},
        {"name": "wiki", "owner_group": "it", "tier": 3},
    ],
    "checks": [
        {
            "kind": "database",
            "name": "shop-db-select",
            "service": "shop",
            "ci": "shop-db",
            "url": "postgresql://app:s3cret@db.example.com:5432/shop",
        },
    ],
    "schedules": {"http": 60},
}


def _result(check: str, kind: CheckKind, status: CheckStatus, minutes: int) -> CheckResult:
    return CheckResult(
        check=check,
        kind=kind,
        service="shop",
        target=check,
        status=status,
        summary=f"{status.value} at +{minutes} min",
        latency_ms=float(minutes),
        checked_at=T0 + timedelta(minutes=minutes),
    )


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue.model_validate(CATALOGUE), T0, "cmdb.toml")
        CheckRunRepository(session).add_many(
            [
                _result("shop-http", CheckKind.HTTP, CheckStatus.OK, 0),
                _result("shop-http", CheckKind.HTTP, CheckStatus.CRITICAL, 5),
                _result("shop-http", CheckKind.HTTP, CheckStatus.WARNING, 10),
                _result("shop-tls", CheckKind.TLS, CheckStatus.OK, 10),
            ]
        )
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    with TestClient(create_app(settings, sessions=sessions)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path",
    ["/api/v1/services", "/api/v1/services/shop", "/api/v1/checks", "/api/v1/checks/shop-http"],
)
def test_without_a_token_is_401(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(path, headers=AUTH).status_code == 200


def test_services_with_dependents_and_blast_radius(client: TestClient) -> None:
    response = client.get("/api/v1/services", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 4
    assert body["source_file"] == "cmdb.toml"
    assert body["loaded_at"].startswith("2025-03-03T09:00:00")
    services = {service["name"]: service for service in body["services"]}
    assert list(services) == ["report", "shop", "shop-db", "wiki"]
    db = services["shop-db"]
    assert db["dependents"] == ["report", "shop"]
    assert db["blast_radius"] == "high", "a tier-1 report needs the tier-3 database"
    assert db["checks"] == ["shop-db-select"]
    assert services["wiki"]["blast_radius"] == "low"
    assert services["wiki"]["dependents"] == []
    shop = services["shop"]
    assert shop["type"] == "application" and shop["owner_group"] == "web"
    assert shop["depends_on"] == ["shop-db"]
    assert shop["endpoints"][0]["url"] == "https://shop.example.com/health"
    assert shop["checks"] == ["shop-db-select", "shop-http", "shop-tls"]


def test_one_service_with_its_checks(client: TestClient) -> None:
    response = client.get("/api/v1/services/shop-db", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"service", "checks"}
    assert body["service"]["name"] == "shop-db"
    assert [check["name"] for check in body["checks"]] == ["shop-db-select"]


def test_unknown_service_or_check_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/services/nope", headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"detail": "no service nope"}
    response = client.get("/api/v1/checks/nope", headers=AUTH)
    assert response.status_code == 404
    assert response.json() == {"detail": "no check nope"}


def test_a_malformed_name_is_422(client: TestClient) -> None:
    assert client.get("/api/v1/services/Not%20A%20Name", headers=AUTH).status_code == 422


def test_checks_with_their_latest_result(client: TestClient) -> None:
    response = client.get("/api/v1/checks", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    checks = {check["name"]: check for check in body["checks"]}
    assert list(checks) == ["shop-db-select", "shop-http", "shop-tls"]
    assert body["count"] == 3
    http = checks["shop-http"]
    assert http["kind"] == "http" and http["interval_s"] == 60
    assert http["latest"]["status"] == "warning"
    assert http["latest"]["summary"] == "warning at +10 min"
    assert http["definition"]["contains"] == "ok"
    assert checks["shop-tls"]["interval_s"] == 3600
    assert checks["shop-db-select"]["latest"] is None, "never ran"


def test_no_password_leaves_by_the_api(client: TestClient) -> None:
    for path in ("/api/v1/checks", "/api/v1/checks/shop-db-select", "/api/v1/services/shop"):
        text = client.get(path, headers=AUTH).text
        assert "s3cret" not in text, path
    check = client.get("/api/v1/checks/shop-db-select", headers=AUTH).json()["check"]
    assert check["target"] == check["definition"]["url"]
    assert check["target"].startswith("postgresql://app:***@db.example.com")


@pytest.mark.parametrize(
    ("status", "expected"),
    [("warning", ["shop-http"]), ("ok", ["shop-tls"]), ("critical", [])],
)
def test_checks_filtered_on_their_latest_status(
    client: TestClient, status: str, expected: list[str]
) -> None:
    body = client.get(f"/api/v1/checks?status={status}", headers=AUTH).json()
    assert [check["name"] for check in body["checks"]] == expected
    assert body["count"] == len(expected)


def test_an_unknown_status_is_422(client: TestClient) -> None:
    response = client.get("/api/v1/checks?status=sunny", headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "status"]


def test_one_check_with_its_history_newest_first(client: TestClient) -> None:
    body = client.get("/api/v1/checks/shop-http", headers=AUTH).json()
    assert body["check"]["name"] == "shop-http"
    assert body["check"]["latest"]["status"] == "warning"
    assert [run["status"] for run in body["history"]] == ["warning", "critical", "ok"]
    assert body["history"][1]["latency_ms"] == 5.0
    limited = client.get("/api/v1/checks/shop-http?limit=1", headers=AUTH).json()
    assert [run["status"] for run in limited["history"]] == ["warning"]
    assert client.get("/api/v1/checks/shop-http?limit=0", headers=AUTH).status_code == 422


def test_an_empty_catalogue_lists_nothing(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    with TestClient(create_app(settings, sessions=sessions)) as client:
        services = client.get("/api/v1/services", headers=AUTH).json()
        checks = client.get("/api/v1/checks", headers=AUTH).json()
    assert services == {"services": [], "count": 0, "source_file": None, "loaded_at": None}
    assert checks == {"checks": [], "count": 0}
