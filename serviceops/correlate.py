"""One correlation batch, end to end: pending events in, alerts, actions and messages out.

This is process-events's hot path, kept free of Prefect so the benchmark measures exactly what
the flow runs. Everything a batch decides is committed in one transaction under the processing
lock: the events' verdicts, the alerts, the audit rows, the queued messages and the actions.
A crash before the commit leaves the events pending; after it, nothing is decided twice.
"""

import time
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import Dependencies
from serviceops.domain.event import (
    Alert,
    AlertChange,
    Correlator,
    Decisions,
    EventPolicy,
    Notice,
)
from serviceops.domain.machine import AuditEntry
from serviceops.domain.provenance import EVENT_ACTOR
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import AlertRepository, EventRepository
from serviceops.store.event.events import PendingEvent
from serviceops.store.event.holds import hold_index

# A batch holds the write lock from its first statement to its commit (on SQLite, against
# every writer; the gateway's intake included): 250 events hold it about 12 ms on this
# machine, 1,000 about 30 ms and up to 100 ms under load. Between batches the correlator lets
# go for a moment so that a delivery waiting for the lock takes it (see store/write_lock.py).
BATCH_SIZE = 250
BETWEEN_BATCHES_S = 0.003


class BatchReport(BaseModel):
    events: int = 0
    dropped: int = 0
    duplicates: int = 0
    alerts_opened: int = 0
    alerts_changed: int = 0
    actions: int = 0
    notices: int = 0
    decide_seconds: list[float] = []

    def add(self, other: "BatchReport") -> "BatchReport":
        merged = {
            name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields
        }
        return BatchReport(**merged)


def correlate_batch(
    sessions: sessionmaker[Session],
    policy: EventPolicy,
    at: datetime,
    *,
    limit: int = BATCH_SIZE,
    flow_run_id: str | None = None,
    timings: bool = False,
) -> BatchReport:
    """Decide up to `limit` pending events; `flow_run_id` stamps the audit rows, `timings`
    keeps each event's decision time (the benchmark's)."""
    with sessions.begin() as session:
        events = EventRepository(session)
        events.lock_processing(at)
        pending = events.pending(limit)
        if not pending:
            return BatchReport()
        alerts = AlertRepository(session)
        resources = {event.resource for event in pending}
        dependencies = _dependencies(session, policy)
        needed = _needed(dependencies, resources)
        known = alerts.touched_by(resources, {e.fingerprint for e in pending}, needed)
        silences = hold_index(session, at)
        correlator = Correlator(policy, known, dependencies, silences)
        seconds: list[float] = []
        for event in pending:
            started = time.perf_counter()
            correlator.decide(event, event.received_at)
            if timings:
                seconds.append(time.perf_counter() - started)
        decisions = correlator.decisions
        _write(alerts, decisions, pending, policy, at, flow_run_id)
    verdicts = decisions.verdicts
    return BatchReport(
        events=len(pending),
        dropped=sum(v.dropped for v in verdicts),
        duplicates=sum(v.duplicate for v in verdicts),
        alerts_opened=sum(c.from_state is None for c in decisions.changes),
        alerts_changed=len(decisions.alerts),
        actions=len(decisions.actions),
        notices=len(decisions.notices),
        decide_seconds=seconds,
    )


def correlate_pending(
    sessions: sessionmaker[Session],
    policy: EventPolicy,
    clock: Callable[[], datetime],
    *,
    max_batches: int = 100,
    flow_run_id: str | None = None,
) -> BatchReport:
    """Batches until nothing is pending (or `max_batches`, so one run cannot run forever
    under a storm; the next run goes on where it stopped)."""
    total = BatchReport()
    for _ in range(max_batches):
        report = correlate_batch(sessions, policy, clock(), flow_run_id=flow_run_id)
        total = total.add(report)
        if report.events < BATCH_SIZE:
            break
        time.sleep(BETWEEN_BATCHES_S)
    return total


def release_held(
    session: Session,
    policy: EventPolicy,
    holders: dict[str, str],
    at: datetime,
    flow_run_id: str | None = None,
) -> int:
    """Let go of the alerts held by these silences or changes (number -> why they are gone):
    those still firing proceed as if they had just fired, unless another holder has them now
    (an outage they are symptoms of, another silence). In the caller's transaction, which
    has taken the processing lock (EventRepository.lock_processing) so no batch decides them
    meanwhile. Returns how many alerts were let go."""
    alerts = AlertRepository(session)
    held = alerts.held_by(list(holders))
    dependencies = _dependencies(session, policy)
    keys, numbers = {alert.key for alert in held}, {alert.number for alert in held}
    outages = [  # and the others near them: the outages they may be symptoms of now
        alert
        for alert in alerts.touched_by(keys, set(), _needed(dependencies, keys))
        if alert.number not in numbers
    ]
    silences = hold_index(session, at)
    correlator = Correlator(policy, held + outages, dependencies, silences)
    for alert in held:
        correlator.release([alert], holders[alert.suppressed_by or ""], at)
    _write(alerts, correlator.decisions, [], policy, at, flow_run_id)
    return len(held)


def _write(
    alerts: AlertRepository,
    decisions: Decisions,
    events: list[PendingEvent],
    policy: EventPolicy,
    at: datetime,
    flow_run_id: str | None,
) -> None:
    """Everything decided, in the caller's transaction: the alerts, the events' verdicts and
    the actions (`alerts`, the repository that loaded them, knows their row ids), the audit
    rows, the queued messages."""
    session = alerts.session
    numbers = alerts.apply(decisions, events, at)
    AuditRepository(session).add_many(
        [_audit(numbers[c.alert_key], c, flow_run_id) for c in decisions.changes]
    )
    outbox = Outbox(session)
    for notice in decisions.notices:
        _queue(outbox, decisions.alerts[notice.alert_key], notice, policy, at)


def _dependencies(session: Session, policy: EventPolicy) -> Dependencies | None:
    """The CMDB's graph when the policy inhibits dependents, else None."""
    return CatalogueRepository(session).dependencies() if policy.inhibit_dependents else None


def _needed(dependencies: Dependencies | None, resources: set[str]) -> set[str]:
    """Every item the batch's resources need: where the outages they may be symptoms of are."""
    if dependencies is None:
        return set()
    return set().union(*(dependencies.needs(resource) for resource in resources))


def _audit(number: str, change: AlertChange, flow_run_id: str | None) -> AuditEntry:
    return AuditEntry(
        record=number,
        action="alert",
        actor=EVENT_ACTOR,
        at=change.at,
        from_state=change.from_state,
        to_state=change.to_state,
        reason=change.reason,
        flow_run_id=flow_run_id,
    )


def _queue(outbox: Outbox, alert: Alert, notice: Notice, policy: EventPolicy, at: datetime) -> None:
    outbox.post(
        key=f"{alert.number}:notice:{notice.ordinal}",
        channel=policy.channel,
        message=render_message(
            "alert_notice", alert=alert, notice=notice, limit=policy.notify_limit
        ),
        record=alert.number,
        at=at,
    )
