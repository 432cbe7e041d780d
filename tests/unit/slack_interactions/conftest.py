"""Fixtures shared by the Slack interaction tests: the directory every test runs against (the
Slack user ids of alice, bob, carol, dave, olive and fiona), and the gateway with Prefect down."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import Identity
from serviceops.store.request import IdentityRepository
from tests.unit.gateway_support import closed_port_url
from tests.unit.slack_interactions.support import _app


@pytest.fixture(autouse=True)
def directory(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        people = IdentityRepository(session)
        people.upsert(Identity(user="alice", manager="bob", slack_user_id="U0ALICE"))
        for user in ("bob", "carol", "dave", "olive", "fiona"):
            people.upsert(Identity(user=user, slack_user_id=f"U0{user.upper()}"))


@pytest.fixture
def offline(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The gateway with Prefect down: any test that reaches Prefect says so in its reply."""
    with TestClient(_app(tmp_path, database_url, sessions, closed_port_url())) as client:
        yield client
