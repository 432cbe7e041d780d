"""Database probes: SQLite files only under allowed directories, PostgreSQL only through the
guard and at the vetted address, and one summary for every failure so that the check
cannot serve as a port scanner.
"""

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from serviceops.domain.cmdb import DatabaseCheck, NetworkPolicy
from serviceops.probes import run_check
from tests.unit.probes.support import CRITICAL, KNOWN, LOOPBACK, OK, Spy, fake_dns, now


def sqlite_check(path: Path) -> DatabaseCheck:
    return DatabaseCheck(name="db", service="crm", url=f"sqlite:///{path}", timeout_s=1)


def allowing(*dirs: Path) -> NetworkPolicy:
    return NetworkPolicy(allow_loopback=True, allow_database_dirs=[str(d) for d in dirs])


def test_database_sqlite_file_is_ok(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    result = run_check(sqlite_check(path), allowing(tmp_path), KNOWN, now())
    assert result.status is OK, result.summary
    assert result.summary.startswith("SELECT 1 on sqlite in ")
    assert result.details["backend"] == "sqlite"


def test_database_sqlite_outside_the_allowed_directories_is_refused(tmp_path: Path) -> None:
    """Only directories the catalogue allows: else a check could probe any file on disk."""
    allowed, outside = tmp_path / "dbs", tmp_path / "other"
    allowed.mkdir()
    outside.mkdir()
    path = outside / "app.db"
    sqlite3.connect(path).close()
    (allowed / "link.db").symlink_to(path)
    for database, policy in [
        (path, LOOPBACK),  # nothing allowed by default
        (path, allowing(allowed)),
        (allowed / ".." / "other" / "app.db", allowing(allowed)),
        (allowed / "link.db", allowing(allowed)),
        (Path("/etc/passwd"), allowing(allowed)),
    ]:
        result = run_check(sqlite_check(database), policy, KNOWN, now())
        assert result.status is CRITICAL
        assert result.summary == f"refused: {database} is not under an allowed database directory"
    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///file:{path}?uri=true"):
        check = DatabaseCheck(name="db", service="crm", url=url)
        result = run_check(check, allowing(allowed, outside), KNOWN, now())
        assert result.summary.startswith("refused: "), result.summary
        assert "not a file path" in result.summary


def test_database_sqlite_missing_or_not_a_database_cannot_be_told_apart(tmp_path: Path) -> None:
    missing, garbage = tmp_path / "missing.db", tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    results = [
        run_check(sqlite_check(path), allowing(tmp_path), KNOWN, now()).model_dump(
            exclude={"checked_at", "target"}
        )
        for path in (missing, garbage)
    ]
    assert not missing.exists()  # the probe did not create an empty database
    assert results[0] == results[1]
    assert results[0]["status"] == CRITICAL
    assert results[0]["summary"] == "sqlite database unreachable"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on loopback that is open, accepts nothing on its own: a test can tell
    whether anything tried to connect."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def pg_check(host: str, port: int, timeout_s: float = 2) -> DatabaseCheck:
    return DatabaseCheck(
        name="db",
        service="crm",
        url=f"postgresql://nobody:s3cret-pw@{host}:{port}/x",
        timeout_s=timeout_s,
    )


def test_database_on_loopback_is_refused_by_the_guard_and_never_connects(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    result = run_check(pg_check("127.0.0.1", port), NetworkPolicy(), KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "refused: 127.0.0.1 is loopback"
    time.sleep(0.2)
    assert not connected(listener)


def test_database_metadata_address_is_refused_and_an_unknown_host_never_looked_up(
    monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    metadata = run_check(
        pg_check("169.254.169.254", 5432), LOOPBACK, KNOWN | {"169.254.169.254"}, now()
    )
    assert metadata.summary == "refused: 169.254.169.254 is link-local (cloud metadata)"
    unknown = run_check(pg_check("db.internal.test", 5432), LOOPBACK, KNOWN, now())
    assert (
        unknown.summary == "refused: db.internal.test is not a catalogue host nor in the allow list"
    )
    assert "db.internal.test" not in spy.lookups
    fake_dns(monkeypatch, {"db.test": ["169.254.169.254"]})
    rebound = run_check(pg_check("db.test", 5432), LOOPBACK, frozenset({"db.test"}), now())
    assert rebound.summary == "refused: db.test (169.254.169.254) is link-local (cloud metadata)"


def test_database_closed_port_open_port_and_unknown_name_give_one_summary(
    listener: socket.socket,
) -> None:
    """Nothing tells a closed port from an open one (or from a name that does not resolve),
    and no driver message reaches the result: the check must not be a port scanner."""
    with socket.create_server(("127.0.0.1", 0)) as closed:
        closed_port = closed.getsockname()[1]
    open_port = listener.getsockname()[1]

    def drop_every_connection() -> None:
        listener.setblocking(True)
        listener.settimeout(5)
        with contextlib.suppress(OSError):
            listener.accept()[0].close()

    threading.Thread(target=drop_every_connection, daemon=True).start()
    known = KNOWN | {"nowhere.invalid"}
    results = [
        run_check(pg_check(host, port), LOOPBACK, known, now())
        for host, port in [
            ("127.0.0.1", closed_port),
            ("127.0.0.1", open_port),
            ("nowhere.invalid", 5432),
        ]
    ]
    shown = [r.model_dump(exclude={"checked_at", "target"}) for r in results]
    assert shown[0] == shown[1] == shown[2]
    assert shown[0]["summary"] == "postgresql database unreachable"
    assert shown[0]["latency_ms"] is None
    assert all("s3cret-pw" not in r.model_dump_json() for r in results)


def test_database_connects_to_the_vetted_address_not_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch, listener: socket.socket
) -> None:
    """psycopg resolves a name itself (through Python's getaddrinfo) unless it is given
    `hostaddr`: one lookup, the guard's, means it connected to the address that was vetted."""
    asked = fake_dns(monkeypatch, {"db.test": ["127.0.0.1"]})
    port = listener.getsockname()[1]
    result = run_check(
        pg_check("db.test", port, timeout_s=1), LOOPBACK, frozenset({"db.test"}), now()
    )
    assert result.summary == "postgresql database unreachable"  # the listener never answers
    assert asked == ["db.test"]
    assert connected(listener)


def test_database_postgres_through_the_guard_is_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real server of the test run, reached by a name only the fake DNS knows."""
    base = os.environ.get("SERVICEOPS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SERVICEOPS_TEST_POSTGRES_URL not set")
    parts = urlsplit(base)
    fake_dns(monkeypatch, {"pg.test": [parts.hostname or ""]})
    url = base.replace(f"@{parts.hostname}", "@pg.test", 1)
    check = DatabaseCheck(name="db", service="crm", url=url)
    result = run_check(check, LOOPBACK, frozenset({"pg.test"}), now())
    assert result.status is OK, result.summary
    assert result.summary.startswith("SELECT 1 on postgresql in ")


def test_database_url_options_that_move_the_connection_are_refused(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    for query in ("hostaddr=127.0.0.1", "host=/var/run/postgresql", "service=prod", "port=1"):
        check = DatabaseCheck(
            name="db", service="crm", url=f"postgresql://u@db.example.com:{port}/x?{query}"
        )
        result = run_check(check, NetworkPolicy(), frozenset({"db.example.com"}), now())
        option = query.split("=")[0]
        assert result.summary == f"refused: the database URL option {option} is not allowed"
    socketless = DatabaseCheck(name="db", service="crm", url="postgresql:///x")
    result = run_check(socketless, LOOPBACK, KNOWN, now())
    assert result.summary == "refused: the database URL names no host"
    assert not connected(listener)


def test_database_unsupported_url_is_critical() -> None:
    check = DatabaseCheck(name="db", service="crm", url="mysql://u:s3cret-pw@127.0.0.1:1/x")
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "unsupported database URL (mysql)"
    assert "s3cret-pw" not in result.model_dump_json()
    garbage = DatabaseCheck(name="db", service="crm", url="not a url")
    assert run_check(garbage, LOOPBACK, KNOWN, now()).summary == "invalid database URL"
