"""HTTP(S) probe: status, body text and latency of one GET, redirects followed by hand.

httpx follows redirects anywhere; a check must not, because a redirect is the easiest way
around the SSRF guard (a catalogue host answering `Location: http://169.254.169.254/`). So
redirects are followed here, at most MAX_REDIRECTS, only on the same host, and each hop goes
through `vet` again. Each request connects to the address `vet` returned, not to a second
resolution of the name (no DNS-rebinding window): the URL carries the vetted IP, the Host
header and the TLS SNI / certificate check carry the name (httpx's `sni_hostname` request
extension), so the server and the certificate verification see the name as usual.
"""

import ipaddress
import logging
import os
import ssl
import time
from datetime import datetime

import httpx

from serviceops.domain.cmdb import (
    CheckResult,
    CheckStatus,
    HttpCheck,
    NetworkPolicy,
    hide_password,
    http_status,
)
from serviceops.probes.guard import TargetRefused, normalise_host, vet

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1024 * 1024  # enough for any health page; a probe never buffers a download
USER_AGENT = "serviceops-check/1"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _DeadlineExceeded(Exception):
    """The check's timeout ran out across hops or while reading the body."""


class _InvalidRedirect(Exception):
    """A redirect whose Location httpx cannot make a URL of (`http:\\\\evil\\`: a scheme, no
    host). httpx parses it even when not following redirects, and raises InvalidURL, which
    is no HTTPError: a server's bad answer, not a fault of the probe."""


def probe_http(
    check: HttpCheck, policy: NetworkPolicy, known_hosts: frozenset[str], at: datetime
) -> CheckResult:
    """GET `check.url` and judge status, body and latency. Never raises for a network or
    policy failure: those are CRITICAL results saying what happened."""
    start = time.perf_counter()
    deadline = start + check.timeout_s
    url = httpx.URL(check.url)
    redirects: list[str] = []
    try:
        # trust_env=False: an environment proxy would resolve and connect for us, defeating
        # the guard, and ~/.netrc credentials have no business in a health check.
        with httpx.Client(
            follow_redirects=False,
            trust_env=False,
            verify=_verify(),
            headers={"User-Agent": USER_AGENT},
        ) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                response, address = _send(client, url, policy, known_hosts, deadline)
                try:
                    if not response.is_redirect or response.status_code in check.expect_status:
                        return _judge(check, at, response, address, url, redirects, start, deadline)
                    location = response.headers["location"]
                finally:
                    response.close()
                next_url = _next_hop(url, location)
                if isinstance(next_url, str):  # the reason it is not followed
                    shown = hide_password(location)
                    return _critical(check, at, next_url, start, redirects, location=shown)
                redirects.append(hide_password(str(next_url)))
                url = next_url
            return _critical(check, at, f"more than {MAX_REDIRECTS} redirects", start, redirects)
    except TargetRefused as refused:
        return _critical(check, at, f"refused: {refused}", None, redirects)
    except _InvalidRedirect:
        return _critical(check, at, "redirect to an invalid location", start, redirects)
    except (_DeadlineExceeded, httpx.TimeoutException):
        return _critical(check, at, f"timed out after {check.timeout_s:g} s", start, redirects)
    except httpx.ConnectError as error:
        return _critical(check, at, f"connection failed: {_first_line(error)}", start, redirects)
    except httpx.HTTPError as error:
        summary = f"{type(error).__name__}: {_first_line(error)}"
        return _critical(check, at, summary, start, redirects)
    except OSError as error:  # name resolution in vet
        return _critical(check, at, f"cannot resolve {url.host}: {error}", None, redirects)


def _judge(
    check: HttpCheck,
    at: datetime,
    response: httpx.Response,
    address: str,
    url: httpx.URL,
    redirects: list[str],
    start: float,
    deadline: float,
) -> CheckResult:
    """The result of the final answer: latency counts every hop and the body read."""
    body, truncated = _read_body(response, deadline)
    latency_ms = (time.perf_counter() - start) * 1000
    status, summary = http_status(
        response.status_code,
        check.expect_status,
        latency_ms,
        check.max_latency_ms,
        check.contains,
        None if check.contains is None else check.contains in body,
    )
    return CheckResult.of(
        check,
        at,
        status,
        summary,
        latency_ms,
        status_code=response.status_code,
        url=hide_password(str(url)),
        address=address,
        redirects=redirects,
        body_truncated=truncated,
    )


def _send(
    client: httpx.Client,
    url: httpx.URL,
    policy: NetworkPolicy,
    known_hosts: frozenset[str],
    deadline: float,
) -> tuple[httpx.Response, str]:
    """Send the GET to a vetted address of the URL's host, trying the next address only
    when a connection cannot be made; the response is streamed (the caller closes it)."""
    port = url.port or _DEFAULT_PORTS[url.scheme]
    addresses = vet(url.host, port, policy, known_hosts)
    extensions: dict[str, str] = {}
    if url.scheme == "https" and not _is_ip(url.host):
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    last_error: httpx.ConnectError | None = None
    for address in addresses:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise _DeadlineExceeded
        request = client.build_request(
            "GET",
            url.copy_with(host=address),
            headers={"Host": url.netloc.decode("ascii")},
            extensions=extensions,
            timeout=httpx.Timeout(remaining),
        )
        try:
            return client.send(request, stream=True), address
        except httpx.InvalidURL:  # the request's URL is built above: only a Location is left
            raise _InvalidRedirect from None
        except httpx.ConnectError as error:
            logger.debug("connect to %s (%s) failed: %s", url.host, address, error)
            last_error = error
    if last_error is None:  # vet returns at least one address; keep the type checker honest
        raise httpx.ConnectError(f"no address for {url.host}")
    raise last_error


def _read_body(response: httpx.Response, deadline: float) -> tuple[str, bool]:
    """The body's text, at most MAX_BODY_BYTES of it, within the deadline (httpx's timeouts
    are per read, so a server dripping bytes would otherwise hold the probe forever)."""
    chunks: list[bytes] = []
    size = 0
    truncated = False
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if time.perf_counter() > deadline:
            raise _DeadlineExceeded
        if size >= MAX_BODY_BYTES:
            truncated = True
            break
    data = b"".join(chunks)[:MAX_BODY_BYTES]
    return data.decode(response.encoding or "utf-8", errors="replace"), truncated


def _next_hop(current: httpx.URL, location: str) -> httpx.URL | str:
    """The URL a redirect leads to, or why it is not followed: same host only; a port change
    only together with the http -> https upgrade; never a downgrade to plain http."""
    try:
        target = current.join(location)
    except httpx.InvalidURL:
        return "redirect to an invalid location"
    if target.scheme not in _DEFAULT_PORTS:
        return f"redirect to unsupported scheme refused: {target.scheme}"
    if normalise_host(target.host) != normalise_host(current.host):
        return f"redirect to other host refused: {target.host}"
    if current.scheme == "https" and target.scheme == "http":
        return "redirect from https to http refused"
    port = current.port or _DEFAULT_PORTS[current.scheme]
    target_port = target.port or _DEFAULT_PORTS[target.scheme]
    if target.scheme == current.scheme and target_port != port:
        return f"redirect to other port refused: {target_port}"
    return target


def _critical(
    check: HttpCheck,
    at: datetime,
    summary: str,
    start: float | None,
    redirects: list[str],
    **details: object,
) -> CheckResult:
    latency_ms = None if start is None else (time.perf_counter() - start) * 1000
    return CheckResult.of(
        check, at, CheckStatus.CRITICAL, summary, latency_ms, redirects=redirects, **details
    )


def _verify() -> ssl.SSLContext | bool:
    """Certificate verification as httpx does it (certifi), plus the SSL_CERT_FILE /
    SSL_CERT_DIR an operator sets for an internal CA (trust_env=False drops those)."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    return True


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
