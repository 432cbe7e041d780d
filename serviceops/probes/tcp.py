"""TCP probe: the port accepts a connection within the timeout.

The cheapest sign of life for anything without a health URL (databases behind a pooler,
message brokers, SMTP); it says something is listening, not that it works.
"""

import logging
import time
from datetime import datetime

from serviceops.domain.cmdb import CheckResult, CheckStatus, NetworkPolicy, TcpCheck
from serviceops.probes.guard import TargetRefused, connect_vetted, connection_problem

logger = logging.getLogger(__name__)


def probe_tcp(
    check: TcpCheck, policy: NetworkPolicy, known_hosts: frozenset[str], at: datetime
) -> CheckResult:
    """Connect to a vetted address of the host; ok when the handshake completes in time."""
    start = time.perf_counter()
    try:
        sock, address = connect_vetted(check.host, check.port, policy, known_hosts, check.timeout_s)
    except TargetRefused as refused:
        return CheckResult.of(check, at, CheckStatus.CRITICAL, f"refused: {refused}")
    except OSError as error:
        latency_ms = (time.perf_counter() - start) * 1000
        summary = connection_problem(error, check.target, check.timeout_s)
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, latency_ms)
    latency_ms = (time.perf_counter() - start) * 1000
    sock.close()
    return CheckResult.of(
        check,
        at,
        CheckStatus.OK,
        f"connected to {check.target} in {latency_ms:.0f} ms",
        latency_ms,
        address=address,
    )
