"""The SLA sweep: find thresholds crossed since the last sweep, tell once, escalate breaches."""

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from blocks.incident_policy import load_policy
from blocks.slack import load_slack
from serviceops.domain.incident import BreachLevel, EscalationKind
from serviceops.domain.incident import steps as incident_steps
from serviceops.store.incident import IncidentRepository
from tasks import messages
from tasks.context import audit, now, sessions

BATCH = 500
SWEEPER = "sla-sweep"


class SweepReport(BaseModel):
    warnings: int = 0
    breaches: int = 0
    escalated: list[str] = []


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def sweep_sla() -> SweepReport:
    """Batches of incidents whose thresholds the SQL filter says are crossed and untold.

    Each batch is one transaction; marking a threshold notified takes it out of the filter,
    so the loop ends and the next sweep is silent about it.
    """
    at = now()
    policy, slack = load_policy(), load_slack()
    report = SweepReport()
    while True:
        with sessions().begin() as session:
            repository = IncidentRepository(session)
            due = repository.sla_due(at, limit=BATCH)
            for incident in due:
                alerts = incident_steps.sla_alerts(incident, at)
                for alert in alerts:
                    messages.queue_sla_alert(session, slack, incident, alert, at)
                incident = incident_steps.mark_notified(incident, alerts, at)
                if any(a.level is BreachLevel.BREACHED for a in alerts):
                    change = incident_steps.escalate(
                        incident,
                        policy,
                        EscalationKind.HIERARCHIC,
                        SWEEPER,
                        at,
                        "SLA breached: " + ", ".join(f"{a.kind}" for a in alerts),
                    )
                    incident = change.incident
                    audit(session, change.audit)
                    messages.queue_change(session, slack, incident, change.audit)
                    report.escalated.append(incident.number)
                repository.save(incident)
                report.warnings += sum(a.level is BreachLevel.WARNING for a in alerts)
                report.breaches += sum(a.level is BreachLevel.BREACHED for a in alerts)
        if len(due) < BATCH:
            return report
