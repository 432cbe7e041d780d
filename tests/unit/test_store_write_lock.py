"""take_write_lock: intake's transactions hold SQLite's write lock before any work, wait for
another writer without SQLite's busy handler, give up after their patience, and leave the
connection's busy timeout as it was; on PostgreSQL they are ordinary transactions."""

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.event import EventIn
from serviceops.store.db import BUSY_TIMEOUT_MS, make_engine
from serviceops.store.event import EventRepository
from serviceops.store.write_lock import WriteLockTimeout, take_write_lock

EVENT = EventIn(source="nagios", service="mail", check="MailDown", summary="mail down")


@contextmanager
def writer_holding_the_lock(database_url: str) -> Iterator[sqlite3.Connection]:
    """Another process's writer, as the correlator is: it holds the lock until released."""
    path = str(make_url(database_url).database)
    with closing(
        sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    ) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield other
        finally:
            if other.in_transaction:
                other.execute("ROLLBACK")


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite_template: Path) -> str:
    """The SQLite database alone: PostgreSQL's writers do not exclude each other."""
    path = tmp_path / "serviceops.db"
    shutil.copyfile(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def test_the_lock_is_taken_before_any_work_and_the_write_commits(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        take_write_lock(session)
        if database_url.startswith("sqlite"):
            path = str(make_url(database_url).database)
            other = sqlite3.connect(path, timeout=0)
            with closing(other), pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        EventRepository(session).record([EVENT], datetime.now(UTC))
    with sessions.begin() as session:
        assert EventRepository(session).count_pending() == 1


def test_a_writer_waits_for_the_lock_and_takes_it_once_released(
    sqlite_url: str, sqlite_sessions: sessionmaker[Session]
) -> None:
    sessions = sqlite_sessions
    released_at: list[float] = []
    with writer_holding_the_lock(sqlite_url) as other:

        def release() -> None:
            time.sleep(0.3)
            released_at.append(time.monotonic())
            other.execute("COMMIT")

        releaser = threading.Thread(target=release)
        releaser.start()
        with sessions.begin() as session:
            take_write_lock(session, patience_s=10)
            taken_at = time.monotonic()
            EventRepository(session).record([EVENT], datetime.now(UTC))
        releaser.join()
    assert taken_at >= released_at[0]
    with sessions.begin() as session:
        assert EventRepository(session).count_pending() == 1


def test_a_lock_held_past_the_patience_fails_the_write_and_restores_the_busy_timeout(
    sqlite_url: str, sqlite_sessions: sessionmaker[Session]
) -> None:
    sessions = sqlite_sessions
    with writer_holding_the_lock(sqlite_url), sessions() as session:
        with pytest.raises(WriteLockTimeout, match=r"over 0\.2 s"):
            take_write_lock(session, patience_s=0.2)
        session.rollback()
        timeout = session.execute(text("PRAGMA busy_timeout")).scalar_one()
    assert timeout == BUSY_TIMEOUT_MS
    with sessions.begin() as session:
        assert EventRepository(session).count_pending() == 0
