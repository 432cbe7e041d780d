"""Delivery of the outbox (Slack, mail, SMS): retried by Prefect, idempotent by the outbox's
marks; each channel on its own, so one that is down holds up none of the others."""

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.slack import load_slack
from serviceops.notify.delivery import DeliveryReport, deliver, deliver_pending
from serviceops.notify.email import SmtpSender, mail_server
from serviceops.notify.outbox import SEND_EMAIL, SEND_SMS
from serviceops.notify.sms import SmsSender, sms_provider
from serviceops.settings import get_settings
from tasks.context import sessions


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def deliver_notifications() -> DeliveryReport:
    """Send what waits in the outbox; a channel that is not configured (no Slack token, no
    mail server, no SMS provider) keeps its rows waiting, and the report counts them."""
    settings = get_settings()
    reports = [deliver_pending(sessions(), load_slack().get_client())]
    server, provider = mail_server(settings), sms_provider(settings)
    if server is not None:
        mail = SmtpSender(server)
        try:
            reports.append(deliver(sessions(), frozenset({SEND_EMAIL}), mail))
        finally:
            mail.close()
    if provider is not None:
        reports.append(deliver(sessions(), frozenset({SEND_SMS}), SmsSender(provider)))
    return DeliveryReport(
        delivered=sum(r.delivered for r in reports),
        failed=sum(r.failed for r in reports),
        remaining=sum(r.remaining for r in reports),
    )
