"""Fixtures shared by the event intake tests: the gateway with Prefect down (a closed port) on
the fixture database (both backends), and a TestClient on it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway.app import create_app
from tests.unit.event_intake.support import settings
from tests.unit.gateway_support import closed_port_url


@pytest.fixture
def app(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(
        settings(tmp_path, database_url), sessions=sessions, prefect_api_url=closed_port_url()
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
