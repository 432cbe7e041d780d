"""A page's Acknowledge button on a real Prefect server (a stand-in acknowledge-page
deployment with the real flow's name and schema), both database backends: pressed by the
paged person or a member of the group it starts acknowledge-page as them, on a Slack ticket;
pressed by anyone else, by someone the directory lacks, or for an ended page, it is refused
with why and nothing is started; a bad signature is 401."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from prefect import flow
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.oncall import AcknowledgePage, Layer, Page, Paged, Schedule
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.oncall import PageRepository
from tests.unit.slack_interactions.support import BOB, CAROL, DAVE, _app, _press, started_runs

T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
# bob is on the primary layer and was paged; dave is on the secondary: in the group.
DESK = Schedule(
    group="service-desk",
    manager="olive",
    layers=[
        Layer(name="primary", members=["bob"], start=date(2026, 1, 5)),
        Layer(name="secondary", members=["dave"], start=date(2026, 1, 5)),
    ],
)


@flow(name="acknowledge-page")
def stand_in_acknowledge_page(command: AcknowledgePage) -> None:
    """Never runs: its name and parameter schema are the real flow's."""


@pytest.fixture(scope="module")
def deployment(prefect_server: str) -> str:
    return str(stand_in_acknowledge_page.to_deployment(name="acknowledge-page").apply())


@pytest.fixture
def paging(sessions: sessionmaker[Session]) -> Page:
    """INC-000001's page, its first step having paged bob."""
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[DESK]), T0, "test.toml")
        pages = PageRepository(session)
        page = pages.open("INC-000001", "service-desk", T0)
        paged = page.model_copy(update={"paged": [Paged(step=0, persons=["bob"], at=T0)]})
        return pages.save(paged)


def _button(number: str, user: dict[str, str]) -> bytes:
    payload = {
        "type": "block_actions",
        "user": user,
        "actions": [{"action_id": "page_ack", "value": json.dumps({"number": number})}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _started(deployment: str, sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    """The acknowledge-page runs started: their actor, and how their ticket knew them."""
    return [(p["command"]["actor"], via, ref) for p, via, ref in started_runs(deployment, sessions)]


@pytest.mark.parametrize("user", [BOB, DAVE], ids=["paged", "in-the-group"])
def test_the_paged_or_the_group_acknowledges(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    prefect_server: str,
    deployment: str,
    paging: Page,
    user: dict[str, str],
) -> None:
    with TestClient(_app(tmp_path, database_url, sessions, prefect_server)) as client:
        answer = _press(client, _button(paging.number, user))
    assert answer.json()["text"] == f"Acknowledging {paging.number} as {user['username']}."
    assert _started(deployment, sessions) == [(user["username"], "slack", user["id"])]


def test_anyone_else_an_unknown_person_or_an_ended_page_is_refused(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    prefect_server: str,
    deployment: str,
    paging: Page,
) -> None:
    with TestClient(_app(tmp_path, database_url, sessions, prefect_server)) as client:
        stranger = _press(client, _button(paging.number, CAROL)).json()["text"]
        unknown = _press(client, _button(paging.number, {"id": "U0NOBODY"})).json()["text"]
        missing = _press(client, _button("PGE-000099", BOB)).json()["text"]
        forged = _press(client, _button(paging.number, BOB), **{"X-Slack-Signature": "v0=00"})
        with sessions.begin() as session:
            pages = PageRepository(session)
            pages.save(pages.get(paging.number).model_copy(update={"state": "acknowledged"}))
        ended = _press(client, _button(paging.number, BOB)).json()["text"]
    assert stranger == (
        f"{paging.number}: carol was not paged and is not in service-desk; nothing changed"
    )
    assert "U0NOBODY is not in the directory, so nothing was changed" in unknown
    assert missing == "There is no page PGE-000099."
    assert forged.status_code == 401
    assert ended.startswith(f"{paging.number}: cannot acknowledge a page that is acknowledged")
    assert _started(deployment, sessions) == []
