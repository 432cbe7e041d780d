"""Fixtures every CLI test shares: a CliRunner, and the CLI pointed at the fixture database
(both backends). Each process's package seeds that database its own way (`seeded`)."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from serviceops.settings import get_settings
from serviceops.store.db import sessions_for


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
