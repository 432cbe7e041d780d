"""Helpers shared by the gateway tests: serving an app on a real socket, a Prefect URL that
refuses or never answers, and signing like a webhook sender or Slack."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn
from fastapi import FastAPI

from serviceops.gateway.signatures import sign_serviceops, sign_slack

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn on an ephemeral loopback port, in a thread; its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def closed_port_url() -> str:
    """A Prefect API URL on a loopback port nobody listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


@contextmanager
def silent_server() -> Iterator[str]:
    """A Prefect API URL whose server accepts connections and never answers (a hung API)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()


class Collector:
    """A loopback HTTP endpoint that records JSON POSTs (a Slack response_url)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.received = threading.Event()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                collector.posts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                collector.received.set()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/actions/T1/B2/xyz"

    def __enter__(self) -> "Collector":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def webhook_headers(
    body: bytes,
    secret: str,
    *,
    source: str = "portal",
    at: float | None = None,
    key: str | None = None,
) -> dict[str, str]:
    """Headers a correctly signing sender would send."""
    timestamp = str(int(time.time() if at is None else at))
    headers = {
        "Content-Type": "application/json",
        "X-ServiceOps-Source": source,
        "X-ServiceOps-Timestamp": timestamp,
        "X-ServiceOps-Signature": sign_serviceops(secret, timestamp, body),
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def slack_headers(body: bytes, secret: str, *, at: float | None = None) -> dict[str, str]:
    """Headers Slack sends with an interaction, signed v0."""
    timestamp = str(int(time.time() if at is None else at))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign_slack(secret, timestamp, body),
    }
