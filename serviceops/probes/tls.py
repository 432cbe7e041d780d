"""TLS probe: days until the server certificate expires, against the check's thresholds.

The point is to see an expiring certificate weeks ahead, so the handshake deliberately does
not verify anything (CERT_NONE, no hostname check): a self-signed, expired or mismatched
certificate must still be read and reported, not hidden behind a handshake error. Chain and
hostname validity are what the HTTP check (verification on) is for.
"""

import ipaddress
import logging
import ssl
import time
from datetime import datetime

from cryptography import x509

from serviceops.domain.cmdb import (
    CheckResult,
    CheckStatus,
    NetworkPolicy,
    TlsCheck,
    as_utc,
    tls_status,
    tls_summary,
)
from serviceops.probes.guard import TargetRefused, connect_vetted, connection_problem

logger = logging.getLogger(__name__)


def probe_tls(
    check: TlsCheck, policy: NetworkPolicy, known_hosts: frozenset[str], at: datetime
) -> CheckResult:
    """Handshake with a vetted address of the host (SNI: server_name or the host name), read
    the leaf certificate and judge its expiry at `at`."""
    start = time.perf_counter()
    server_name = check.server_name or _sni_name(check.host)
    try:
        sock, address = connect_vetted(check.host, check.port, policy, known_hosts, check.timeout_s)
    except TargetRefused as refused:
        return CheckResult.of(check, at, CheckStatus.CRITICAL, f"refused: {refused}")
    except OSError as error:
        summary = connection_problem(error, check.target, check.timeout_s)
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, _since(start))

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with sock:
            sock.settimeout(max(0.001, check.timeout_s - (time.perf_counter() - start)))
            with context.wrap_socket(sock, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
                version = tls.version()
    except TimeoutError:
        summary = f"timed out after {check.timeout_s:g} s in the TLS handshake"
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, _since(start))
    except ssl.SSLError as error:
        summary = f"TLS handshake failed: {error.reason or error}"
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, _since(start))
    except OSError as error:
        summary = connection_problem(error, check.target, check.timeout_s)
        return CheckResult.of(check, at, CheckStatus.CRITICAL, summary, _since(start))
    latency_ms = _since(start)
    if not der:
        return CheckResult.of(
            check, at, CheckStatus.CRITICAL, "server sent no certificate", latency_ms
        )

    cert = x509.load_der_x509_certificate(der)
    now = as_utc(at)
    not_after = cert.not_valid_after_utc
    not_before = cert.not_valid_before_utc
    days_left = (not_after - now).total_seconds() / 86400
    details = {
        "not_after": not_after.isoformat(),
        "not_before": not_before.isoformat(),
        "days_left": round(days_left, 2),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "server_name": server_name,
        "address": address,
        "tls_version": version,
        "warn_days": list(check.warn_days),
    }
    if not_before > now:
        summary = f"certificate not valid before {not_before.date().isoformat()}"
        return CheckResult.of(
            check, at, CheckStatus.CRITICAL, summary, latency_ms, threshold=None, **details
        )
    status, threshold = tls_status(days_left, check.warn_days)
    return CheckResult.of(
        check,
        at,
        status,
        tls_summary(days_left, not_after),
        latency_ms,
        threshold=threshold,
        **details,
    )


def _sni_name(host: str) -> str | None:
    """SNI carries names only: an IP literal host sends none."""
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return bare
    return None


def _since(start: float) -> float:
    return (time.perf_counter() - start) * 1000
