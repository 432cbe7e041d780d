"""Incident tasks: one per step of the ITIL procedure, each its own transaction and audit row."""

from collections.abc import Callable

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.incident_policy import load_policy
from blocks.slack import SlackBlock, load_slack
from serviceops.domain.incident import (
    Change,
    Incident,
    IncidentCommand,
    IncidentDraft,
    IncidentFormChoices,
    check_service,
)
from serviceops.domain.incident import steps as incident_steps
from serviceops.forms import offer_incident_choices
from serviceops.notify.render import render_text
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import KnownErrorRepository
from tasks import messages
from tasks.board import TransitionForms
from tasks.context import audit, now, run_provenance, sessions


def _apply(
    number: str, step: Callable[[Incident], Change], slack: SlackBlock | None = None
) -> Incident:
    """Load under a row lock, apply one domain step, save, audit and, given `slack`, queue
    the messages the change calls for: one transaction."""
    with sessions().begin() as session:
        repository = IncidentRepository(session)
        change = step(repository.get(number, for_update=True))
        saved = repository.save(change.incident)
        audit(session, change.audit)
        if slack is not None:
            messages.queue_change(session, slack, saved, change.audit)
    return saved


@task(cache_policy=NO_CACHE)
def record_incident(draft: IncidentDraft) -> Incident:
    """Logging: the record exists, with its source, reporter and time, before any rule runs.
    A person's draft must name a service the CMDB has (when it has any)."""
    with sessions().begin() as session:
        check_service(draft, [item.name for item in CatalogueRepository(session).items()])
        incident = IncidentRepository(session).add(draft, now())
        audit(session, incident_steps.logged(incident))
    return incident


@task(cache_policy=NO_CACHE)
def categorize_incident(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: incident_steps.categorize(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def prioritize_incident(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: incident_steps.prioritize(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def diagnose_incident(number: str) -> Incident:
    """Initial diagnosis against the known error database."""
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(number)
        known_errors = KnownErrorRepository(session).candidates(
            incident.service, incident.ci, category=incident.category
        )
    return _apply(number, lambda incident: incident_steps.diagnose(incident, known_errors, now()))


@task(cache_policy=NO_CACHE)
def assign_incident(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: incident_steps.assign(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def set_sla_due_times(number: str) -> Incident:
    policy = load_policy()
    return _apply(number, lambda incident: incident_steps.start_slas(incident, policy, now()))


@task(cache_policy=NO_CACHE)
def notify_incident_logged(number: str) -> None:
    slack = load_slack()
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(number)
        messages.queue_logged(session, slack, incident, now())


@task(cache_policy=NO_CACHE)
def change_incident(command: IncidentCommand) -> Incident:
    """One transition: legality from the transition table and the policy (some steps only
    from a verified channel), the change, its audit row and its Slack messages are committed
    together or not at all."""
    policy, at = load_policy(), now()
    with sessions().begin() as session:
        known = run_provenance(session, command.actor)
    return _apply(
        command.number,
        lambda incident: incident_steps.carry_out(command, incident, policy, at, known),
        load_slack(),
    )


@task(cache_policy=NO_CACHE)
def summarize_incident(number: str, forms: TransitionForms) -> str:
    """The markdown summary left as the run's artifact, with the next steps as links."""
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(number)
        trail = AuditRepository(session).for_record(number)
    actions = forms.links(incident)
    return render_text("incident_summary", incident=incident, audit=trail, actions=actions)


@task(cache_policy=NO_CACHE)
def refresh_incident_form() -> IncidentFormChoices | None:
    """log-incident's selects offer the CMDB's items and the policy's categories (the policy
    may have been edited in the UI since the last minute; see serviceops.forms)."""
    with sessions().begin() as session:
        catalogue = CatalogueRepository(session).catalogue()
    return offer_incident_choices(catalogue, load_policy())
