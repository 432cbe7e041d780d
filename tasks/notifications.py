"""Delivery of the outbox (Slack, mail, SMS): retried by Prefect, idempotent by the outbox's
marks; each channel on its own, so one that is down holds up none of the others."""

from collections.abc import Callable

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.slack import load_slack
from serviceops.notify.delivery import DeliveryReport, deliver, deliver_pending
from serviceops.notify.email import SmtpSender, SmtpServer, mail_server
from serviceops.notify.outbox import SEND_EMAIL, SEND_SMS
from serviceops.notify.sms import SmsSender, sms_provider
from serviceops.settings import get_settings
from tasks.context import sessions


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def deliver_notifications() -> DeliveryReport:
    """Send what waits in the outbox; a channel that is not configured (no Slack token, no
    mail server, no SMS provider) keeps its rows waiting, and the report counts them."""
    settings = get_settings()
    reports, failures = [], []
    server, provider = mail_server(settings), sms_provider(settings)
    channels: list[tuple[str, Callable[[], DeliveryReport]]] = [
        ("Slack", lambda: deliver_pending(sessions(), load_slack().get_client()))
    ]
    if server is not None:
        channels.append(("mail", lambda: _mail(server)))
    if provider is not None:
        sender = SmsSender(provider)
        channels.append(("SMS", lambda: deliver(sessions(), frozenset({SEND_SMS}), sender)))
    for name, send in channels:  # one failing holds up none of the others
        try:
            reports.append(send())
        except Exception as error:
            failures.append(f"{name}: {error}")
    if failures:
        raise DeliveryFailed("; ".join(failures))
    return DeliveryReport(
        delivered=sum(r.delivered for r in reports),
        failed=sum(r.failed for r in reports),
        remaining=sum(r.remaining for r in reports),
    )


class DeliveryFailed(RuntimeError):
    """A channel's delivery failed (the others were tried); the message says which."""


def _mail(server: SmtpServer) -> DeliveryReport:
    mail = SmtpSender(server)
    try:
        return deliver(sessions(), frozenset({SEND_EMAIL}), mail)
    finally:
        mail.close()
