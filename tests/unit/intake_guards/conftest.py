"""Fixtures shared by the intake guard tests: the gateway with all three webhooks configured and
Prefect down (a closed port, not waited on) on the fixture database (both backends), and a
TestClient on it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from tests.unit.intake_guards.support import _app


@pytest.fixture
def app(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> FastAPI:
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)  # Prefect is down: do not wait on it
    return _app(tmp_path, database_url, sessions)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
