"""process-events: event management after detection and logging, for a micro-batch.

The gateway records events as they arrive and asks for one run per couple of seconds, never one
per event; a minute schedule catches anything recorded while Prefect was away. One run
correlates everything pending, then carries out what the alerts ask for: raise an incident
through the incident procedure (log-incident as a subflow), resolve or reopen it, run a
runbook. Review and close ends it.
"""

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from flows.incident.log_incident import log_incident
from serviceops.correlate import BatchReport
from serviceops.domain.correlation import ActionKind
from serviceops.store.events import AlertAction
from tasks.events import (
    claim_alert_actions,
    correlate_events,
    draft_alert_incident,
    finish_alert_action,
    follow_up_incident,
    release_alert_action,
    review_alerts,
    run_runbook,
)
from tasks.notifications import deliver_notifications


class EventsProcessed(BaseModel):
    correlation: BatchReport
    actions_done: list[str] = Field(default_factory=list)
    actions_failed: list[str] = Field(default_factory=list)
    alerts_closed: list[str] = Field(default_factory=list)


@flow(name="process-events")
def process_events(max_batches: int = 100) -> EventsProcessed:
    """Correlate pending events and act on the alerts.

    `max_batches` bounds one run (a thousand events a batch) so a storm is worked off by
    successive runs rather than one endless one.
    """
    report = correlate_events(max_batches)
    done: list[str] = []
    failed: list[str] = []
    for action in claim_alert_actions():
        try:
            done.append(carry_out(action))
        except Exception as exc:  # one action failing must not stop the others
            kind = action.kind.value
            get_run_logger().warning("%s %s failed: %s", action.alert_number, kind, exc)
            gave_up = release_alert_action(action, str(exc))
            outcome = "given up" if gave_up else "will be retried"
            failed.append(f"{action.alert_number} {action.kind.value} ({outcome}): {exc}")
    closed = review_alerts()
    deliver_notifications()
    result = EventsProcessed(
        correlation=report, actions_done=done, actions_failed=failed, alerts_closed=closed
    )
    if report.events or done or failed:
        _publish(result)
    if failed:  # the run shows Failed in the UI; what succeeded is committed all the same
        raise ActionsFailed("; ".join(failed))
    return result


class ActionsFailed(RuntimeError):
    """Some alert actions failed this run (see the message and the run's artifact)."""


def carry_out(action: AlertAction) -> str:
    """Do one action and mark it done; returns what was done."""
    if action.kind is ActionKind.RAISE_INCIDENT:
        outcome = raise_incident(action)
    elif action.kind is ActionKind.RUN_RUNBOOK:
        outcome = run_runbook(action)
        finish_alert_action(action, outcome)
    else:
        followed = follow_up_incident(action)
        if followed is None:
            outcome = raise_incident(action, replacing=True)
        else:
            outcome = followed
            finish_alert_action(action, outcome)
    return f"{action.alert_number} {action.kind.value}: {outcome}"


def raise_incident(action: AlertAction, *, replacing: bool = False) -> str:
    """The incident procedure itself logs it; the alert then carries its number."""
    draft = draft_alert_incident(action, replacing)
    if draft is None:
        finish_alert_action(action, "already raised")
        return "already raised"
    number = log_incident(draft)
    finish_alert_action(action, f"raised {number}", incident=number)
    return f"raised {number}"


def _publish(result: EventsProcessed) -> None:
    report = result.correlation
    rows = [
        {"figure": "events", "value": report.events},
        {"figure": "dropped by filters", "value": report.dropped},
        {"figure": "duplicates", "value": report.duplicates},
        {"figure": "alerts opened", "value": report.alerts_opened},
        {"figure": "alerts changed", "value": report.alerts_changed},
        {"figure": "messages queued", "value": report.notices},
        {"figure": "actions done", "value": len(result.actions_done)},
        {"figure": "actions failed", "value": len(result.actions_failed)},
        {"figure": "alerts closed after review", "value": len(result.alerts_closed)},
    ]
    create_table_artifact(key="process-events", table=rows, description="This run's batch")
