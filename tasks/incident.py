"""Incident tasks: one per step of the ITIL procedure, each its own transaction and audit row."""

from collections.abc import Callable

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.incident_policy import load_policy
from blocks.slack import load_slack
from serviceops.domain import lifecycle
from serviceops.domain.incident import (
    AcknowledgeIncident,
    CloseIncident,
    EscalateIncident,
    Incident,
    IncidentCommand,
    IncidentDraft,
    PendIncident,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
    StartIncidentWork,
)
from serviceops.domain.lifecycle import Change
from serviceops.domain.policy import IncidentPolicy
from serviceops.notify.render import render_text
from serviceops.store.repositories import AuditRepository, IncidentRepository, KnownErrorRepository
from tasks import messages
from tasks.context import audit, now, sessions


def _apply(number: str, step: Callable[[Incident], Change]) -> Incident:
    """Load under a row lock, apply one domain step, save, audit: one transaction."""
    with sessions().begin() as session:
        repository = IncidentRepository(session)
        change = step(repository.get(number, for_update=True))
        saved = repository.save(change.incident)
        audit(session, change.audit)
    return saved


@task(cache_policy=NO_CACHE)
def record_incident(draft: IncidentDraft) -> Incident:
    """Logging: the record exists, with its source, reporter and time, before any rule runs."""
    with sessions().begin() as session:
        incident = IncidentRepository(session).add(draft, now())
        audit(session, lifecycle.logged(incident))
    return incident


@task(cache_policy=NO_CACHE)
def categorize_incident(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: lifecycle.categorize(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def prioritize_incident(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: lifecycle.prioritize(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def diagnose_incident(number: str) -> Incident:
    """Initial diagnosis against the known error database."""
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(number)
        known_errors = KnownErrorRepository(session).candidates(
            incident.service, incident.ci, category=incident.category
        )
    return _apply(number, lambda incident: lifecycle.diagnose(incident, known_errors, now()))


@task(cache_policy=NO_CACHE)
def assign_incident(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: lifecycle.assign(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def set_sla_due_times(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: lifecycle.start_slas(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def notify_incident_logged(number: str) -> None:
    slack = load_slack()
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(number)
        messages.queue_logged(session, slack, incident, now())


def _step(command: IncidentCommand, policy: IncidentPolicy) -> Callable[[Incident], Change]:
    at, actor = now(), command.actor
    match command:
        case AcknowledgeIncident():
            return lambda i: lifecycle.acknowledge(i, actor, at)
        case StartIncidentWork():
            return lambda i: lifecycle.start_work(i, actor, at)
        case PendIncident(reason=reason):
            return lambda i: lifecycle.pend(i, policy, actor, at, reason)
        case ResumeIncident():
            return lambda i: lifecycle.resume(i, policy, actor, at)
        case EscalateIncident(kind=kind, reason=reason, to_group=group):
            return lambda i: lifecycle.escalate(i, policy, kind, actor, at, reason, group)
        case ResolveIncident(code=code, notes=notes):
            return lambda i: lifecycle.resolve(i, actor, at, code, notes)
        case CloseIncident(note=note):
            return lambda i: lifecycle.close(i, actor, at, note)
        case ReopenIncident(reason=reason):
            return lambda i: lifecycle.reopen(i, policy, actor, at, reason)
    raise TypeError(f"no step for {type(command).__name__}")


@task(cache_policy=NO_CACHE)
def change_incident(command: IncidentCommand) -> Incident:
    """One transition: legality from the transition table, the change, its audit row and its
    Slack messages are committed together or not at all."""
    policy, slack = load_policy(), load_slack()
    step = _step(command, policy)
    with sessions().begin() as session:
        repository = IncidentRepository(session)
        change = step(repository.get(command.number, for_update=True))
        saved = repository.save(change.incident)
        audit(session, change.audit)
        messages.queue_change(session, slack, saved, change.audit)
    return saved


@task(cache_policy=NO_CACHE)
def summarize_incident(number: str) -> str:
    """The markdown summary left as the run's artifact."""
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(number)
        trail = AuditRepository(session).for_record(number)
    return render_text("incident_summary", incident=incident, audit=trail)
