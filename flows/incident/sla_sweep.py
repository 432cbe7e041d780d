"""sla-sweep: every minute, warn at 75% and escalate at 100% of each target, once each."""

from prefect import flow

from tasks.notifications import deliver_notifications
from tasks.sla import SweepReport, sweep_sla


@flow(name="sla-sweep")
def sla_sweep() -> SweepReport:
    report = sweep_sla()
    deliver_notifications()
    return report
