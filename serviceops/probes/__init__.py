"""Probes: the I/O half of the routine operational checks (the rules are in
serviceops.domain.checks). One module per kind, each with one `probe_<kind>` function;
`run_check` picks the probe and guarantees a result: a check that cannot even run is itself
a CRITICAL finding, never an exception that would fail the whole check round.
"""

import logging
from datetime import datetime

from serviceops.domain.checks import (
    BackupCheck,
    Check,
    CheckResult,
    CheckStatus,
    DatabaseCheck,
    DiskCheck,
    HttpCheck,
    NetworkPolicy,
    TcpCheck,
    TlsCheck,
)
from serviceops.probes.backup import probe_backup
from serviceops.probes.database import probe_database
from serviceops.probes.disk import probe_disk
from serviceops.probes.guard import TargetRefused, vet
from serviceops.probes.http import probe_http
from serviceops.probes.tcp import probe_tcp
from serviceops.probes.tls import probe_tls

logger = logging.getLogger(__name__)

__all__ = [
    "TargetRefused",
    "probe_backup",
    "probe_database",
    "probe_disk",
    "probe_http",
    "probe_tcp",
    "probe_tls",
    "run_check",
    "vet",
]


def run_check(
    check: Check, policy: NetworkPolicy, known_hosts: frozenset[str], at: datetime
) -> CheckResult:
    """Run one check and return its result; never raises (an unexpected error in a probe is
    logged with its traceback and reported as CRITICAL)."""
    try:
        match check:
            case HttpCheck():
                return probe_http(check, policy, known_hosts, at)
            case TcpCheck():
                return probe_tcp(check, policy, known_hosts, at)
            case TlsCheck():
                return probe_tls(check, policy, known_hosts, at)
            case BackupCheck():
                return probe_backup(check, at)
            case DiskCheck():
                return probe_disk(check, at)
            case DatabaseCheck():
                return probe_database(check, policy, known_hosts, at)
        raise TypeError(f"no probe for {type(check).__name__}")
    except TargetRefused as refused:
        return CheckResult.of(check, at, CheckStatus.CRITICAL, f"refused: {refused}")
    except Exception as error:
        logger.exception("check %s failed unexpectedly", check.name)
        summary = f"probe error: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
        if isinstance(check, DatabaseCheck):  # the message may echo the URL
            summary = f"probe error: {type(error).__name__}"
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary)
