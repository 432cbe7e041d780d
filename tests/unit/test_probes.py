"""The probes against real servers on the loopback interface, started by the tests.

Network probes run with `allow_loopback=True` and the loopback names in the catalogue, since
that is where the test servers are; the SSRF tests turn that off and assert that nothing was
connected (socket.connect is spied on) or resolved (socket.getaddrinfo is spied on).
"""

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import socket
import socketserver
import sqlite3
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import serviceops.probes as probes
from serviceops.domain.cmdb import (
    BackupCheck,
    CheckKind,
    CheckStatus,
    DatabaseCheck,
    DiskCheck,
    HttpCheck,
    NetworkPolicy,
    TcpCheck,
    TlsCheck,
    disk_used_percent,
)
from serviceops.probes import TargetRefused, run_check, vet
from serviceops.probes.http import _next_hop

OK, WARNING, CRITICAL = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
LOOPBACK = NetworkPolicy(allow_loopback=True)
KNOWN = frozenset({"127.0.0.1", "localhost"})
BACKSLASHES = "http:\\\\evil\\"


def now() -> datetime:
    return datetime.now(UTC)


# =============================================================================== spies


@dataclass
class Spy:
    """Every socket.connect and socket.getaddrinfo made while the spy is on."""

    connects: list[Any] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    seen = Spy()
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        seen.connects.append(address)
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.lookups.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return seen


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Resolve the names in `table` to its addresses (everything else as usual); returns the
    list of names looked up through the fake."""
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in table:
            asked.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port, 0, 0) if ":" in ip else (ip, port),
                )
                for ip in table[host]
            ]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


# =============================================================================== HTTP server


class _Handler(BaseHTTPRequestHandler):
    server: "_HttpServer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.hits.append((self.path, self.headers.get("Host", "")))
        path = urlsplit(self.path).path
        own = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path == "/ok":
            self._answer(200, b"<html>hello serviceops</html>")
        elif path == "/error":
            self._answer(500, b"boom")
        elif path.startswith("/slow/"):
            time.sleep(int(path.rsplit("/", 1)[1]) / 1000)
            self._answer(200, b"slow but fine")
        elif path == "/redirect-same":
            self._answer(302, b"", location="/ok")
        elif path == "/redirect-absolute":
            self._answer(301, b"", location=f"{own}/ok")
        elif path == "/redirect-other":
            self._answer(302, b"", location="http://other.invalid/")
        elif path == "/redirect-localhost":
            self._answer(302, b"", location=self.server.other_url)
        elif path == "/redirect-port":
            self._answer(302, b"", location=self.server.other_url.replace("localhost", "127.0.0.1"))
        elif path == "/redirect-metadata":
            self._answer(302, b"", location="http://169.254.169.254/latest/meta-data/")
        elif path == "/redirect":  # to the URL in the query string
            self._answer(302, b"", location=parse_qs(urlsplit(self.path).query)["to"][0])
        elif path == "/loop":
            self._answer(302, b"", location="/loop")
        else:
            self._answer(404, b"not found")

    def _answer(self, status: int, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if location is not None:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    hits: list[tuple[str, str]]
    other_url: str = ""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout test) makes the write fail: expected


def _serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return thread


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[_HttpServer, _HttpServer]]:
    """The server under test on 127.0.0.1 and an "other" one that a redirect points at as
    http://localhost:<port>/ (a different host name), to prove it is never contacted."""
    main, other = (_HttpServer(("127.0.0.1", 0), _Handler) for _ in range(2))
    main.hits, other.hits = [], []
    main.other_url = f"http://localhost:{other.server_address[1]}/ok"
    for server in (main, other):
        _serve(server)
    yield main, other
    for server in (main, other):
        server.shutdown()
        server.server_close()


@pytest.fixture
def web(servers: tuple[_HttpServer, _HttpServer]) -> _HttpServer:
    for server in servers:
        server.hits.clear()
    return servers[0]


@pytest.fixture
def other_web(servers: tuple[_HttpServer, _HttpServer]) -> _HttpServer:
    return servers[1]


def http_check(server: _HttpServer, path: str, **fields: Any) -> HttpCheck:
    port = server.server_address[1]
    return HttpCheck(name="web", service="portal", url=f"http://127.0.0.1:{port}{path}", **fields)


# =============================================================================== HTTP


def test_http_ok_with_expected_text(web: _HttpServer) -> None:
    at = now()
    result = run_check(http_check(web, "/ok", contains="hello serviceops"), LOOPBACK, KNOWN, at)
    assert result.status is OK, result.summary
    assert result.summary.startswith("HTTP 200 in ")
    assert result.kind is CheckKind.HTTP
    assert (result.check, result.service, result.checked_at) == ("web", "portal", at)
    assert result.latency_ms is not None and result.latency_ms > 0
    assert result.details["status_code"] == 200
    assert result.details["address"] == "127.0.0.1"
    assert result.details["redirects"] == []
    assert [path for path, _ in web.hits] == ["/ok"]


def test_http_missing_text_is_critical(web: _HttpServer) -> None:
    result = run_check(http_check(web, "/ok", contains="welcome back"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "HTTP 200 but body lacks 'welcome back'"


def test_http_unexpected_status_is_critical(web: _HttpServer) -> None:
    result = run_check(http_check(web, "/error"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "HTTP 500 (expected 200)"
    assert result.details["status_code"] == 500
    ok = run_check(http_check(web, "/error", expect_status=[500, 503]), LOOPBACK, KNOWN, now())
    assert ok.status is OK


def test_http_slow_answer_is_a_warning(web: _HttpServer) -> None:
    check = http_check(web, "/slow/300", max_latency_ms=100, timeout_s=3)
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is WARNING, result.summary
    assert result.summary.endswith("(slower than 100 ms)")
    assert result.latency_ms is not None and result.latency_ms >= 300


def test_http_answer_slower_than_the_timeout_is_critical(web: _HttpServer) -> None:
    started = time.perf_counter()
    result = run_check(http_check(web, "/slow/1500", timeout_s=0.3), LOOPBACK, KNOWN, now())
    assert time.perf_counter() - started < 1.2
    assert result.status is CRITICAL
    assert result.summary == "timed out after 0.3 s"


def test_http_redirect_on_the_same_host_is_followed(web: _HttpServer) -> None:
    port = web.server_address[1]
    result = run_check(http_check(web, "/redirect-same", contains="hello"), LOOPBACK, KNOWN, now())
    assert result.status is OK, result.summary
    assert result.details["redirects"] == [f"http://127.0.0.1:{port}/ok"]
    assert result.details["url"] == f"http://127.0.0.1:{port}/ok"
    assert [path for path, _ in web.hits] == ["/redirect-same", "/ok"]
    absolute = run_check(http_check(web, "/redirect-absolute"), LOOPBACK, KNOWN, now())
    assert absolute.status is OK


def test_http_expected_redirect_is_not_followed(web: _HttpServer) -> None:
    result = run_check(
        http_check(web, "/redirect-same", expect_status=[302]), LOOPBACK, KNOWN, now()
    )
    assert result.status is OK
    assert [path for path, _ in web.hits] == ["/redirect-same"]


def test_http_redirect_to_other_host_is_refused_and_never_contacted(
    web: _HttpServer, other_web: _HttpServer, spy: Spy
) -> None:
    result = run_check(http_check(web, "/redirect-other"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "redirect to other host refused: other.invalid"
    assert result.details["location"] == "http://other.invalid/"
    assert "other.invalid" not in spy.lookups
    assert all("other.invalid" not in str(address) for address in spy.connects)

    # also when the other host is a catalogue host that resolves and listens
    result = run_check(http_check(web, "/redirect-localhost"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "redirect to other host refused: localhost"
    assert other_web.hits == []
    assert "localhost" not in spy.lookups


def test_http_redirect_to_other_port_or_metadata_is_refused(
    web: _HttpServer, other_web: _HttpServer
) -> None:
    result = run_check(http_check(web, "/redirect-port"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == f"redirect to other port refused: {other_web.server_address[1]}"
    assert other_web.hits == []
    result = run_check(http_check(web, "/redirect-metadata"), LOOPBACK, KNOWN, now())
    assert result.summary == "redirect to other host refused: 169.254.169.254"


def test_http_upgrade_to_https_on_the_same_host_is_followed(
    web: _HttpServer, tls_server: "TlsServer"
) -> None:
    port = web.server_address[1]
    target = f"https://localhost:{tls_server.port}/"
    check = HttpCheck(
        name="web", service="x", url=f"http://localhost:{port}/redirect?to={quote(target)}"
    )
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.details["redirects"] == [target]
    assert result.status is CRITICAL  # the test certificate is self-signed
    assert "CERTIFICATE_VERIFY_FAILED" in result.summary
    assert tls_server.server_names[-1] == "localhost"


@pytest.mark.parametrize(
    ("current", "location", "expected"),
    [
        ("http://a.test/x", "/y", "http://a.test/y"),
        ("http://a.test/x", "https://A.test:8443/y", "https://a.test:8443/y"),
        ("http://a.test:8080/x", "http://a.test:8080/y", "http://a.test:8080/y"),
        ("http://a.test:8080/x", "http://a.test:9090/y", "redirect to other port refused: 9090"),
        ("https://a.test/x", "http://a.test/y", "redirect from https to http refused"),
        ("https://a.test/x", "//b.test/y", "redirect to other host refused: b.test"),
        ("https://a.test/x", "ftp://a.test/y", "redirect to unsupported scheme refused: ftp"),
    ],
)
def test_redirect_rules(current: str, location: str, expected: str) -> None:
    assert str(_next_hop(httpx.URL(current), location)) == expected


def test_http_redirect_to_an_unparseable_location_is_critical_without_a_traceback(
    web: _HttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """`http:\\evil\\` has a scheme and no host: httpx cannot even build the next request."""
    port = web.server_address[1]
    check = HttpCheck(
        name="web", service="x", url=f"http://127.0.0.1:{port}/redirect?to={quote(BACKSLASHES)}"
    )
    with caplog.at_level("DEBUG", logger="serviceops"):
        result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "redirect to an invalid location"
    assert [r for r in caplog.records if r.exc_info or r.levelname == "ERROR"] == []


def test_http_redirect_loop_stops_after_five(web: _HttpServer) -> None:
    result = run_check(http_check(web, "/loop"), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "more than 5 redirects"
    assert len(web.hits) == 6


def test_http_connects_to_the_vetted_address_with_the_name_in_host(
    web: _HttpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One resolution per hop (no second lookup a rebinding DNS could answer differently);
    the server still sees the name in the Host header."""
    asked = fake_dns(monkeypatch, {"portal.test": ["127.0.0.1"]})
    port = web.server_address[1]
    check = HttpCheck(name="web", service="portal", url=f"http://portal.test:{port}/redirect-same")
    result = run_check(check, LOOPBACK, frozenset({"portal.test"}), now())
    assert result.status is OK, result.summary
    assert asked == ["portal.test", "portal.test"]  # the first request and the redirect hop
    assert web.hits == [("/redirect-same", f"portal.test:{port}"), ("/ok", f"portal.test:{port}")]


def test_http_refused_before_any_connection_for_metadata_address(spy: Spy) -> None:
    check = HttpCheck(name="meta", service="x", url="http://169.254.169.254/latest/meta-data/")
    policy = NetworkPolicy(allow_hosts=["169.254.169.254"])
    result = run_check(check, policy, frozenset(), now())
    assert result.status is CRITICAL
    assert result.summary == "refused: 169.254.169.254 is link-local (cloud metadata)"
    assert spy.connects == []


def test_http_ipv4_mapped_loopback_refused_unless_loopback_allowed(
    web: _HttpServer, spy: Spy
) -> None:
    port = web.server_address[1]
    check = HttpCheck(name="web", service="x", url=f"http://[::ffff:127.0.0.1]:{port}/ok")
    known = frozenset({"::ffff:127.0.0.1"})
    refused = run_check(check, NetworkPolicy(), known, now())
    assert refused.status is CRITICAL
    assert refused.summary == "refused: ::ffff:127.0.0.1 is loopback"
    assert spy.connects == []
    assert web.hits == []

    allowed = run_check(check, LOOPBACK, known, now())
    assert allowed.status is OK, allowed.summary
    assert allowed.details["address"] == "127.0.0.1"
    assert [path for path, _ in web.hits] == ["/ok"]


def test_http_host_outside_catalogue_is_refused_without_a_lookup(spy: Spy) -> None:
    check = HttpCheck(name="x", service="x", url="http://intranet.example/admin")
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == (
        "refused: intranet.example is not a catalogue host nor in the allow list"
    )
    assert spy.lookups == []
    assert spy.connects == []


def test_http_closed_port_is_critical(closed_port: int) -> None:
    check = HttpCheck(name="web", service="x", url=f"http://127.0.0.1:{closed_port}/", timeout_s=1)
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary.startswith("connection failed: ")


def test_https_verifies_certificates_and_sends_the_name_as_sni(tls_server: "TlsServer") -> None:
    """httpx's verification stays on (a self-signed certificate fails), and pinning the
    address keeps SNI and the certificate check on the host name."""
    check = HttpCheck(
        name="web", service="x", url=f"https://localhost:{tls_server.port}/", timeout_s=2
    )
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary.startswith("connection failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in result.summary
    assert tls_server.server_names[-1] == "localhost"


# =============================================================================== TLS server


def make_certificate(directory: Path, name: str, days: float) -> tuple[Path, Path]:
    """A self-signed certificate for `name` valid from an hour ago for `days` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - timedelta(hours=1))
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _TlsHandler(socketserver.BaseRequestHandler):
    server: "_TlsTcpServer"

    def handle(self) -> None:
        self.request.settimeout(3)
        try:
            with self.server.context.wrap_socket(self.request, server_side=True) as tls:
                tls.recv(1)  # until the client closes
        except (ssl.SSLError, OSError):
            pass


class _TlsTcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    context: ssl.SSLContext


@dataclass
class TlsServer:
    port: int
    server_names: list[str | None]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """One TLS server choosing its certificate by SNI: expires-5.test, expires-20.test,
    expires-90.test (also the default, and the one "localhost" gets)."""
    directory = tmp_path_factory.mktemp("certs")
    contexts: dict[str, ssl.SSLContext] = {}
    for name, days in (("expires-5.test", 5), ("expires-20.test", 20), ("expires-90.test", 90)):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*make_certificate(directory, name, days))
        contexts[name] = context
    default = contexts["expires-90.test"]
    names: list[str | None] = []

    def choose(sock: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        names.append(name)
        sock.context = contexts.get(name or "", default)

    default.sni_callback = choose  # type: ignore[assignment]
    server = _TlsTcpServer(("127.0.0.1", 0), _TlsHandler)
    server.context = default
    _serve(server)
    yield TlsServer(port=server.server_address[1], server_names=names)
    server.shutdown()
    server.server_close()


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


# =============================================================================== TLS


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


# =============================================================================== TCP


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound to learn a free number, then closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


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


# =============================================================================== guard


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
        ("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)"),  # NAT64 spelling
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
    ],
)
def test_vet_refuses_address_classes_by_default(address: str, reason: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        vet(address, 80, NetworkPolicy(), frozenset({address}))
    assert str(refused.value) == f"{address} is {reason}"


def test_vet_allows_what_the_policy_allows() -> None:
    everything = NetworkPolicy(allow_loopback=True, allow_link_local=True, allow_private=True)
    assert vet("169.254.169.254", 80, everything, frozenset({"169.254.169.254"})) == [
        "169.254.169.254"
    ]
    assert vet("[fe80::1]", 80, everything, frozenset({"fe80::1"})) == ["fe80::1"]
    assert vet("100.100.100.200", 80, everything, frozenset({"100.100.100.200"})) == [
        "100.100.100.200"
    ]
    assert vet("[::ffff:127.0.0.1]", 80, everything, frozenset({"::ffff:127.0.0.1"})) == [
        "127.0.0.1"
    ]
    assert vet("10.1.2.3", 80, NetworkPolicy(), frozenset({"10.1.2.3"})) == ["10.1.2.3"]
    with pytest.raises(TargetRefused, match="a private address"):
        vet("10.1.2.3", 80, NetworkPolicy(allow_private=False), frozenset({"10.1.2.3"}))
    with pytest.raises(TargetRefused, match="a private address"):
        vet("100.64.0.1", 80, NetworkPolicy(allow_private=False), frozenset({"100.64.0.1"}))
    with pytest.raises(TargetRefused, match="a private address"):
        vet(
            "::ffff:192.168.1.1",
            80,
            NetworkPolicy(allow_private=False),
            frozenset({"::ffff:192.168.1.1"}),
        )
    assert vet("8.8.8.8", 53, NetworkPolicy(allow_private=False), frozenset({"8.8.8.8"})) == [
        "8.8.8.8"
    ]
    # unspecified, multicast and reserved stay refused whatever the policy
    for address in ("0.0.0.0", "224.0.0.1", "240.0.0.1"):
        with pytest.raises(TargetRefused):
            vet(address, 80, everything, frozenset({address}))


def test_vet_refuses_a_name_when_any_of_its_addresses_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(
        monkeypatch,
        {
            "mixed.example": ["93.184.216.34", "169.254.169.254"],
            "public.example": ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"],
        },
    )
    known = frozenset({"mixed.example", "Public.Example"})
    with pytest.raises(TargetRefused) as refused:
        vet("mixed.example", 443, NetworkPolicy(), known)
    assert str(refused.value) == "mixed.example (169.254.169.254) is link-local (cloud metadata)"
    assert vet("PUBLIC.example.", 443, NetworkPolicy(), known) == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]


def test_vet_host_must_be_in_the_catalogue_or_allow_list(spy: Spy) -> None:
    policy = NetworkPolicy(allow_hosts=["Extra.Example"])
    with pytest.raises(TargetRefused, match="not a catalogue host nor in the allow list"):
        vet("elsewhere.example", 80, policy, frozenset({"catalogue.example"}))
    assert spy.lookups == []
    with pytest.raises(OSError):  # allowed, so it is resolved (and .invalid never resolves)
        vet("nothing.invalid", 80, policy, frozenset({"nothing.invalid"}))
    assert spy.lookups == ["nothing.invalid"]


# =============================================================================== backups


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


# =============================================================================== disk


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


# =============================================================================== database


def sqlite_check(path: Path) -> DatabaseCheck:
    return DatabaseCheck(name="db", service="crm", url=f"sqlite:///{path}", timeout_s=1)


def allowing(*dirs: Path) -> NetworkPolicy:
    return NetworkPolicy(allow_loopback=True, allow_database_dirs=[str(d) for d in dirs])


def test_database_sqlite_file_is_ok(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    result = run_check(sqlite_check(path), allowing(tmp_path), KNOWN, now())
    assert result.status is OK, result.summary
    assert result.summary.startswith("SELECT 1 on sqlite in ")
    assert result.details["backend"] == "sqlite"


def test_database_sqlite_outside_the_allowed_directories_is_refused(tmp_path: Path) -> None:
    """Only directories the catalogue allows: else a check could probe any file on disk."""
    allowed, outside = tmp_path / "dbs", tmp_path / "other"
    allowed.mkdir()
    outside.mkdir()
    path = outside / "app.db"
    sqlite3.connect(path).close()
    (allowed / "link.db").symlink_to(path)
    for database, policy in [
        (path, LOOPBACK),  # nothing allowed by default
        (path, allowing(allowed)),
        (allowed / ".." / "other" / "app.db", allowing(allowed)),
        (allowed / "link.db", allowing(allowed)),
        (Path("/etc/passwd"), allowing(allowed)),
    ]:
        result = run_check(sqlite_check(database), policy, KNOWN, now())
        assert result.status is CRITICAL
        assert result.summary == f"refused: {database} is not under an allowed database directory"
    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///file:{path}?uri=true"):
        check = DatabaseCheck(name="db", service="crm", url=url)
        result = run_check(check, allowing(allowed, outside), KNOWN, now())
        assert result.summary.startswith("refused: "), result.summary
        assert "not a file path" in result.summary


def test_database_sqlite_missing_or_not_a_database_cannot_be_told_apart(tmp_path: Path) -> None:
    missing, garbage = tmp_path / "missing.db", tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    results = [
        run_check(sqlite_check(path), allowing(tmp_path), KNOWN, now()).model_dump(
            exclude={"checked_at", "target"}
        )
        for path in (missing, garbage)
    ]
    assert not missing.exists()  # the probe did not create an empty database
    assert results[0] == results[1]
    assert results[0]["status"] == CRITICAL
    assert results[0]["summary"] == "sqlite database unreachable"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port on loopback that is open, accepts nothing on its own: a test can tell
    whether anything tried to connect."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def pg_check(host: str, port: int, timeout_s: float = 2) -> DatabaseCheck:
    return DatabaseCheck(
        name="db",
        service="crm",
        url=f"postgresql://nobody:s3cret-pw@{host}:{port}/x",
        timeout_s=timeout_s,
    )


def test_database_on_loopback_is_refused_by_the_guard_and_never_connects(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    result = run_check(pg_check("127.0.0.1", port), NetworkPolicy(), KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "refused: 127.0.0.1 is loopback"
    time.sleep(0.2)
    assert not connected(listener)


def test_database_metadata_address_is_refused_and_an_unknown_host_never_looked_up(
    monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    metadata = run_check(
        pg_check("169.254.169.254", 5432), LOOPBACK, KNOWN | {"169.254.169.254"}, now()
    )
    assert metadata.summary == "refused: 169.254.169.254 is link-local (cloud metadata)"
    unknown = run_check(pg_check("db.internal.test", 5432), LOOPBACK, KNOWN, now())
    assert (
        unknown.summary == "refused: db.internal.test is not a catalogue host nor in the allow list"
    )
    assert "db.internal.test" not in spy.lookups
    fake_dns(monkeypatch, {"db.test": ["169.254.169.254"]})
    rebound = run_check(pg_check("db.test", 5432), LOOPBACK, frozenset({"db.test"}), now())
    assert rebound.summary == "refused: db.test (169.254.169.254) is link-local (cloud metadata)"


def test_database_closed_port_open_port_and_unknown_name_give_one_summary(
    listener: socket.socket,
) -> None:
    """Nothing tells a closed port from an open one (or from a name that does not resolve),
    and no driver message reaches the result: the check must not be a port scanner."""
    with socket.create_server(("127.0.0.1", 0)) as closed:
        closed_port = closed.getsockname()[1]
    open_port = listener.getsockname()[1]

    def drop_every_connection() -> None:
        listener.setblocking(True)
        listener.settimeout(5)
        with contextlib.suppress(OSError):
            listener.accept()[0].close()

    threading.Thread(target=drop_every_connection, daemon=True).start()
    known = KNOWN | {"nowhere.invalid"}
    results = [
        run_check(pg_check(host, port), LOOPBACK, known, now())
        for host, port in [
            ("127.0.0.1", closed_port),
            ("127.0.0.1", open_port),
            ("nowhere.invalid", 5432),
        ]
    ]
    shown = [r.model_dump(exclude={"checked_at", "target"}) for r in results]
    assert shown[0] == shown[1] == shown[2]
    assert shown[0]["summary"] == "postgresql database unreachable"
    assert shown[0]["latency_ms"] is None
    assert all("s3cret-pw" not in r.model_dump_json() for r in results)


def test_database_connects_to_the_vetted_address_not_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch, listener: socket.socket
) -> None:
    """psycopg resolves a name itself (through Python's getaddrinfo) unless it is given
    `hostaddr`: one lookup, the guard's, means it connected to the address that was vetted."""
    asked = fake_dns(monkeypatch, {"db.test": ["127.0.0.1"]})
    port = listener.getsockname()[1]
    result = run_check(
        pg_check("db.test", port, timeout_s=1), LOOPBACK, frozenset({"db.test"}), now()
    )
    assert result.summary == "postgresql database unreachable"  # the listener never answers
    assert asked == ["db.test"]
    assert connected(listener)


def test_database_postgres_through_the_guard_is_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real server of the test run, reached by a name only the fake DNS knows."""
    base = os.environ.get("SERVICEOPS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SERVICEOPS_TEST_POSTGRES_URL not set")
    parts = urlsplit(base)
    fake_dns(monkeypatch, {"pg.test": [parts.hostname or ""]})
    url = base.replace(f"@{parts.hostname}", "@pg.test", 1)
    check = DatabaseCheck(name="db", service="crm", url=url)
    result = run_check(check, LOOPBACK, frozenset({"pg.test"}), now())
    assert result.status is OK, result.summary
    assert result.summary.startswith("SELECT 1 on postgresql in ")


def test_database_url_options_that_move_the_connection_are_refused(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    for query in ("hostaddr=127.0.0.1", "host=/var/run/postgresql", "service=prod", "port=1"):
        check = DatabaseCheck(
            name="db", service="crm", url=f"postgresql://u@db.example.com:{port}/x?{query}"
        )
        result = run_check(check, NetworkPolicy(), frozenset({"db.example.com"}), now())
        option = query.split("=")[0]
        assert result.summary == f"refused: the database URL option {option} is not allowed"
    socketless = DatabaseCheck(name="db", service="crm", url="postgresql:///x")
    result = run_check(socketless, LOOPBACK, KNOWN, now())
    assert result.summary == "refused: the database URL names no host"
    assert not connected(listener)


def test_database_unsupported_url_is_critical() -> None:
    check = DatabaseCheck(name="db", service="crm", url="mysql://u:s3cret-pw@127.0.0.1:1/x")
    result = run_check(check, LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "unsupported database URL (mysql)"
    assert "s3cret-pw" not in result.model_dump_json()
    garbage = DatabaseCheck(name="db", service="crm", url="not a url")
    assert run_check(garbage, LOOPBACK, KNOWN, now()).summary == "invalid database URL"


# =============================================================================== run_check


def test_run_check_never_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("disk probe exploded\nsecond line")

    monkeypatch.setattr(probes, "probe_disk", broken)
    result = run_check(DiskCheck(name="d", service="x", path=str(tmp_path)), LOOPBACK, KNOWN, now())
    assert result.status is CRITICAL
    assert result.summary == "probe error: RuntimeError: disk probe exploded"
    assert json.loads(result.model_dump_json())["status"] == "critical"


def test_no_prefect_in_the_probes() -> None:
    """The probes and the rules run anywhere (a worker, the CLI, a test) without Prefect."""
    root = Path(probes.__file__).parent
    sources = [*root.glob("*.py"), root.parent / "domain" / "cmdb" / "checks.py"]
    assert len(sources) >= 8
    for source in sources:
        assert "prefect" not in source.read_text().lower(), source
