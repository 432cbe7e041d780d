"""Disk probe: how full the filesystem holding a path is.

A full disk stops databases, logs and backups at once, and it fills gradually: a warning
threshold below the critical one gives the team days instead of minutes.
"""

import logging
import shutil
from datetime import datetime

from serviceops.domain.cmdb import (
    CheckResult,
    CheckStatus,
    DiskCheck,
    disk_status,
    disk_used_percent,
    human_bytes,
)

logger = logging.getLogger(__name__)


def probe_disk(check: DiskCheck, at: datetime) -> CheckResult:
    """Usage of the filesystem of `check.path` as `df` reports it, against the thresholds."""
    try:
        usage = shutil.disk_usage(check.path)
    except FileNotFoundError:
        return CheckResult.of(check, at, CheckStatus.CRITICAL, f"path missing: {check.path}")
    except OSError as error:
        summary = f"cannot read usage of {check.path}: {error.strerror or error}"
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary)
    used_percent = disk_used_percent(usage.used, usage.free)
    status = disk_status(used_percent, check.warn_percent, check.critical_percent)
    summary = f"disk {used_percent:.1f}% used"
    if status == CheckStatus.CRITICAL:
        summary += f" (critical at {check.critical_percent:g}%)"
    elif status == CheckStatus.WARNING:
        summary += f" (warning at {check.warn_percent:g}%)"
    summary += f", {human_bytes(usage.free)} free"
    return CheckResult.of(
        check,
        at,
        status,
        summary,
        used_percent=round(used_percent, 2),
        total_bytes=usage.total,
        used_bytes=usage.used,
        free_bytes=usage.free,
    )
