"""Read API for the KPIs: the bearer token, a report for a period, 422 on a bad period."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.report import KpiReport
from serviceops.gateway.app import create_app
from serviceops.gateway.params import DAYS
from serviceops.settings import Settings
from tests.unit.gateway_support import AUTH, TOKEN
from tests.unit.test_store_kpis import seed_incidents


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    with sessions.begin() as session:
        seed_incidents(session)
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    with TestClient(create_app(settings, sessions=sessions)) as test_client:
        yield test_client


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_without_the_right_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/kpis?period=daily&end=2026-11-25", headers=headers)
    assert response.status_code == 401


def test_a_daily_report(client: TestClient) -> None:
    response = client.get("/api/v1/kpis?period=daily&end=2026-11-25", headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "kind": "daily",
        "start": "2026-11-25T00:00:00Z",
        "end": "2026-11-26T00:00:00Z",
        "timezone": "UTC",
        "first_day": "2026-11-25",
        "last_day": "2026-11-25",
    }
    report = KpiReport.model_validate(body)  # the document is the model, round trip
    assert (report.incidents.logged, report.incidents.backlog) == (4, 5)
    assert body["incidents"]["within_response"] == {"count": 1, "of": 2, "percent": 50.0}
    assert body["first_line_group"] == "service-desk"


def test_a_weekly_report_in_a_timezone(client: TestClient) -> None:
    response = client.get(
        "/api/v1/kpis",
        params={"period": "weekly", "end": "2026-11-25", "tz": "Europe/Paris"},
        headers=AUTH,
    )
    assert response.status_code == 200
    period = response.json()["period"]
    assert (period["first_day"], period["last_day"]) == ("2026-11-19", "2026-11-25")
    assert period["start"] == "2026-11-18T23:00:00Z"
    assert len(response.json()["incidents"]["by_day"]) == 7


def test_the_default_is_yesterday(client: TestClient) -> None:
    response = client.get("/api/v1/kpis", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["period"]["kind"] == "daily"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=monthly", "period"),
        ("period=daily&end=yesterday", "end"),
        ("period=daily&tz=Mars/Olympus", "tz"),
    ],
)
def test_a_bad_parameter_is_422_naming_it(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/kpis?{query}", headers=AUTH)
    assert response.status_code == 422
    assert field in response.text


@pytest.mark.parametrize("period", ["daily", "weekly"])
@pytest.mark.parametrize(
    "tz", ["UTC", "Asia/Manila", "America/Metlakatla", "Pacific/Kiritimati", "Etc/GMT+12"]
)
def test_the_first_and_last_days_accepted_report_in_any_timezone(
    client: TestClient, period: str, tz: str
) -> None:
    """The ends of params.DAYS, in the zones furthest from UTC in year 1 (local mean time,
    over 15 h) and in 9999: the period and its offset stay inside datetime's years."""
    for day in (DAYS.ge, DAYS.le):
        query = {"period": period, "end": str(day), "tz": tz}
        response = client.get("/api/v1/kpis", params=query, headers=AUTH)
        assert response.status_code == 200, (day, response.text)
        assert response.json()["period"]["last_day"] == str(day)
