"""Issue 9, defect 9d: a request framed two ways (Content-Length and Transfer-Encoding) is 400
and its connection closed, so nothing can be smuggled behind it; the framings h11 refuses itself
stay refused, and one framing still works. In process and over a real socket; both database
backends."""

import socket
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.gateway_support import AUTH, serve
from tests.unit.intake_guards.support import _recorded

# --------------------------------------------------------------------------- defect 9d


def test_content_length_with_transfer_encoding_is_400_in_process(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = b"0\r\n\r\n"
    headers = {"Content-Length": "5", "Transfer-Encoding": "chunked"}
    response = client.post("/webhooks/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "Content-Length and Transfer-Encoding together"}
    assert _recorded(sessions) == 0


def _raw(base: str, request: bytes) -> bytes:
    """Write `request` as is on a fresh connection; everything the server sends back until
    it closes (or goes quiet for two seconds)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=2) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def _smuggling(path: str, framing: bytes, body: bytes) -> bytes:
    return b"POST " + path.encode() + b" HTTP/1.1\r\nHost: gateway\r\n" + framing + b"\r\n" + body


CHUNKED_THEN_SMUGGLED = b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 48\r\n",
        b"content-length: 0\r\ntransfer-encoding: CHUNKED\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding:  chunked \r\n",
    ],
    ids=["cl-te", "te-cl", "lower-case", "padded"],
)
@pytest.mark.parametrize("path", ["/webhooks/requests", "/webhooks/events", "/healthz"])
def test_content_length_with_transfer_encoding_is_400_over_a_socket(
    app: FastAPI, sessions: sessionmaker[Session], framing: bytes, path: str
) -> None:
    with serve(app) as base:
        answer = _raw(base, _smuggling(path, framing, CHUNKED_THEN_SMUGGLED))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request", answer
    assert rest.lower().count(b"http/1.1") == 0, "nothing after the 400: the connection closed"
    assert b"connection: close" in rest.lower()
    assert _recorded(sessions) == 0


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding : chunked\r\n",
        b"Content-Length: +5\r\n",
    ],
    ids=["two-lengths", "two-codings", "two-headers", "space-before-colon", "signed-length"],
)
def test_what_the_http_parser_refuses_itself_stays_refused(app: FastAPI, framing: bytes) -> None:
    """h11 already refuses these framings before the app sees them; the guard adds the one it
    lets through (Content-Length with chunked)."""
    with serve(app) as base:
        answer = _raw(base, _smuggling("/healthz", framing, CHUNKED_THEN_SMUGGLED))
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.lower().count(b"http/1.1") == 1


def test_one_framing_still_works_over_a_socket(app: FastAPI) -> None:
    chunked = _smuggling("/healthz", b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n")
    with serve(app) as base, httpx.Client(base_url=base) as http:
        assert _raw(base, chunked).startswith(b"HTTP/1.1 405")  # POST: routed, not refused
        assert _raw(base, _smuggling("/healthz", b"Content-Length: 0\r\n", b"")).startswith(
            b"HTTP/1.1 405"
        )
        assert http.get("/api/v1/events", headers=AUTH).status_code == 200
