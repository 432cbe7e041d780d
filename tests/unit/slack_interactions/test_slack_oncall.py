"""`/oncall` on a real Prefect server (a stand-in set-oncall-override deployment with the real
flow's name and schema), both database backends: who is on call; an override set by a
directory user starts set-oncall-override as them, on a Slack ticket; a group or layer the
catalogue lacks, times that make no sense or a person the directory lacks are answered with
why, and nothing is started."""

from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from prefect import flow
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.oncall import Layer, Schedule, SetOverride
from serviceops.store.cmdb import CatalogueRepository
from tests.unit.gateway_support import slack_headers
from tests.unit.slack_interactions.support import SIGNING_SECRET, _app, started_runs

LATER = "2099-01-02T09:00Z"
USAGE_OF_OVERRIDE = "/oncall override GROUP[/LAYER] PERSON FROM UNTIL"
DBA = Schedule(
    group="dba",
    manager="olive",
    layers=[
        Layer(name="primary", members=["bob", "dave"], start=date(2026, 1, 5)),
        Layer(name="secondary", members=["dave"], start=date(2026, 1, 5)),
    ],
)


@flow(name="set-oncall-override")
def stand_in_set_oncall_override(override: SetOverride) -> None:
    """Never runs: its name and parameter schema are the real flow's."""


@pytest.fixture(scope="module")
def deployment(prefect_server: str) -> str:
    return str(stand_in_set_oncall_override.to_deployment(name="set-oncall-override").apply())


@pytest.fixture
def catalogue(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[DBA]), datetime.now(UTC), "t")


def _oncall(client: TestClient, text: str, user_id: str = "U0BOB") -> str:
    body = urlencode({"command": "/oncall", "text": text, "user_id": user_id}).encode()
    response = client.post(
        "/slack/commands", content=body, headers=slack_headers(body, SIGNING_SECRET)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["text"])


def _started(deployment: str, sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    """The set-oncall-override runs started: the override, and how the ticket knew its actor."""
    fields = ("group", "layer", "person", "actor", "reason")
    return [
        (*(p["override"][name] for name in fields), via, ref)
        for p, via, ref in started_runs(deployment, sessions)
    ]


def test_who_is_on_call_and_an_override_set_from_slack(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    prefect_server: str,
    deployment: str,
    catalogue: None,
) -> None:
    with TestClient(_app(tmp_path, database_url, sessions, prefect_server)) as client:
        who = _oncall(client, "who dba")
        answer = _oncall(client, f"override dba/secondary carol now {LATER} Dave ill")
    assert who.startswith("dba/primary: ") and "dba/secondary: dave until" in who
    assert answer.startswith("carol covers dba/secondary from ")
    assert answer.endswith("until 2099-01-02 09:00 UTC: setting it as bob.")
    assert _started(deployment, sessions) == [
        ("dba", "secondary", "carol", "bob", "Dave ill", "slack", "U0BOB")
    ]


@pytest.mark.parametrize(
    ("text", "user_id", "said"),
    [
        (f"override web carol now {LATER}", "U0BOB", "no on-call schedule for web"),
        (f"override dba/tertiary carol now {LATER}", "U0BOB", "dba has no layer tertiary"),
        (f"override dba carol {LATER} now", "U0BOB", "ends_at must be after starts_at"),
        ("override dba carol now 2099-01-02T09:00", "U0BOB", "'2099-01-02T09:00' needs its"),
        ("override dba carol now friday", "U0BOB", "UNTIL 'friday' is not an instant"),
        ("override dba carol now 0001-01-01T00:00+01:00", "U0BOB", "not a year a rota has"),
        ("override dba carol", "U0BOB", USAGE_OF_OVERRIDE),
        ("transfer everything", "U0BOB", USAGE_OF_OVERRIDE),
        (f"override dba carol now {LATER}", "U0NOBODY", "U0NOBODY is not in the directory"),
        (f"override dba carol now {LATER}", "U0ALICE", "alice is not in dba's rota"),
        (f"override dba zed now {LATER}", "U0BOB", "zed is not in the directory"),
    ],
)
def test_a_mistake_is_answered_and_nothing_is_started(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    prefect_server: str,
    deployment: str,
    catalogue: None,
    text: str,
    user_id: str,
    said: str,
) -> None:
    with TestClient(_app(tmp_path, database_url, sessions, prefect_server)) as client:
        answer = _oncall(client, text, user_id)
    assert said in answer
    assert _started(deployment, sessions) == []
