"""TLS certificate expiry against a local TLS server that picks its certificate by SNI, and
plain TCP connects: thresholds, timeouts, closed ports and the policy refusing loopback.
"""

import socket
from datetime import datetime, timedelta
from typing import Any

from serviceops.domain.cmdb import NetworkPolicy, TcpCheck, TlsCheck
from serviceops.probes import run_check
from tests.unit.probes.support import CRITICAL, KNOWN, LOOPBACK, OK, WARNING, Spy, TlsServer, now


def tls_check(server: TlsServer, server_name: str | None, **fields: Any) -> TlsCheck:
    return TlsCheck(
        name="cert",
        service="portal",
        host="127.0.0.1",
        port=server.port,
        server_name=server_name,
        timeout_s=2,
        **fields,
    )


def test_tls_certificate_expiring_in_5_days_is_critical(tls_server: TlsServer) -> None:
    result = run_check(tls_check(tls_server, "expires-5.test"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL, result.summary
    assert 4 <= result.details["days_left"] <= 5
    assert result.details["threshold"] == 7
    assert result.details["subject"] == "CN=expires-5.test"
    assert result.details["server_name"] == "expires-5.test"
    not_after = datetime.fromisoformat(result.details["not_after"])
    assert result.summary == f"certificate expires in 4 days ({not_after.date().isoformat()})"
    assert tls_server.server_names[-1] == "expires-5.test"


def test_tls_certificate_expiring_in_20_days_is_a_warning(tls_server: TlsServer) -> None:
    result = run_check(tls_check(tls_server, "expires-20.test"), LOOPBACK, KNOWN, now())
    assert result.status is WARNING, result.summary
    assert result.details["threshold"] == 30
    assert 19 <= result.details["days_left"] <= 20
    assert result.summary.startswith("certificate expires in 19 days (")


def test_tls_certificate_expiring_in_90_days_is_ok(tls_server: TlsServer) -> None:
    result = run_check(tls_check(tls_server, "expires-90.test"), LOOPBACK, KNOWN, now())
    assert result.status is OK, result.summary
    assert result.details["threshold"] is None
    assert 89 <= result.details["days_left"] <= 90
    assert result.latency_ms is not None


def test_tls_days_are_counted_from_the_check_time(tls_server: TlsServer) -> None:
    later = now() + timedelta(days=5.5)
    result = run_check(tls_check(tls_server, "expires-5.test"), LOOPBACK, KNOWN, later)
    assert result.status is CRITICAL
    assert result.summary.startswith("certificate expired today (")
    assert result.details["days_left"] < 0


def test_tls_host_name_is_the_default_sni_and_an_ip_sends_none(tls_server: TlsServer) -> None:
    check = TlsCheck(name="cert", service="x", host="localhost", port=tls_server.port)
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is OK, result.summary
    assert tls_server.server_names[-1] == "localhost"
    run_check(tls_check(tls_server, None), LOOPBACK, KNOWN, now())
    assert tls_server.server_names[-1] is None


def test_tls_handshake_timeout_and_closed_port(closed_port: int) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        check = TlsCheck(
            name="cert", service="x", host="127.0.0.1", port=silent.getsockname()[1], timeout_s=0.3
        )
        result = run_check(check, LOOPBACK, KNOWN, now())
    finally:
        silent.close()
    assert result.status is CRITICAL
    assert result.summary == "timed out after 0.3 s in the TLS handshake"
    closed = TlsCheck(name="cert", service="x", host="127.0.0.1", port=closed_port, timeout_s=1)
    result = run_check(closed, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == f"connection refused: 127.0.0.1:{closed_port}"


def test_tls_refused_by_policy_without_connecting(tls_server: TlsServer, spy: Spy) -> None:
    result = run_check(tls_check(tls_server, "expires-90.test"), NetworkPolicy(), KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "refused: 127.0.0.1 is loopback"
    assert spy.connects == []


def test_tcp_open_port_is_ok() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        port = listener.getsockname()[1]
        check = TcpCheck(name="smtp", service="mail", host="127.0.0.1", port=port, timeout_s=1)
        result = run_check(check, LOOPBACK, KNOWN, now())
    finally:
        listener.close()
    assert result.status is OK, result.summary
    assert result.summary.startswith(f"connected to 127.0.0.1:{port} in ")
    assert result.target == f"127.0.0.1:{port}"
    assert result.details["address"] == "127.0.0.1"


def test_tcp_closed_port_is_critical(closed_port: int) -> None:
    check = TcpCheck(name="smtp", service="mail", host="127.0.0.1", port=closed_port, timeout_s=1)
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == f"connection refused: 127.0.0.1:{closed_port}"


def test_tcp_refused_by_policy_and_unresolvable_name(spy: Spy) -> None:
    check = TcpCheck(name="smtp", service="mail", host="127.0.0.1", port=25)
    result = run_check(check, NetworkPolicy(), KNOWN, now())
    assert result.summary == "refused: 127.0.0.1 is loopback"
    assert spy.connects == []
    missing = TcpCheck(name="smtp", service="mail", host="nothing.invalid", port=25)
    result = run_check(missing, LOOPBACK, frozenset({"nothing.invalid"}), now())
    assert result.status is CRITICAL
    assert result.summary.startswith("cannot resolve nothing.invalid:25")
