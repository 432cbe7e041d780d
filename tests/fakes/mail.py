"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the mail that
serviceops sends through smtplib unchanged."""

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class _Keep:
    def __init__(self, mails: list[EmailMessage]) -> None:
        self.mails = mails

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.endswith("@nowhere.invalid"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        mail = message_from_bytes(content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 Message accepted for delivery"


class MailServer:
    """SMTP on 127.0.0.1:<free port>; `mails` holds every message accepted, in order. A
    recipient @nowhere.invalid is refused (550)."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.port = _free_port()
        self._controller = Controller(_Keep(self.mails), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()


def _free_port() -> int:
    """A loopback port nothing listens on (the controller checks it is up by connecting to
    it, so it needs the number before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
