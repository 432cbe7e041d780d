"""Backup and disk checks on files the tests write: the newest backup's age, size and
checksum sidecar, and disk usage thresholds against the real filesystem.
"""

import hashlib
import math
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from serviceops.domain.cmdb import BackupCheck, DiskCheck, disk_used_percent
from serviceops.probes import run_check
from tests.unit.probes.support import CRITICAL, KNOWN, LOOPBACK, OK, WARNING, now


def backup_file(directory: Path, name: str, content: bytes, age_hours: float, at: datetime) -> Path:
    path = directory / name
    path.write_bytes(content)
    mtime = at.timestamp() - age_hours * 3600
    os.utime(path, (mtime, mtime))
    return path


def write_sidecar(path: Path, digest: str) -> None:
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")


def backup_check(directory: Path, **fields: Any) -> BackupCheck:
    return BackupCheck(name="db-backup", service="crm", path=str(directory), **fields)


def test_backup_good_one_is_ok(tmp_path: Path) -> None:
    at = now()
    backup_file(tmp_path, "db-1.dump", b"older", 30, at)
    newest = backup_file(tmp_path, "db-2.dump", b"backup data", 2, at)
    write_sidecar(newest, hashlib.sha256(b"backup data").hexdigest().upper())
    result = run_check(backup_check(tmp_path, pattern="db-*.dump"), LOOPBACK, KNOWN, at)
    assert result.status is OK, result.summary
    assert result.summary == "newest backup db-2.dump: 2.0 h old, 11 bytes, checksum ok"
    assert result.details["file"] == str(newest)
    assert result.details["files"] == 2
    assert result.details["size_bytes"] == 11
    assert result.details["checksum"] == "ok"
    assert result.details["age_hours"] == pytest.approx(2, abs=0.01)


def test_backup_newest_too_old_is_critical(tmp_path: Path) -> None:
    at = now()
    backup_file(tmp_path, "db-1.dump", b"x", 50, at)
    backup_file(tmp_path, "db-2.dump", b"x", 30, at)
    result = run_check(backup_check(tmp_path), LOOPBACK, KNOWN, at)
    assert result.status is CRITICAL
    assert result.summary == "newest backup is 30.0 h old (max 26 h): db-2.dump"


def test_backup_too_small_is_critical(tmp_path: Path) -> None:
    at = now()
    backup_file(tmp_path, "db.dump", b"", 1, at)
    result = run_check(backup_check(tmp_path), LOOPBACK, KNOWN, at)
    assert result.status is CRITICAL
    assert result.summary == "newest backup is 0 bytes (min 1): db.dump"
    bigger = run_check(backup_check(tmp_path, min_size_bytes=0), LOOPBACK, KNOWN, at)
    assert bigger.status is OK


def test_backup_bad_checksum_is_critical(tmp_path: Path) -> None:
    at = now()
    path = backup_file(tmp_path, "db.dump", b"backup data", 1, at)
    write_sidecar(path, hashlib.sha256(b"other data").hexdigest())
    result = run_check(backup_check(tmp_path), LOOPBACK, KNOWN, at)
    assert result.status is CRITICAL
    assert result.summary == "newest backup does not match its .sha256 checksum: db.dump"
    assert result.details["checksum"] == "mismatch"
    write_sidecar(path, "not-a-digest")
    assert run_check(backup_check(tmp_path), LOOPBACK, KNOWN, at).status is CRITICAL
    unchecked = run_check(backup_check(tmp_path, verify_checksum=False), LOOPBACK, KNOWN, at)
    assert unchecked.status is OK
    assert unchecked.details["checksum"] == "not checked"


def test_backup_missing_sidecar_is_fine_unless_required(tmp_path: Path) -> None:
    at = now()
    backup_file(tmp_path, "db.dump", b"backup data", 1, at)
    result = run_check(backup_check(tmp_path), LOOPBACK, KNOWN, at)
    assert result.status is OK
    assert result.details["checksum"] == "missing"
    required = run_check(backup_check(tmp_path, require_checksum=True), LOOPBACK, KNOWN, at)
    assert required.status is CRITICAL
    assert required.summary == "newest backup has no .sha256 checksum: db.dump"


def test_backup_empty_or_missing_directory_is_critical(tmp_path: Path) -> None:
    at = now()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_check(backup_check(empty), LOOPBACK, KNOWN, at)
    assert result.status is CRITICAL
    assert result.summary == f"no backup matching '*' in {empty}"
    (empty / "db.dump.sha256").write_text("0" * 64)  # a sidecar alone is no backup
    assert run_check(backup_check(empty), LOOPBACK, KNOWN, at).status is CRITICAL
    missing = run_check(backup_check(tmp_path / "nowhere"), LOOPBACK, KNOWN, at)
    assert missing.status is CRITICAL
    assert missing.summary == f"backup directory missing: {tmp_path / 'nowhere'}"


def test_disk_thresholds_against_real_usage(tmp_path: Path) -> None:
    usage = shutil.disk_usage(tmp_path)
    used = disk_used_percent(usage.used, usage.free)
    if used >= 99:
        pytest.skip(f"the test filesystem is {used:.1f}% full")
    floor = math.floor(used)

    def check(warn: float, critical: float) -> DiskCheck:
        return DiskCheck(
            name="tmp",
            service="x",
            path=str(tmp_path),
            warn_percent=warn,
            critical_percent=critical,
        )

    ok = run_check(check(100, 100), LOOPBACK, KNOWN, now())
    assert ok.status is OK, ok.summary
    assert ok.details["used_percent"] == pytest.approx(used, abs=1)
    assert ok.details["total_bytes"] == usage.total
    assert re.match(r"disk \d+\.\d% used, ", ok.summary), ok.summary  # other tests write too

    warning = run_check(check(floor, 100), LOOPBACK, KNOWN, now())
    assert warning.status is WARNING, warning.summary
    assert f"(warning at {floor:g}%)" in warning.summary

    critical = run_check(check(0, floor), LOOPBACK, KNOWN, now())
    assert critical.status is CRITICAL, critical.summary
    assert f"(critical at {floor:g}%)" in critical.summary


def test_disk_missing_path_is_critical(tmp_path: Path) -> None:
    check = DiskCheck(name="tmp", service="x", path=str(tmp_path / "gone"))
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == f"path missing: {tmp_path / 'gone'}"
