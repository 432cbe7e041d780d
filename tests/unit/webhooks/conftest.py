"""Fixtures shared by the request webhook tests: the gateway with Prefect down (a closed port)
on the fixture database (both backends), and a TestClient on it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from tests.unit.gateway_support import closed_port_url
from tests.unit.webhooks.support import _app


@pytest.fixture
def app(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> FastAPI:
    """The gateway with Prefect down (a closed port): acceptance must not depend on it.

    Prefect's client retries a refused connection for 1.5 s; a short start timeout keeps
    these tests quick (test_prefect_down_* runs the real timeout).
    """
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)
    return _app(tmp_path, database_url, sessions, closed_port_url())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
