"""The pure rules and models of the routine operational checks (no I/O)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from serviceops.domain.cmdb import (
    BackupCheck,
    Check,
    CheckKind,
    CheckResult,
    CheckStatus,
    DatabaseCheck,
    DiskCheck,
    HttpCheck,
    TcpCheck,
    TlsCheck,
    as_utc,
    backup_problem,
    disk_status,
    disk_used_percent,
    hide_password,
    http_status,
    human_bytes,
    tls_status,
    tls_summary,
)

OK, WARNING, CRITICAL = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (90, (OK, None)),
        (30.5, (OK, None)),
        (30, (WARNING, 30)),
        (20, (WARNING, 30)),
        (14, (WARNING, 14)),
        (10, (WARNING, 14)),
        (7.01, (WARNING, 14)),
        (7, (CRITICAL, 7)),
        (5, (CRITICAL, 7)),
        (0.5, (CRITICAL, 7)),
        (0, (CRITICAL, 7)),
        (-3, (CRITICAL, 7)),
    ],
)
def test_tls_status_thresholds(days_left: float, expected: tuple[CheckStatus, int | None]) -> None:
    assert tls_status(days_left, [30, 14, 7]) == expected


def test_tls_status_order_of_thresholds_does_not_matter_and_none_means_expiry_only() -> None:
    assert tls_status(10, [7, 30, 14]) == (WARNING, 14)
    assert tls_status(3, []) == (OK, None)
    assert tls_status(-1, []) == (CRITICAL, None)
    assert tls_status(20, [30]) == (CRITICAL, 30)  # a single threshold is the critical one


def test_tls_summary_rounds_days_down_and_names_the_date() -> None:
    not_after = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert tls_summary(5.0, not_after) == "certificate expires in 5 days (2026-12-01)"
    assert tls_summary(4.99, not_after) == "certificate expires in 4 days (2026-12-01)"
    assert tls_summary(1.2, not_after) == "certificate expires in 1 day (2026-12-01)"
    assert tls_summary(0.3, not_after) == "certificate expires in less than a day (2026-12-01)"
    assert tls_summary(-0.2, not_after) == "certificate expired today (2026-12-01)"
    assert tls_summary(-3.5, not_after) == "certificate expired 3 days ago (2026-12-01)"


@pytest.mark.parametrize(
    ("used", "expected"),
    [(0, OK), (79.9, OK), (80, WARNING), (89.99, WARNING), (90, CRITICAL), (100, CRITICAL)],
)
def test_disk_status(used: float, expected: CheckStatus) -> None:
    assert disk_status(used, 80, 90) is expected


def test_disk_used_percent_is_what_df_shows() -> None:
    # 60 used, 20 available to users (reserved root blocks count for neither): 75%
    assert disk_used_percent(60, 20) == 75.0
    assert disk_used_percent(0, 0) == 100.0  # nothing usable is full


def test_http_status_rules() -> None:
    assert http_status(200, [200], 12.4, 2000) == (OK, "HTTP 200 in 12 ms")
    assert http_status(500, [200], 5, 2000) == (CRITICAL, "HTTP 500 (expected 200)")
    assert http_status(404, [200, 204], 5, 2000) == (CRITICAL, "HTTP 404 (expected 200, 204)")
    assert http_status(200, [200], 2500, 2000) == (
        WARNING,
        "HTTP 200 in 2500 ms (slower than 2000 ms)",
    )
    assert http_status(200, [200], 5, 2000, "ready", False) == (
        CRITICAL,
        "HTTP 200 but body lacks 'ready'",
    )
    assert http_status(200, [200], 5, 2000, "ready", True)[0] is OK
    # a wrong status is reported before slowness or missing text
    assert http_status(503, [200], 9000, 2000, "ready", False)[1] == "HTTP 503 (expected 200)"


def test_backup_problem_rules() -> None:
    assert backup_problem(2, 26, 100, 1, None, False) is None
    assert backup_problem(30, 26, 100, 1, True, False) == "newest backup is 30.0 h old (max 26 h)"
    assert backup_problem(2, 26, 0, 1, None, False) == "newest backup is 0 bytes (min 1)"
    assert backup_problem(2, 26, 100, 1, False, False) == (
        "newest backup does not match its .sha256 checksum"
    )
    assert backup_problem(2, 26, 100, 1, None, True) == "newest backup has no .sha256 checksum"
    assert backup_problem(2, 26, 100, 1, True, True) is None


def test_hide_password_in_urls() -> None:
    assert (
        hide_password("postgresql://app:s3cret@db:5432/app") == "postgresql://app:***@db:5432/app"
    )
    assert hide_password("postgresql://app@db/app") == "postgresql://app@db/app"
    assert hide_password("https://u:p%40ss@example.com/x?a=1") == "https://u:***@example.com/x?a=1"
    hidden = hide_password("postgresql://db/app?user=app&password=s3cret")
    assert "s3cret" not in hidden
    assert "password=***" in hidden
    assert hide_password("sqlite:///var/lib/so.db") == "sqlite:///var/lib/so.db"


def test_check_union_dispatches_on_kind_and_targets() -> None:
    adapter = TypeAdapter(Check)
    common = {"service": "web"}
    http = adapter.validate_python(
        {"kind": "http", "name": "web.home", "url": "https://x.io/", **common}
    )
    tcp = adapter.validate_python(
        {"kind": "tcp", "name": "smtp", "host": "::1", "port": 25, **common}
    )
    tls = adapter.validate_python({"kind": "tls", "name": "cert", "host": "x.io", **common})
    backup = adapter.validate_python({"kind": "backup", "name": "db-dump", "path": "/b", **common})
    disk = adapter.validate_python({"kind": "disk", "name": "root", "path": "/", **common})
    database = adapter.validate_python(
        {"kind": "database", "name": "db", "url": "postgresql://u:pw@db/app", **common}
    )
    with pytest.raises(ValidationError):  # service is required
        adapter.validate_python({"kind": "http", "name": "web.home", "url": "https://x.io/"})
    assert isinstance(http, HttpCheck) and http.target == "https://x.io/"
    assert isinstance(tcp, TcpCheck) and tcp.target == "[::1]:25"
    assert isinstance(tls, TlsCheck) and tls.target == "x.io:443"
    assert tls.warn_days == [30, 14, 7]
    assert isinstance(backup, BackupCheck) and backup.target == "/b"
    assert isinstance(disk, DiskCheck) and disk.target == "/"
    assert isinstance(database, DatabaseCheck)
    assert database.target == "postgresql://u:***@db/app"
    with pytest.raises(ValidationError, match="kind"):
        adapter.validate_python({"kind": "ping", "name": "x", "service": "web"})


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "Web"},  # upper case
        {"name": "-web"},  # must start with a letter or digit
        {"name": "a" * 101},
        {"name": ""},
        {"url": "ftp://x.io/"},
        {"url": "file:///etc/passwd"},
        {"url": "http:///nohost"},
        {"url": "http://x.io/ a"},
        {"url": "http://x.io:99999/"},
        {"expect_status": [700]},
        {"expect_status": []},
        {"max_latency_ms": 0},
        {"timeout_s": 0},
    ],
)
def test_http_check_rejects(bad: dict[str, object]) -> None:
    fields = {"name": "web", "service": "web", "url": "http://x.io/", **bad}
    with pytest.raises(ValidationError):
        HttpCheck.model_validate(fields)


def test_other_checks_validate_their_fields() -> None:
    with pytest.raises(ValidationError):
        TcpCheck(name="t", service="s", host="x.io", port=0)
    with pytest.raises(ValidationError):
        TcpCheck(name="t", service="s", host="http://x.io/", port=80)
    with pytest.raises(ValidationError):
        TlsCheck(name="t", service="s", host="x.io", warn_days=[30, 0])
    with pytest.raises(ValidationError, match="critical_percent"):
        DiskCheck(name="d", service="s", path="/", warn_percent=95, critical_percent=90)
    with pytest.raises(ValidationError):
        DiskCheck(name="d", service="s", path="/", critical_percent=101)
    assert TlsCheck(name="t", service="s", host="x.io", warn_days=[7, 30, 7]).warn_days == [30, 7]
    assert TcpCheck(name="t", service="s", host="[::1]", port=22).target == "[::1]:22"
    backup = BackupCheck(name="b", service="s", path="/b")
    assert (backup.pattern, backup.max_age_hours, backup.min_size_bytes) == ("*", 26, 1)
    assert (backup.verify_checksum, backup.require_checksum) == (True, False)


def test_check_result_of_fills_identity_and_ok_means_ok_only() -> None:
    check = DatabaseCheck(name="db", service="crm", ci="pg-1", url="postgresql://u:pw@h/d")
    result = CheckResult.of(check, AT, WARNING, "slow", 12.34567, backend="postgresql")
    assert (result.check, result.kind, result.service, result.ci) == (
        "db",
        CheckKind.DATABASE,
        "crm",
        "pg-1",
    )
    assert result.target == "postgresql://u:***@h/d"
    assert result.latency_ms == 12.346
    assert result.details == {"backend": "postgresql"}
    assert result.checked_at == AT
    assert not result.ok
    assert CheckResult.of(check, AT, OK, "fine").ok
    assert not CheckResult.of(check, AT, CRITICAL, "down").ok
    assert "pw" not in result.model_dump_json()


def test_small_helpers() -> None:
    assert human_bytes(0) == "0 bytes"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"
    assert as_utc(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    assert as_utc(datetime(2026, 1, 1, 14, tzinfo=plus_two)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
