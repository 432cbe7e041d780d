"""Fixtures shared by the request CLI tests: a CliRunner, the CLI pointed at the fixture
database (both backends), a Prefect API that is down, and three seeded requests."""

from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.domain.request import RequestState
from serviceops.settings import get_settings
from serviceops.store.db import sessions_for
from tests.unit.cli_requests.support import _add, _awaiting_manager
from tests.unit.gateway_support import closed_port_url


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_db(
    monkeypatch: pytest.MonkeyPatch, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[sessionmaker[Session]]:
    """The CLI pointed at the fixture database; its cached engine is disposed afterwards so
    no pooled connection outlives the test schema."""
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield sessions
    get_settings.cache_clear()
    sessions_for(database_url).kw["bind"].dispose()
    sessions_for.cache_clear()


@pytest.fixture
def prefect_down() -> Iterator[str]:
    """PREFECT_API_URL on a loopback port nobody listens on."""
    url = closed_port_url()
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    """REQ-000001 alice's laptop (awaiting the manager), REQ-000002 bob's VPN (submitted),
    REQ-000003 alice's password reset (closed)."""
    _awaiting_manager(cli_db, None)
    _add(cli_db, "bob", {"type": "vpn_access", "user": "bob"}, minutes=1)
    _add(
        cli_db,
        "alice",
        {"type": "password_reset", "account": "alice-admin"},
        minutes=2,
        state=RequestState.CLOSED,
        completed_steps=["reset_password"],
    )
    return cli_db
