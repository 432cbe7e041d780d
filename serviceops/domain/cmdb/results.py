"""What a check found (`CheckResult`), and the rules that turn a measurement into ok / warning /
critical: pure functions the probes call with what they measured."""

import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from serviceops.domain.cmdb.checks import (
    BackupCheck,
    CheckKind,
    CheckStatus,
    DatabaseCheck,
    DiskCheck,
    HttpCheck,
    TcpCheck,
    TlsCheck,
)


class CheckResult(BaseModel):
    """One run of one check: what a flow records, reports and raises events from."""

    check: str = Field(title="Check", description="The check's name.")
    kind: CheckKind
    service: str
    ci: str | None = None
    target: str = Field(description="What was checked; never contains a password.")
    status: CheckStatus
    summary: str = Field(description="One line for a person.")
    latency_ms: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    checked_at: datetime

    @property
    def ok(self) -> bool:
        """Only OK is ok: a warning is something to act on, if not urgently."""
        return self.status == CheckStatus.OK

    @classmethod
    def of(
        cls,
        check: "HttpCheck | TcpCheck | TlsCheck | BackupCheck | DiskCheck | DatabaseCheck",
        at: datetime,
        status: CheckStatus,
        summary: str,
        latency_ms: float | None = None,
        **details: Any,
    ) -> "CheckResult":
        """The result of `check`, with the check's identity filled in."""
        return cls(
            check=check.name,
            kind=CheckKind(check.kind),
            service=check.service,
            ci=check.ci,
            target=check.target,
            status=status,
            summary=summary,
            latency_ms=None if latency_ms is None else round(latency_ms, 3),
            details=details,
            checked_at=at,
        )


# --------------------------------------------------------------------------- rules


def http_status(
    status_code: int,
    expect_status: list[int],
    latency_ms: float,
    max_latency_ms: int,
    contains: str | None = None,
    body_has_text: bool | None = None,
) -> tuple[CheckStatus, str]:
    """Wrong status or missing text is critical (the service is not doing its job); a right
    answer that is slow is a warning (users suffer, nothing is down yet)."""
    expected = ", ".join(str(s) for s in expect_status)
    if status_code not in expect_status:
        return CheckStatus.CRITICAL, f"HTTP {status_code} (expected {expected})"
    if contains is not None and not body_has_text:
        shown = contains if len(contains) <= 60 else contains[:57] + "..."
        return CheckStatus.CRITICAL, f"HTTP {status_code} but body lacks {shown!r}"
    if latency_ms > max_latency_ms:
        return (
            CheckStatus.WARNING,
            f"HTTP {status_code} in {latency_ms:.0f} ms (slower than {max_latency_ms} ms)",
        )
    return CheckStatus.OK, f"HTTP {status_code} in {latency_ms:.0f} ms"


def tls_status(days_left: float, warn_days: list[int]) -> tuple[CheckStatus, int | None]:
    """Status and the smallest threshold crossed. The smallest threshold (or expiry) is
    critical because renewal must happen now; any larger one is a warning so the renewal is
    planned, not rushed. No threshold crossed: ok with None."""
    thresholds = sorted(set(warn_days))
    crossed = [t for t in thresholds if days_left <= t]
    threshold = crossed[0] if crossed else None
    if days_left <= 0 or (thresholds and threshold == thresholds[0]):
        return CheckStatus.CRITICAL, threshold
    if threshold is not None:
        return CheckStatus.WARNING, threshold
    return CheckStatus.OK, None


def tls_summary(days_left: float, not_after: datetime) -> str:
    """'certificate expires in 5 days (2026-12-01)': whole days, rounded down, so the figure
    never promises more time than there is."""
    day = not_after.astimezone(UTC).date().isoformat()
    if days_left <= 0:
        ago = math.floor(-days_left)
        when = "today" if ago == 0 else f"{ago} day{'s' if ago != 1 else ''} ago"
        return f"certificate expired {when} ({day})"
    days = math.floor(days_left)
    if days == 0:
        return f"certificate expires in less than a day ({day})"
    return f"certificate expires in {days} day{'s' if days != 1 else ''} ({day})"


def disk_used_percent(used_bytes: int, free_bytes: int) -> float:
    """Used share as `df` shows it: used / (used + available to users). Blocks reserved for
    root are neither, so a disk is "100%" when users cannot write, which is what matters."""
    usable = used_bytes + free_bytes
    return 100.0 if usable <= 0 else used_bytes * 100.0 / usable


def disk_status(used_percent: float, warn_percent: float, critical_percent: float) -> CheckStatus:
    """At or above a threshold crosses it: a threshold of 90 means "90% is already too full"."""
    if used_percent >= critical_percent:
        return CheckStatus.CRITICAL
    if used_percent >= warn_percent:
        return CheckStatus.WARNING
    return CheckStatus.OK


def backup_problem(
    age_hours: float,
    max_age_hours: float,
    size_bytes: int,
    min_size_bytes: int,
    checksum_ok: bool | None,
    require_checksum: bool,
) -> str | None:
    """What is wrong with the newest backup, None when nothing is. Every problem is critical:
    a stale, truncated or corrupt backup fails the one day it is needed, and nobody can tell
    before then. `checksum_ok` is None when there was no sidecar to compare with."""
    if age_hours > max_age_hours:
        return f"newest backup is {age_hours:.1f} h old (max {max_age_hours:g} h)"
    if size_bytes < min_size_bytes:
        return f"newest backup is {size_bytes} bytes (min {min_size_bytes})"
    if checksum_ok is False:
        return "newest backup does not match its .sha256 checksum"
    if checksum_ok is None and require_checksum:
        return "newest backup has no .sha256 checksum"
    return None


def as_utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime is taken to be UTC already (the store's convention)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def human_bytes(size: float) -> str:
    """1536 -> '1.5 KiB': sizes in summaries are read by people, in binary units like df -h."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
