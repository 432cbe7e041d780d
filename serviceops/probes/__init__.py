"""Probes: the I/O half of the routine operational checks (the rules are in
serviceops.domain.cmdb.checks). One module per kind, each with one `probe_<kind>` function, listed
in PROBES; `run_check` picks the kind's probe and guarantees a result: a check that cannot
even run is itself a CRITICAL finding, never an exception that would fail the whole round.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from serviceops.domain.cmdb import (
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
    "PROBES",
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


Probe = Callable[[Any, NetworkPolicy, frozenset[str], datetime], CheckResult]

# Each kind of check's probe (the kinds are serviceops.domain.cmdb.checks.CHECK_MODELS).
PROBES: dict[type[BaseModel], Probe] = {
    HttpCheck: probe_http,
    TcpCheck: probe_tcp,
    TlsCheck: probe_tls,
    BackupCheck: lambda check, _policy, _hosts, at: probe_backup(check, at),
    DiskCheck: lambda check, _policy, _hosts, at: probe_disk(check, at),
    DatabaseCheck: probe_database,
}


def run_check(
    check: Check, policy: NetworkPolicy, known_hosts: frozenset[str], at: datetime
) -> CheckResult:
    """Run one check and return its result; never raises (an unexpected error in a probe is
    logged with its traceback and reported as CRITICAL)."""
    try:
        return PROBES[type(check)](check, policy, known_hosts, at)
    except TargetRefused as refused:
        return CheckResult.of(check, at, CheckStatus.CRITICAL, f"refused: {refused}")
    except Exception as error:
        logger.exception("check %s failed unexpectedly", check.name)
        summary = f"probe error: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
        if check.echoes_secrets:
            summary = f"probe error: {type(error).__name__}"
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary)
