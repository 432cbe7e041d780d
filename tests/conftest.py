"""Shared fixtures. Each part of serviceops keeps its fixtures in its own section below."""

import io
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from serviceops.store.db import MIGRATIONS, make_engine, migrate

# =============================================================================================
# store: databases (serviceops.store)
#
# `database_url` is a migrated, empty serviceops database; every test that asks for it runs
# once on SQLite and once on PostgreSQL, because the two disagree in ways that matter (types,
# locking, partial indexes, timezone handling) and production runs on the second.
# =============================================================================================

POSTGRES_URL_ENV = "SERVICEOPS_TEST_POSTGRES_URL"


def _libpq_url(url: str) -> str:
    """psycopg.connect wants a libpq URL: no SQLAlchemy `+driver` suffix in the scheme."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL of a fresh PostgreSQL schema of its own, dropped with everything in it after.

    The test database is shared with other processes (parallel runs, other checkouts), so
    isolation is by schema, not by database: `search_path` points every connection of the
    URL at it, and Alembic's version table lands there too. An unset variable skips (a
    laptop without PostgreSQL); a set but unreachable server fails, so CI cannot go green
    by silently testing SQLite only.
    """
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} not set")
    admin_url = _libpq_url(base)
    schema = f"so_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
    except psycopg.Error as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL_ENV} is unreachable: {error}", pytrace=False)
    with admin:
        # A test that leaks a connection in a transaction makes DROP SCHEMA fail, not hang.
        admin.execute("SET lock_timeout = '30s'")
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema of its own for one test (see postgres_schema)."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_sessions(postgres_schema_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated PostgreSQL schema, for what only PostgreSQL does (row locks)."""
    migrate(postgres_schema_url)
    engine = make_engine(postgres_schema_url)
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not migrated (for the migration tests), on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'serviceops.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


def _postgres_script() -> str:
    """The migrations to head as one SQL script (Alembic's offline mode, `upgrade --sql`).

    Running Alembic online costs about a second a database; replaying its script into a new
    schema costs a few milliseconds, and the schema is the same. The migrations themselves
    are tested online, on each backend, in test_migrations.py.
    """
    from alembic import command
    from alembic.config import Config

    script = io.StringIO()
    config = Config(output_buffer=script)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://")
    command.upgrade(config, "head", sql=True)
    return script.getvalue()


@pytest.fixture(scope="session")
def migrated_postgres_script() -> str:
    return _postgres_script()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated online once per session; each test gets a copy."""
    template = tmp_path_factory.mktemp("template") / "serviceops.db"
    migrate(f"sqlite:///{template}")
    return template


@pytest.fixture
def database_url(request: pytest.FixtureRequest, empty_database_url: str) -> str:
    """A migrated, empty serviceops database, on each backend in turn."""
    url = make_url(empty_database_url)
    if url.get_backend_name() == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        with (
            closing(sqlite3.connect(template)) as source,
            closing(sqlite3.connect(str(url.database))) as copy,
        ):
            source.backup(copy)  # consistent, WAL content included
        return empty_database_url
    script: str = request.getfixturevalue("migrated_postgres_script")
    with psycopg.connect(_libpq_url(empty_database_url), autocommit=True) as connection:
        connection.execute(script.encode())  # search_path (in the URL) names the new schema
    return empty_database_url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database; use them as the code does: `with sessions.begin()`.

    Not `db.sessions_for`: its per-process cache would keep one engine per test alive.
    The engine is disposed before the schema is dropped, so no pooled connection holds a lock
    that DROP SCHEMA would wait on.
    """
    engine = make_engine(database_url)
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()


# =============================================================================================
# notify: Slack (serviceops.notify)
#
# `fake_slack` is a loopback Slack Web API (tests/fakes/slack.py) for the real slack-sdk
# client: point `make_client(token, fake_slack.base_url)` at it; it accepts "xoxb-test".
# =============================================================================================

from tests.fakes.slack import FakeSlack  # noqa: E402


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack, stopped after the test."""
    with FakeSlack() as fake:
        yield fake
