"""HTTP probes against a local thread server: status, body text, latency, timeouts and
redirects, which are followed only on the same host and port and are the way an SSRF
would slip past the guard.
"""

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from serviceops.domain.cmdb import CheckKind, HttpCheck, NetworkPolicy
from serviceops.probes import run_check
from serviceops.probes.http import _next_hop
from tests.unit.probes.support import (
    CRITICAL,
    KNOWN,
    LOOPBACK,
    OK,
    WARNING,
    Spy,
    TlsServer,
    fake_dns,
    now,
    serve,
)

BACKSLASHES = "http:\\\\evil\\"


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


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[_HttpServer, _HttpServer]]:
    """The server under test on 127.0.0.1 and an "other" one that a redirect points at as
    http://localhost:<port>/ (a different host name), to prove it is never contacted."""
    main, other = (_HttpServer(("127.0.0.1", 0), _Handler) for _ in range(2))
    main.hits, other.hits = [], []
    main.other_url = f"http://localhost:{other.server_address[1]}/ok"
    for server in (main, other):
        serve(server)
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
