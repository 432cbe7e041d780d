"""Backup probe: the newest file of a backup directory is recent, big enough and intact.

A backup job that "succeeded" can still have written nothing, written half, or stopped
running a week ago; the file system is the ground truth, so the check looks at what is
there rather than at the job's exit code. Intact means: when a sidecar `<file>.sha256`
(sha256sum's format: hex digest first) lies next to the backup, the file hashes to it.
"""

import hashlib
import logging
import re
from datetime import datetime
from pathlib import Path

from serviceops.domain.cmdb import (
    BackupCheck,
    CheckResult,
    CheckStatus,
    as_utc,
    backup_problem,
    human_bytes,
)

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256"
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def probe_backup(check: BackupCheck, at: datetime) -> CheckResult:
    """Judge the newest file matching `check.pattern` in `check.path` (sidecars excluded).
    The checksum is computed only when age and size pass: hashing a large stale backup
    would only delay a verdict that is already critical."""
    directory = Path(check.path)
    if not directory.exists():
        return _critical(check, at, f"backup directory missing: {check.path}")
    if not directory.is_dir():
        return _critical(check, at, f"not a directory: {check.path}")
    try:
        candidates = [
            path
            for path in directory.glob(check.pattern)
            if path.is_file() and not path.name.endswith(SIDECAR_SUFFIX)
        ]
        if not candidates:
            return _critical(
                check, at, f"no backup matching {check.pattern!r} in {check.path}", files=0
            )
        newest = max(candidates, key=lambda path: path.stat().st_mtime)
        stat = newest.stat()
    except (OSError, ValueError) as error:  # unreadable directory, invalid pattern
        return _critical(check, at, f"cannot list {check.path}: {error}")

    age_hours = (as_utc(at).timestamp() - stat.st_mtime) / 3600
    details = {
        "file": str(newest),
        "files": len(candidates),
        "age_hours": round(age_hours, 2),
        "size_bytes": stat.st_size,
    }
    problem = backup_problem(
        age_hours, check.max_age_hours, stat.st_size, check.min_size_bytes, None, False
    )
    if problem is not None:
        return _critical(check, at, f"{problem}: {newest.name}", checksum="not checked", **details)

    checksum_ok: bool | None = None
    checksum = "not checked"
    if check.verify_checksum:
        sidecar = newest.with_name(newest.name + SIDECAR_SUFFIX)
        try:
            if sidecar.is_file():
                expected = _sidecar_digest(sidecar)
                actual = _sha256(newest)
                checksum_ok = expected == actual
                checksum = "ok" if checksum_ok else "mismatch"
                details["sha256"] = actual
            else:
                checksum = "missing"
        except OSError as error:
            return _critical(check, at, f"cannot read {newest.name}: {error}", **details)
    problem = backup_problem(
        age_hours,
        check.max_age_hours,
        stat.st_size,
        check.min_size_bytes,
        checksum_ok,
        check.require_checksum and check.verify_checksum,
    )
    if problem is not None:
        return _critical(check, at, f"{problem}: {newest.name}", checksum=checksum, **details)
    size = human_bytes(stat.st_size)
    summary = f"newest backup {newest.name}: {age_hours:.1f} h old, {size}"
    if check.verify_checksum:
        summary += f", checksum {checksum}"
    return CheckResult.of(check, at, CheckStatus.OK, summary, checksum=checksum, **details)


def _sidecar_digest(sidecar: Path) -> str | None:
    """The first word of the sidecar, lower case, when it is a sha256 hex digest."""
    words = sidecar.read_text(encoding="utf-8", errors="replace").split(maxsplit=1)
    digest = words[0].lower() if words else ""
    return digest if _HEX_DIGEST.match(digest) else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _critical(check: BackupCheck, at: datetime, summary: str, **details: object) -> CheckResult:
    return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, **details)
