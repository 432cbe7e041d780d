"""Take SQLite's write lock the moment it is free, for writes a sender is waiting on.

SQLite has one writer at a time. A connection that finds the lock taken waits in SQLite's
busy handler, which sleeps in steps growing to 100 ms (1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50, 100 ms), so a webhook delivery that arrives while the correlator holds the lock for 10 ms
waits 15 or 30 ms more than it needs to, and can lose the lock again to the correlator's next
batch. Intake cannot afford that tail: its transaction begins IMMEDIATE (the lock is taken
before any work, so nothing fails halfway), tried every millisecond without the busy handler
until `patience_s` runs out. PostgreSQL's writers do not exclude each other: nothing to do.
"""

import sqlite3
import time

from sqlalchemy.orm import Session

from serviceops.store.db import BUSY_TIMEOUT_MS

RETRY_S = 0.001


class WriteLockTimeout(Exception):
    """The write lock stayed taken for the whole of the patience given."""


def take_write_lock(session: Session, patience_s: float = 10.0) -> None:
    """Begin the session's transaction holding the write lock (SQLite); call it first."""
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    deadline = time.monotonic() + patience_s
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise WriteLockTimeout(f"write lock taken for over {patience_s} s") from exc
            time.sleep(RETRY_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
