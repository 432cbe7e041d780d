"""Database probe: a fresh connection and SELECT 1 within the timeout.

A fresh engine per run (NullPool, disposed after) so a result says "a client can connect
now", not "a pooled connection from an hour ago still works". The URL carries credentials:
summaries and details only ever show `check.target` (password hidden) and driver messages
with the password scrubbed.
"""

import logging
import math
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from serviceops.domain.checks import HIDDEN, CheckResult, CheckStatus, DatabaseCheck
from serviceops.store.db import normalise_url

logger = logging.getLogger(__name__)


def probe_database(check: DatabaseCheck, at: datetime) -> CheckResult:
    """Connect with a connect timeout and run SELECT 1 (on SQLite also read the schema
    table, which is what notices a file that is not a database)."""
    start = time.perf_counter()
    try:
        url = make_url(normalise_url(check.url))
    except (SQLAlchemyError, ValueError):
        return _critical(check, at, "invalid database URL", None, None)
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        database = url.database
        if (
            database
            and database != ":memory:"
            and not database.startswith("file:")
            and not Path(database).exists()
        ):
            # sqlite3 would create an empty database there and report it healthy.
            return _critical(check, at, f"database file missing: {database}", url, None)
        connect_args["timeout"] = check.timeout_s
    elif backend == "postgresql":
        connect_args["connect_timeout"] = max(1, math.ceil(check.timeout_s))  # libpq: seconds
    try:
        engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
    except Exception as error:  # unknown dialect, driver not installed, bad arguments
        summary = f"unsupported database URL ({backend}): {_scrub(error, url)}"
        return _critical(check, at, summary, url, None)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
            if backend == "sqlite":
                connection.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
            version = connection.dialect.server_version_info
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        summary = f"cannot connect to {backend}: {_scrub(cause, url)}"
        return _critical(check, at, summary, url, start)
    finally:
        engine.dispose()
    latency_ms = (time.perf_counter() - start) * 1000
    return CheckResult.of(
        check,
        at,
        CheckStatus.OK,
        f"SELECT 1 on {backend} in {latency_ms:.0f} ms",
        latency_ms,
        backend=backend,
        server_version=".".join(str(part) for part in version or ()),
    )


def _scrub(error: BaseException, url: URL) -> str:
    """The first line of a driver message, with the password removed wherever it shows."""
    message = (str(error).strip() or type(error).__name__).splitlines()[0][:300]
    password = url.password
    if password:
        for form in {str(password), quote_plus(str(password))}:
            message = message.replace(form, HIDDEN)
    return message


def _critical(
    check: DatabaseCheck, at: datetime, summary: str, url: URL | None, start: float | None
) -> CheckResult:
    latency_ms = None if start is None else (time.perf_counter() - start) * 1000
    details = {} if url is None else {"backend": url.get_backend_name()}
    return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, latency_ms, **details)
