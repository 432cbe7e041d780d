"""Delivery of the outbox to Slack: retried by Prefect, idempotent by the outbox's marks."""

import logging

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.slack import load_slack
from serviceops.notify.delivery import DeliveryReport, deliver_pending
from serviceops.notify.outbox import Outbox
from tasks.context import sessions

logger = logging.getLogger(__name__)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def deliver_notifications() -> DeliveryReport:
    """Send what waits in the outbox; with no Slack token it only reports what waits."""
    client = load_slack().get_client()
    if client is None:
        with sessions().begin() as session:
            waiting = len(Outbox(session).list(undelivered_only=True, limit=10_000))
        logger.info("no Slack token configured: %d notifications wait in the outbox", waiting)
        return DeliveryReport(delivered=0, failed=0, remaining=waiting)
    return deliver_pending(sessions(), client)
