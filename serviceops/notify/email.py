"""Mail from the outbox over SMTP (smtplib): one connection per delivery run, a plain-text
message per row. A refused recipient (or one the server cannot address) fails that row only;
a server that is down, refuses the TLS, the login or our sender, or answers 4xx ends the run,
and the rows wait for the next one."""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from serviceops.notify.delivery import Outcome, one_line
from serviceops.settings import Settings


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str  # the From address
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 5  # under SQLite's busy timeout: the row's claim waits on it


def mail_server(settings: Settings) -> SmtpServer | None:
    """The configured mail server (SERVICEOPS_SMTP_*), None when mail is off."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=password,
        starttls=settings.smtp_starttls,
    )


class SmtpSender:
    """Delivers email.send rows through one SMTP server; `close()` ends the session."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._connection: smtplib.SMTP | None = None

    def attempt(self, method: str, payload: dict[str, Any]) -> Outcome:
        message = EmailMessage()
        message["From"] = self.server.sender
        message["To"] = payload["to"]
        message["Subject"] = payload["subject"]
        message["Message-ID"] = make_msgid(domain=self.server.sender.rpartition("@")[2] or None)
        message.set_content(payload["text"])
        try:
            connection = self._connect()
        except (smtplib.SMTPException, OSError) as error:  # down, TLS, login: every row
            return Outcome(error=one_line(error), stop=True)
        try:
            refused = connection.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError) as error:
            return Outcome(error=one_line(error))  # this address only
        except smtplib.SMTPDataError as error:  # this message refused, or the server ailing
            self.close()
            return Outcome(error=one_line(error), stop=error.smtp_code < 500)
        except (smtplib.SMTPException, OSError) as error:  # our sender refused, connection lost
            self.close()
            return Outcome(error=one_line(error), stop=True)
        except Exception as error:  # a bug (a header that cannot be): record it, then surface
            return Outcome(error=one_line(error), unexpected=error)
        if refused:
            return Outcome(error=f"refused: {', '.join(refused)}"[:500])
        return Outcome()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is None:
            server = self.server
            connection = smtplib.SMTP(server.host, server.port, timeout=server.timeout_s)
            try:
                if server.starttls:
                    connection.starttls(context=ssl.create_default_context())
                if server.username:
                    connection.login(server.username, server.password or "")
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                self._connection.close()
            self._connection = None
