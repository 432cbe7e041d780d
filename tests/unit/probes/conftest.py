"""Fixtures shared by the probe tests: the socket spy, a closed port and the TLS server.

The SSRF tests turn loopback off and assert that nothing was connected (socket.connect is
spied on) or resolved (socket.getaddrinfo is spied on).
"""

import socket
import socketserver
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.unit.probes.support import Spy, TlsServer, serve


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


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound to learn a free number, then closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


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
    serve(server)
    yield TlsServer(port=server.server_address[1], server_names=names)
    server.shutdown()
    server.server_close()
