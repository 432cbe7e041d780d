"""Database probe: a fresh connection and SELECT 1 within the timeout, behind the guard.

A fresh engine per run (NullPool, disposed after) so a result says "a client can connect
now", not "a pooled connection from an hour ago still works".

A database check is as much a way into the probe host as an http check, so it obeys the same
guard: a PostgreSQL host is vetted like any other (catalogue or allow list, address classes)
and psycopg is given the vetted addresses as `hostaddr`, the name staying `host` for TLS and
pg_hba, so nothing resolves the name a second time; URL options that would move the
connection elsewhere (another host or port, a Unix socket, a service file) are refused. A
SQLite file must lie under a directory the catalogue allows. And a failure says only
"unreachable": a driver message would tell a closed port from an open one, a missing file
from one that is not a database, and echo what it read. The driver's message goes to the
debug log (password scrubbed) for the operator.
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

from serviceops.domain.cmdb import HIDDEN, CheckResult, CheckStatus, DatabaseCheck, NetworkPolicy
from serviceops.probes.guard import TargetRefused, vet
from serviceops.store.db import normalise_url

logger = logging.getLogger(__name__)

# The one PostgreSQL driver serviceops installs, and one that takes `hostaddr`: another
# (asyncpg, pg8000) would resolve the name again, past the guard.
POSTGRES_DRIVER = "postgresql+psycopg"
POSTGRES_PORT = 5432
# libpq options that change nothing about where the connection goes.
POSTGRES_OPTIONS = frozenset({"sslmode", "sslrootcert", "application_name"})


def probe_database(
    check: DatabaseCheck, policy: NetworkPolicy, known_hosts: frozenset[str], at: datetime
) -> CheckResult:
    """Connect with a connect timeout and run SELECT 1 (on SQLite also read the schema
    table, which is what notices a file that is not a database)."""
    start = time.perf_counter()
    try:
        url = make_url(normalise_url(check.url))
    except (SQLAlchemyError, ValueError):
        return _critical(check, at, "invalid database URL", None)
    backend = url.get_backend_name()
    if url.drivername != POSTGRES_DRIVER and backend != "sqlite":
        return _critical(check, at, f"unsupported database URL ({url.drivername})", url)
    try:
        url, connect_args = _vetted(url, check, policy, known_hosts)
    except TargetRefused as refused:
        return _critical(check, at, f"refused: {refused}", url)
    except OSError as error:  # the name does not resolve, the file does not exist
        logger.debug("database check %s: %s", check.name, _scrub(error, url))
        return _critical(check, at, f"{backend} database unreachable", url)
    engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
            if backend == "sqlite":
                connection.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
            version = connection.dialect.server_version_info
    except SQLAlchemyError as error:
        logger.debug("database check %s: %s", check.name, _scrub(error, url))
        return _critical(check, at, f"{backend} database unreachable", url)
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


def _vetted(
    url: URL, check: DatabaseCheck, policy: NetworkPolicy, known_hosts: frozenset[str]
) -> tuple[URL, dict[str, Any]]:
    """The URL and driver arguments to connect with (PostgreSQL or SQLite), once the guard
    let the target pass. Raises TargetRefused before anything is touched, OSError when the
    target is not there."""
    if url.get_backend_name() == "sqlite":
        return url.set(database=str(_sqlite_file(url, policy))), {"timeout": check.timeout_s}
    return url, _postgres_args(url, check, policy, known_hosts)


def _postgres_args(
    url: URL, check: DatabaseCheck, policy: NetworkPolicy, known_hosts: frozenset[str]
) -> dict[str, Any]:
    """psycopg's host/hostaddr lists: the name once per vetted address, so it connects to
    those (in resolver order) and resolves nothing itself."""
    for option in url.query:
        if option not in POSTGRES_OPTIONS:
            raise TargetRefused(f"the database URL option {option} is not allowed")
    if not url.host:
        raise TargetRefused("the database URL names no host")
    addresses = vet(url.host, url.port or POSTGRES_PORT, policy, known_hosts)
    return {
        "host": ",".join([url.host] * len(addresses)),
        "hostaddr": ",".join(addresses),
        "connect_timeout": max(1, math.ceil(check.timeout_s)),  # libpq: whole seconds
    }


def _sqlite_file(url: URL, policy: NetworkPolicy) -> Path:
    """The database file, symlinks resolved, when it lies under an allowed directory.
    Raises FileNotFoundError for a missing one: sqlite3 would create an empty database there
    and report it healthy."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or "uri" in url.query:
        raise TargetRefused(f"sqlite database {database!r} is not a file path")
    path = Path(database).resolve()
    allowed = [Path(directory).resolve() for directory in policy.allow_database_dirs]
    if not any(path.is_relative_to(directory) for directory in allowed):
        raise TargetRefused(f"{database} is not under an allowed database directory")
    if not path.is_file():
        raise FileNotFoundError(database)
    return path


def _scrub(error: BaseException, url: URL) -> str:
    """The first line of a driver message, with the password removed wherever it shows."""
    message = (str(error).strip() or type(error).__name__).splitlines()[0][:300]
    password = url.password
    if password:
        for form in {str(password), quote_plus(str(password))}:
            message = message.replace(form, HIDDEN)
    return message


def _critical(check: DatabaseCheck, at: datetime, summary: str, url: URL | None) -> CheckResult:
    """No latency: how long a failure took tells a filtered port from a closed one."""
    details = {} if url is None else {"backend": url.get_backend_name()}
    return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, None, **details)
