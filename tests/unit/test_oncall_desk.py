"""Who is on call, as the desk asks it, on SQLite and PostgreSQL: the catalogue keeps its
schedules across a load (the default has one per support group), overrides are stored and
read until they end, and `GET /api/v1/oncall` answers now and next (404 naming the groups there are,
422 naming a bad instant)."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.catalogue_file import load_catalogue_file
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.oncall import Layer, Override, Schedule
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.oncall import OverrideRepository

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "oncall-test-token"
AT = datetime(2026, 1, 9, 12, tzinfo=UTC)  # a Friday in the first rota week
DBA = Schedule(
    group="dba",
    timezone="UTC",
    manager="dora",
    layers=[Layer(name="primary", members=["dana", "dirk"], start=date(2026, 1, 5))],
)
SAM_COVERS = Override(
    group="dba",
    person="sam",
    starts_at=datetime(2026, 1, 9, 18, tzinfo=UTC),
    ends_at=datetime(2026, 1, 12, 9, tzinfo=UTC),
    reason="Dana away",
    created_by="dora",
)


def load_dba(sessions: sessionmaker[Session], *overrides: Override) -> sessionmaker[Session]:
    """A catalogue with the dba schedule, and these overrides recorded."""
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[DBA]), AT, "test.toml")
        for override in overrides:
            OverrideRepository(session).add(override, AT)
    return sessions


@pytest.fixture
def loaded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return load_dba(sessions, SAM_COVERS)


def test_the_catalogue_keeps_its_schedules_and_the_default_has_one_per_support_group(
    sessions: sessionmaker[Session],
) -> None:
    shipped = load_catalogue_file(ROOT / "cmdb.toml")
    with sessions.begin() as session:
        CatalogueRepository(session).replace(shipped, AT, "cmdb.toml")
    with sessions.begin() as session:
        stored = CatalogueRepository(session).catalogue()
    assert stored.oncall == shipped.oncall
    assert {s.group for s in stored.oncall} == {item.owner_group for item in stored.items}


def test_overrides_are_current_until_they_end(loaded: sessionmaker[Session]) -> None:
    with loaded.begin() as session:
        overrides = OverrideRepository(session)
        (stored,) = overrides.current(AT)
        assert (stored.id, stored.person, stored.created_at) == (1, "sam", AT)
        assert overrides.current(SAM_COVERS.ends_at) == []  # ended
        assert overrides.current(AT, "web") == []


@pytest.fixture
def client(
    tmp_path: Path, database_url: str, loaded: sessionmaker[Session]
) -> Iterator[TestClient]:
    settings = Settings(
        state_dir=tmp_path / "state", database_url=database_url, api_token=SecretStr(TOKEN)
    )
    with TestClient(create_app(settings, sessions=loaded)) as test_client:
        yield test_client


def test_the_read_api_says_who_is_on_now_and_next(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/api/v1/oncall").status_code == 401
    response = client.get("/api/v1/oncall", params={"at": AT.isoformat()}, headers=auth)
    assert response.status_code == 200, response.text
    document = response.json()
    (dba,) = document["oncall"]
    assert (dba["group"], dba["layer"], dba["person"], dba["why"]) == (
        "dba",
        "primary",
        "dana",
        "rotation",
    )
    assert (dba["until"], dba["next_person"], dba["next_why"]) == (
        "2026-01-09T18:00:00Z",
        "sam",
        "override",
    )
    assert [o["number"] for o in document["overrides"]] == ["OVR-000001"]

    unknown = client.get("/api/v1/oncall", params={"group": "billing"}, headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no on-call schedule for billing (there are: dba)"
    naive = client.get("/api/v1/oncall", params={"at": "2026-01-09T12:00"}, headers=auth)
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["query", "at"]
