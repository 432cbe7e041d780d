"""Read API for silences on SQLite and PostgreSQL: the page and its state filter, a silence's
document with the alerts it holds and its trail, 401, 404 and 422."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_batch
from serviceops.domain.event import AddSilence, EventIn, EventPolicy
from serviceops.domain.event import silences as steps
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.audit import AuditRepository
from serviceops.store.event import EventRepository, SilenceRepository
from tests.unit.gateway_support import AUTH, TOKEN

T0 = datetime.now(UTC).replace(microsecond=0)
SILENCE_FIELDS = {
    "number", "ci", "service", "check", "scope", "state", "reason", "owner", "ends_at",
    "extensions", "created_at", "updated_at",
}  # fmt: skip


def seed(sessions: sessionmaker[Session]) -> None:
    """SIL-000001 on db-01 holding ALR-000001; SIL-000002 on service mail, lifted."""
    with sessions.begin() as session:
        silences = SilenceRepository(session)
        for fields in ({"ci": "db-01"}, {"service": "mail", "check": "QueueHigh"}):
            draft = AddSilence.model_validate(
                fields
                | {
                    "ends_at": T0 + timedelta(hours=1),
                    "reason": "kernel update",
                    "owner": "alex",
                    "actor": "alex",
                }
            )
            added = silences.add(draft, T0)
            AuditRepository(session).add(steps.added(added, "alex"))
        silences.save(steps.lift(silences.get("SIL-000002"), "alex", T0).silence)
        event = {"source": "prometheus", "ci": "db-01", "check": "Down", "severity": "critical"}
        EventRepository(session).record([EventIn.model_validate(event | {"summary": "x"})], T0)
    correlate_batch(sessions, EventPolicy(), T0)


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    seed(sessions)
    with TestClient(create_app(settings, sessions=sessions)) as test_client:
        yield test_client


def test_the_silence_list_is_newest_first_and_filters_on_state(client: TestClient) -> None:
    assert client.get("/api/v1/silences").status_code == 401
    body = client.get("/api/v1/silences", headers=AUTH).json()
    assert [s["number"] for s in body["silences"]] == ["SIL-000002", "SIL-000001"]
    assert set(body["silences"][0]) == SILENCE_FIELDS and body["count"] == 2
    active = client.get("/api/v1/silences?state=active", headers=AUTH).json()
    assert [(s["number"], s["scope"]) for s in active["silences"]] == [("SIL-000001", "ci db-01")]
    bad = client.get("/api/v1/silences?state=gone", headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "state"]


def test_a_silence_document_has_what_it_holds_and_its_trail(client: TestClient) -> None:
    body = client.get("/api/v1/silences/SIL-000001", headers=AUTH).json()
    assert body["silence"]["state"] == "active"
    assert [a["number"] for a in body["held"]] == ["ALR-000001"]
    assert body["held"][0]["suppressed_by"] == "SIL-000001"
    assert [(e["action"], e["to_state"]) for e in body["audit"]] == [("add", "active")]
    missing = client.get("/api/v1/silences/SIL-000009", headers=AUTH)
    assert (missing.status_code, missing.json()["detail"]) == (404, "no silence SIL-000009")
    malformed = client.get("/api/v1/silences/ALR-000001", headers=AUTH)
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["loc"][-1] == "number"
