"""deliver-notifications: the outbox's safety net, for messages a flow could not send itself
(Slack down, no token yet)."""

from prefect import flow

from serviceops.notify.outbox import DeliveryReport
from tasks.notifications import deliver_notifications as deliver


@flow(name="deliver-notifications")
def deliver_notifications() -> DeliveryReport:
    return deliver()
