"""housekeeping: the service desk's every-minute timers, in one run a minute.

The SLA sweep, the major incidents' status cadence, requests accepted while Prefect was away,
overdue approvals and the Slack outbox each used to be a deployment of its own: five processes
a minute on two cores and 7,200 runs a day on the Runs page for work that takes milliseconds.
Here each is a task of one run, so its run history, retries and logs stay where they were; one
part failing (Slack down, say) is reported and fails the run, but never stops the others.
Keeping log-incident's choices in step with the CMDB and the policy, the service desk board
(its SLA times move with the clock), pages whose next step was never scheduled, and on-call
handoffs are parts too.
"""

from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from serviceops import deployment_names as names
from serviceops.domain.incident import IncidentFormChoices
from serviceops.notify.delivery import DeliveryReport
from tasks.board import publish_board
from tasks.incident import refresh_incident_form
from tasks.major import post_major_status_updates
from tasks.notifications import deliver_notifications
from tasks.oncall import send_handoffs
from tasks.paging import resume_stalled_pages
from tasks.request_upkeep import chase_overdue_approvals, start_unsubmitted_requests
from tasks.sla import SweepReport, sweep_sla


class HousekeepingReport(BaseModel):
    sla: SweepReport | None = Field(None, description="The SLA sweep's warnings and breaches")
    major_updates: list[str] = Field(default_factory=list, description="Status updates posted")
    requests_started: list[str] = Field(default_factory=list, description="Runs started late")
    approvals_chased: list[str] = Field(default_factory=list, description="Approvals escalated")
    pages_resumed: list[str] = Field(default_factory=list, description="Stalled pages walked on")
    handoffs: list[str] = Field(default_factory=list, description="On-call handoffs announced")
    incident_form: IncidentFormChoices | None = Field(
        None, description="What log-incident's form offers"
    )
    board: int | None = Field(None, description="Open incidents on the service desk board")
    delivery: DeliveryReport | None = Field(None, description="What the outbox sent")
    failed: dict[str, str] = Field(default_factory=dict, description="Part → its error")


# Each part: the report field it fills and the task that fills it. Delivery goes last so it
# sends what the others queued this minute.
PARTS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("sla", sweep_sla),
    ("major_updates", post_major_status_updates),
    ("requests_started", start_unsubmitted_requests),
    ("approvals_chased", chase_overdue_approvals),
    ("pages_resumed", resume_stalled_pages),
    ("handoffs", send_handoffs),
    ("incident_form", refresh_incident_form),
    ("board", publish_board),
    ("delivery", deliver_notifications),
)


class HousekeepingFailed(RuntimeError):
    """Some parts failed this minute (see the message); the others did their work."""


@flow(name=names.HOUSEKEEPING)
def housekeeping() -> HousekeepingReport:
    """Every minute: SLA sweep, major-incident updates, late request starts, approval chasing,
    stalled pages, handoffs, log-incident's choices, outbox delivery; each part on its own,
    the run Failed if any part failed."""
    report = HousekeepingReport()
    for field, part in PARTS:
        state = part(return_state=True)
        if state.is_completed():
            setattr(report, field, state.result())
        else:
            error = str(state.message or state.name)
            get_run_logger().warning("housekeeping part %s failed: %s", field, error)
            report.failed[field] = error
    _publish(report)
    if report.failed:
        raise HousekeepingFailed("; ".join(f"{k}: {v}" for k, v in report.failed.items()))
    return report


def _publish(report: HousekeepingReport) -> None:
    """A table only when the minute did something, so a quiet desk leaves no artifact."""
    sla = report.sla or SweepReport()
    delivered = report.delivery.delivered if report.delivery else 0
    rows = [
        {"part": "SLA warnings", "value": sla.warnings},
        {"part": "SLA breaches", "value": sla.breaches},
        {"part": "major-incident updates", "value": len(report.major_updates)},
        {"part": "requests started late", "value": len(report.requests_started)},
        {"part": "approvals chased", "value": len(report.approvals_chased)},
        {"part": "stalled pages walked on", "value": len(report.pages_resumed)},
        {"part": "on-call handoffs", "value": len(report.handoffs)},
        {"part": "messages delivered", "value": delivered},
        {"part": "parts failed", "value": len(report.failed)},
    ]
    if any(row["value"] for row in rows):
        create_table_artifact(key="housekeeping", table=rows, description="This minute")
