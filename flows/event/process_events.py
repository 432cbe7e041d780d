"""process-events: event management after detection and logging, as a watch.

The gateway only records events. One run watches for them: every half second it looks for
pending events (one indexed query) and, when there are some, correlates them all in short
batches, then carries out what the alerts ask for: raise an incident through the
incident procedure (log-incident as a subflow), resolve or reopen it, run a runbook. Once a
minute it also ends the silences whose time has come (what they held and is still firing
proceeds), reminds silence owners, retries released actions and reviews and closes resolved
alerts.

A run watches for longer than a minute and the schedule starts the next one before it ends:
a storm and a trickle cost the same one run a minute, and there is always a watcher (the
routine runner runs it in a thread, deployments/routine.py). The overlap is safe: batches
take the processing lock and actions are claimed. A run with `watch_seconds` 0 (the default,
as from the UI) does one full pass (as many as its actions need) and ends; a stopping runner
ends the watch after its pass.
"""

import time
from typing import Annotated

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from flows.incident.log_incident import log_incident
from serviceops import deployment_names as names
from serviceops.correlate import BatchReport
from serviceops.domain.event import ActionKind
from serviceops.stopping import STOPPING
from serviceops.store.event import AlertAction
from tasks.events import (
    claim_alert_actions,
    correlate_events,
    draft_alert_incident,
    events_pending,
    finish_alert_action,
    follow_up_incident,
    page_alert_incident,
    release_alert_action,
    review_alerts,
    run_runbook,
)
from tasks.notifications import deliver_notifications
from tasks.silences import sweep_silences

POLL_S = 0.5
SWEEP_S = 60.0
ACTION_BUDGET_S = 1.0


class EventsProcessed(BaseModel):
    correlation: BatchReport = Field(default_factory=BatchReport)
    passes: int = 0
    actions_done: list[str] = Field(default_factory=list)
    actions_failed: list[str] = Field(default_factory=list)
    alerts_closed: list[str] = Field(default_factory=list)
    silences_expired: list[str] = Field(default_factory=list)


@flow(name=names.PROCESS_EVENTS)
def process_events(
    watch_seconds: Annotated[float, Field(ge=0, le=3600, title="Watch for (seconds)")] = 0,
    max_batches: Annotated[int, Field(ge=1, le=1000, title="Most batches a pass")] = 100,
) -> EventsProcessed:
    """Correlate pending events and act on the alerts, for `watch_seconds` (0: one pass).

    `max_batches` bounds one pass (serviceops.correlate.BATCH_SIZE events a batch), so a
    storm is worked off pass by pass and the sweep still comes round.

    Args:
        watch_seconds: How long this run watches for new events; 0: one pass and stop.
        max_batches: The most batches of events one pass correlates.
    """
    result = EventsProcessed()
    deadline = time.monotonic() + watch_seconds
    next_sweep = 0.0
    owed = False  # the last pass ran out of its time for actions: some may wait
    while True:
        sweep = time.monotonic() >= next_sweep
        if sweep:
            next_sweep = time.monotonic() + SWEEP_S
        if sweep or owed or events_pending():
            owed = _one_pass(result, max_batches, sweep=sweep, owed=owed)
        if time.monotonic() >= deadline and not owed:  # what a pass left, this run finishes
            break
        if STOPPING.wait(0 if owed else POLL_S):
            break
    report = result.correlation
    if (
        report.events
        or result.actions_done
        or result.actions_failed
        or result.alerts_closed
        or result.silences_expired
    ):
        _publish(result)
    if result.actions_failed:  # the run shows Failed; what succeeded is committed all the same
        raise ActionsFailed("; ".join(result.actions_failed))
    return result


def _one_pass(result: EventsProcessed, max_batches: int, *, sweep: bool, owed: bool) -> bool:
    """Filter and correlate what is pending, then respond. Actions are claimed when this pass
    made some, when some are owed, or on the sweep (released ones, retried once a minute).

    Actions (an incident raised through log-incident, a runbook) take far longer than
    deciding events (a second or more each), so they are claimed one at a time and stop once
    ACTION_BUDGET_S is spent, to let the next pass decide what arrived meanwhile: under a
    storm that opens twenty alerts, events wait for one action, not for all twenty. Returns
    True when some may be left.
    """
    if sweep:  # first: what an ended silence lets go is acted on in this same pass
        result.silences_expired += sweep_silences().expired
    report = correlate_events(max_batches)
    result.correlation = result.correlation.add(report)
    result.passes += 1
    acted = left = False
    if sweep or owed or report.actions:
        started = time.monotonic()
        while actions := claim_alert_actions(1):
            acted = True
            (action,) = actions
            # A released action is claimable at once: claiming on after a failure would try
            # it again in this same pass. What is left waits for the next pass that claims.
            if not _act(result, action):
                break
            if time.monotonic() - started > ACTION_BUDGET_S:
                left = True
                break
    if sweep:
        result.alerts_closed += review_alerts()
    if sweep or acted or report.notices:
        deliver_notifications()
    return left


def _act(result: EventsProcessed, action: AlertAction) -> bool:
    """Carry out one action; False when it failed (released for a later pass, or given up)."""
    try:
        result.actions_done.append(carry_out(action))
    except Exception as exc:  # one action failing must not stop the others
        kind = action.kind.value
        get_run_logger().warning("%s %s failed: %s", action.alert_number, kind, exc)
        gave_up = release_alert_action(action, str(exc))
        outcome = "given up" if gave_up else "will be retried"
        result.actions_failed.append(f"{action.alert_number} {kind} ({outcome}): {exc}")
        return False
    return True


class ActionsFailed(RuntimeError):
    """Some alert actions failed this run (see the message and the run's artifact)."""


def carry_out(action: AlertAction) -> str:
    """Do one action and mark it done; returns what was done."""
    if action.kind is ActionKind.RAISE_INCIDENT:
        outcome = raise_incident(action)
    elif action.kind is ActionKind.RUN_RUNBOOK:
        outcome = run_runbook(action)
        finish_alert_action(action, outcome)
    elif action.kind is ActionKind.PAGE_INCIDENT:
        outcome = page_alert_incident(action)
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
        {"figure": "silences expired", "value": len(result.silences_expired)},
    ]
    create_table_artifact(key="process-events", table=rows, description="What this run decided")
