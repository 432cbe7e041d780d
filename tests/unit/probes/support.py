"""Helpers shared by the probe tests: the loopback policy and catalogue names, the fake DNS,
the thread that serves a test server, and the handle of the TLS test server.

Network probes run with `allow_loopback=True` and the loopback names in the catalogue, since
that is where the test servers are.
"""

import socket
import socketserver
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from serviceops.domain.cmdb import CheckStatus, NetworkPolicy

OK, WARNING, CRITICAL = CheckStatus.OK, CheckStatus.WARNING, CheckStatus.CRITICAL
LOOPBACK = NetworkPolicy(allow_loopback=True)
KNOWN = frozenset({"127.0.0.1", "localhost"})


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Spy:
    """Every socket.connect and socket.getaddrinfo made while the spy is on."""

    connects: list[Any] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)


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


def serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return thread


@dataclass
class TlsServer:
    port: int
    server_names: list[str | None]
