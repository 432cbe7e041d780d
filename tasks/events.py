"""Event management tasks: correlate pending events, then carry out what the alerts ask for.

Each action is claimed from the alert-actions outbox, done, and marked done; one that fails is
released with its error and tried again by the next run (a refused runbook is given up at
once: see run_runbook).
"""

import logging
import subprocess
from datetime import timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.event_policy import load_event_policy
from blocks.incident_policy import load_policy
from blocks.slack import load_slack
from serviceops.correlate import BatchReport, correlate_pending
from serviceops.domain.cmdb import blast_radius
from serviceops.domain.event import (
    ActionKind,
    AlertState,
    MissedCheck,
    NeedsNewIncident,
    RunbookRefused,
    draft_for,
    follow_up,
    missed_check_event,
)
from serviceops.domain.incident import (
    IncidentDraft,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.provenance import EVENT_ACTOR
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import (
    AlertAction,
    AlertActionRepository,
    AlertRepository,
    EventRepository,
)
from serviceops.store.incident import IncidentRepository
from tasks import messages
from tasks.context import audit, current_flow_run_id, now, sessions
from tasks.paging import page_incident

logger = logging.getLogger(__name__)

ACTION_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
OUTPUT_LIMIT = 2000


@task(cache_policy=NO_CACHE)
def correlate_events(max_batches: int = 100) -> BatchReport:
    """Filtering, deduplication, significance, correlation and response selection for every
    pending event, in batches (serviceops.correlate.BATCH_SIZE)."""
    return correlate_pending(
        sessions(),
        load_event_policy(),
        now,
        max_batches=max_batches,
        flow_run_id=current_flow_run_id(),
    )


@task(cache_policy=NO_CACHE)
def claim_alert_actions(limit: int = 50) -> list[AlertAction]:
    at = now()
    with sessions().begin() as session:
        return AlertActionRepository(session).claim(at, at - ACTION_LEASE, limit)


@task(cache_policy=NO_CACHE)
def draft_alert_incident(action: AlertAction, replacing: bool = False) -> IncidentDraft | None:
    """The incident to raise, or None when the alert already has one (a retried action);
    `replacing`: its incident is closed and a new one is wanted."""
    policy = load_event_policy()
    with sessions().begin() as session:
        alert = AlertRepository(session).get(action.alert_number)
        if alert.incident_number is not None and not replacing:
            return None
        catalogue = CatalogueRepository(session).catalogue()
    impact = blast_radius(catalogue, alert.ci or alert.service or alert.key)
    return draft_for(alert, action.note, impact, policy.incident_category)


@task(cache_policy=NO_CACHE)
def finish_alert_action(action: AlertAction, outcome: str, incident: str | None = None) -> None:
    """Done: with the incident it raised linked to the alert, so later events update it."""
    with sessions().begin() as session:
        if incident is not None:
            AlertRepository(session).link_incident(action.alert_number, incident)
            alert = AlertRepository(session).get(action.alert_number)
            audit(session, _alert_entry(action.alert_number, alert.state, "incident", incident))
        AlertActionRepository(session).done(action.id, now(), outcome)


@task(cache_policy=NO_CACHE)
def release_alert_action(action: AlertAction, error: str) -> bool:
    """A failed attempt: tried again by the next run, up to MAX_ATTEMPTS; then given up, with
    the error on the action and the alert's trail (a runbook that keeps failing must not run
    every minute forever). True when given up, also when the task that failed had given it up
    itself."""
    with sessions().begin() as session:
        actions = AlertActionRepository(session)
        if _is_done(actions, action):  # given up already, e.g. a refused runbook
            return True
        if action.attempts < MAX_ATTEMPTS:
            actions.release(action.id, error)
            return False
        actions.done(action.id, now(), f"gave up after {action.attempts} attempts: {error}")
        alert = AlertRepository(session).get(action.alert_number)
        reason = f"{action.kind.value} gave up after {action.attempts} attempts: {error}"
        audit(session, _alert_entry(action.alert_number, alert.state, "action", reason[:2000]))
    return True


@task(cache_policy=NO_CACHE)
def follow_up_incident(action: AlertAction) -> str | None:
    """Resolve, reopen or annotate the alert's incident. Returns what was done, or None when
    a new incident must be raised instead (closed, past its reopen window, or none to reopen:
    a held alert that cleared before it was let go and fires again)."""
    policy, slack = load_policy(), load_slack()
    with sessions().begin() as session:
        alert = AlertRepository(session).get(action.alert_number)
        number = alert.incident_number
        if number is None and action.kind is ActionKind.REOPEN_INCIDENT:
            return None  # it never had one: held while it fired, it cleared before it was let go
        if number is None:
            return "no incident linked"
        incidents = IncidentRepository(session)
        incident = incidents.get(number, for_update=True)
        try:
            change = follow_up(
                action.kind, incident, policy, action.note, now(), symptoms=alert.symptoms
            )
        except NeedsNewIncident as reason:
            logger.info("%s: %s; raising a new incident", action.alert_number, reason)
            return None
        saved = incidents.save(change.incident)
        audit(session, change.audit)
        if change.audit.from_state != change.audit.to_state:
            messages.queue_change(session, slack, saved, change.audit)
    return f"{number}: {change.audit.action} ({change.audit.to_state})"


@task(cache_policy=NO_CACHE)
def page_alert_incident(action: AlertAction) -> str:
    """The alert climbed to a page rule after its incident was raised: page that incident's
    on-call now (once: the page's run is keyed by the incident)."""
    with sessions().begin() as session:
        number = AlertRepository(session).get(action.alert_number).incident_number
    if number is None:
        return "no incident linked"
    run = page_incident(number, always=True)
    return f"{number}: paged" if run is not None else f"{number}: nobody to page"


@task(cache_policy=NO_CACHE)
def run_runbook(action: AlertAction) -> str:
    """Auto-remediation: the runbook's allow-listed command as an argument list (never a
    shell), with a timeout, its exit status and output kept on the action. Not retried here:
    a failed attempt is retried by the next process-events run (see release_alert_action).

    A runbook refused for an unsafe value from the alert (RunbookRefused) runs nothing and is
    given up at once, with the reason on the alert's trail: the alert will not change, so a
    retry could only be refused again."""
    policy = load_event_policy()
    with sessions().begin() as session:
        alert = AlertRepository(session).get(action.alert_number)
        check = EventRepository(session).remediation_check(action.alert_number)
        known = {item.name for item in CatalogueRepository(session).items()}
    if action.runbook is None or action.runbook not in policy.runbooks:
        raise LookupError(f"unknown runbook {action.runbook!r}")
    values = {"service": alert.service or "", "ci": alert.ci or "", "check": check or ""}
    try:
        argv = policy.runbook_argv(action.runbook, values, known)
    except RunbookRefused as refused:
        _give_up_refused(action, alert.state, str(refused))
        raise
    completed = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=policy.runbooks[action.runbook].timeout_s,
        check=False,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    output = (completed.stdout + completed.stderr)[-OUTPUT_LIMIT:]
    if completed.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {completed.returncode}: {output}")
    with sessions().begin() as session:
        entry = _alert_entry(action.alert_number, alert.state, "runbook", f"{action.runbook}: ok")
        audit(session, entry)
    return f"{action.runbook} exited 0: {output}"


@task(cache_policy=NO_CACHE)
def review_alerts() -> list[str]:
    """Review and close: an alert resolved for the policy's review period is closed, with what
    happened on its audit trail. Returns the alerts closed."""
    policy, at = load_event_policy(), now()
    closed = []
    with sessions().begin() as session:
        alerts = AlertRepository(session)
        for alert in alerts.due_for_review(at - policy.review_after):
            number = alert.number or ""
            if alerts.close(number, at):
                incident = alert.incident_number or "no incident"
                reason = (
                    f"reviewed: {alert.event_count} event(s), {alert.reopen_count} "
                    f"reopen(s), {incident}"
                )
                entry = _alert_entry(
                    number, AlertState.RESOLVED, "alert", reason, AlertState.CLOSED
                )
                audit(session, entry)
                closed.append(number)
    return closed


@task(cache_policy=NO_CACHE)
def record_missed_check_event(missed: MissedCheck) -> str:
    """Record the dead-man event (the automation's evidence of silence)."""
    event = missed_check_event(missed.kind, missed.window_s)
    with sessions().begin() as session:
        (number,) = EventRepository(session).record([event], now())
    return number


def _give_up_refused(action: AlertAction, state: AlertState, reason: str) -> None:
    """Mark the refused runbook's action done, with why, on the action and the alert's trail."""
    with sessions().begin() as session:
        AlertActionRepository(session).done(action.id, now(), f"given up: {reason}")
        audit(session, _alert_entry(action.alert_number, state, "runbook", reason[:2000]))


def _is_done(actions: AlertActionRepository, action: AlertAction) -> bool:
    """Whether the action is marked done already (then a failure must not release it)."""
    return any(
        stored.id == action.id and stored.done_at is not None
        for stored in actions.for_alert(action.alert_number)
    )


def _alert_entry(
    number: str, state: AlertState, action: str, reason: str, to: AlertState | None = None
) -> AuditEntry:
    """An audit row on an alert; without `to` its state stays what it was."""
    return AuditEntry(
        record=number,
        action=action,
        actor=EVENT_ACTOR,
        at=now(),
        from_state=state,
        to_state=to or state,
        reason=reason,
    )


def events_pending() -> bool:
    """Whether anything waits for correlation: the watch's poll, one query on the partial
    index of pending events, deliberately not a task (a task run every half second at rest
    would fill the run's graph and the server's history with nothing)."""
    with sessions().begin() as session:
        return EventRepository(session).count_pending() > 0
