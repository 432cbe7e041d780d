"""Paging tasks: open an incident's page, page its current step, escalate, acknowledge. Each
is one transaction with its audit rows and its messages (the outbox), and idempotent against
the page record, so a retried or restarted run never pages anyone twice for one step."""

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from prefect.states import Scheduled, State
from sqlalchemy.orm import Session

from blocks.incident_policy import load_policy
from blocks.slack import load_slack
from serviceops import deployment_names as names
from serviceops.domain.incident import AcknowledgeIncident, Incident, IncidentState
from serviceops.domain.incident import steps as incident_steps
from serviceops.domain.machine import first_entry
from serviceops.domain.oncall import (
    AcknowledgePage,
    Page,
    PageChange,
    PageState,
    Schedule,
    acknowledge,
    escalate,
    ladder,
    members,
    next_due,
    page_step,
    persons_to_page,
    slack_groups_to_page,
    stop,
)
from serviceops.domain.provenance import SYSTEM_ACTOR
from serviceops.notify.email import mail_server
from serviceops.notify.outbox import Outbox
from serviceops.notify.page_links import acknowledge_link
from serviceops.notify.render import priority_label, render_message, render_text
from serviceops.notify.sms import sms_provider
from serviceops.settings import get_settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import OverrideRepository, PageRepository
from serviceops.store.request import IdentityRepository
from tasks import messages
from tasks.context import audit, now, run_provenance, sessions

logger = logging.getLogger(__name__)
STALLED = timedelta(minutes=1)
BUSY_RETRY, BUSY_FOR = 0.2, 10.0
Created = TypeVar("Created")


def _schedule(session: Session, group: str | None) -> Schedule | None:
    return CatalogueRepository(session).catalogue().schedule(group)


def _record(session: Session, change: PageChange | None) -> Page | None:
    if change is None:
        return None
    saved = PageRepository(session).save(change.page)
    audit(session, change.audit)
    return saved


@task(cache_policy=NO_CACHE)
def open_page(incident_number: str) -> Page | None:
    """The incident's page, opened once: None when its support group has no schedule (the
    incident's own channel has it all the same)."""
    with sessions().begin() as session:
        pages = PageRepository(session)
        existing = pages.of_incident(incident_number, for_update=True)
        if existing is not None:
            return existing
        incident = IncidentRepository(session).get(incident_number)
        if _schedule(session, incident.support_group) is None:
            logger.warning("%s: %s has no on-call schedule, nobody paged", incident_number,
                           incident.support_group)  # fmt: skip
            return None
        page = pages.open(incident_number, incident.support_group or "", now())
        reason = f"{incident_number} {incident.priority} for {page.group}"
        audit(session, first_entry(page, "open", SYSTEM_ACTOR, page.opened_at, reason))
    return page


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def page_current_step(number: str) -> datetime | None:
    """Page whom the current step names, each person by every contact method they have and
    each Slack user group in the incident's channel (once per step); stop instead when the
    incident is resolved. When the next step is due, if any."""
    with sessions().begin() as session:
        page = PageRepository(session).get(number, for_update=True)
        incident = IncidentRepository(session).get(page.incident)
        if incident.state in (IncidentState.RESOLVED, IncidentState.CLOSED):
            _record(session, stop(page, f"{incident.number} {incident.state}", now()))
            return None
        schedule = _schedule(session, page.group)
        if schedule is None:
            return None
        policy, at = ladder(schedule), now()
        level = policy.level(page.step)
        if level is None:
            return None
        overrides = OverrideRepository(session).current(at, page.group)
        persons = persons_to_page(level, schedule, overrides, at)
        change = page_step(page, persons, at, slack_groups_to_page(level))
        saved = _record(session, change) or page
        if change is not None:
            _send_pages(session, saved, incident, change.page.paged[-1].persons)
            _page_slack_groups(session, saved, incident, change.page.paged[-1].slack_groups)
    return next_due(saved, policy)


def _page_slack_groups(session: Session, page: Page, incident: Incident, groups: list[str]) -> None:
    """Each Slack user group the step names, mentioned in the incident's channel with the
    Acknowledge button (its members in the support group may answer)."""
    if not groups:
        return
    channel = messages.incident_channel(load_slack(), incident)
    button = json.dumps({"number": page.number})
    for group in groups:
        message = render_message("page_group", page=page, incident=incident, button=button,
                                 group=group)  # fmt: skip
        Outbox(session).post(key=f"{page.number}:step:{page.step}:group:{group}", channel=channel,
                             message=message, record=page.number, at=now())  # fmt: skip


def _send_pages(session: Session, page: Page, incident: Incident, persons: list[str]) -> None:
    """Every contact method each person has in the directory: a Slack direct message, a mail
    once a mail server is configured, an SMS once a provider is; mail and SMS carry a link
    signed for this page and person once the gateway's public URL is set. One outbox row per
    step, person and method."""
    directory, outbox, settings = IdentityRepository(session), Outbox(session), get_settings()
    mail, sms = mail_server(settings) is not None, sms_provider(settings) is not None
    button = json.dumps({"number": page.number})
    message = render_message("page", page=page, incident=incident, button=button)
    secret, at = settings.read_page_link_secret(), now()
    for person in persons:
        identity = directory.get(person)
        key = f"{page.number}:step:{page.step}:{person}"
        contacts = 0
        if identity is not None and identity.slack_user_id is not None:
            outbox.post(key=f"{key}:slack", channel=identity.slack_user_id, message=message,
                        record=page.number, at=at)  # fmt: skip
            contacts += 1
        link = (  # only where people reach the gateway: a loopback link helps nobody
            acknowledge_link(settings.public_url, secret, page.number, person, at)
            if secret and settings.public_url
            else ""
        )
        text = {"page": page, "incident": incident, "link": link}
        if mail and identity is not None and identity.email is not None:
            title = " ".join(incident.title.split())  # a header is one line
            subject = f"{incident.number} {priority_label(incident.priority)}: {title}"
            outbox.email(key=f"{key}:email", to=identity.email, subject=subject[:200],
                         body=render_text("page_email.txt.j2", **text), record=page.number,
                         at=at)  # fmt: skip
            contacts += 1
        if sms and identity is not None and identity.phone is not None:
            outbox.sms(key=f"{key}:sms", to=identity.phone,
                       body=render_text("page_sms.txt.j2", **text), record=page.number,
                       at=at)  # fmt: skip
            contacts += 1
        if contacts == 0:
            logger.warning("%s: %s has no contact method this stack can reach (Slack id, "
                           "mail, phone), not paged", page.number, person)  # fmt: skip


@task(cache_policy=NO_CACHE)
def escalate_page(number: str, to_step: int) -> Page:
    """Nobody answered the step before `to_step`: move to it; past the ladder's end the page
    is exhausted and management told. Nothing when the page is past it or has ended."""
    slack = load_slack()
    with sessions().begin() as session:
        page = PageRepository(session).get(number, for_update=True)
        schedule = _schedule(session, page.group)
        if schedule is None:
            return page
        saved = _record(session, escalate(page, ladder(schedule), to_step, now()))
        if saved is None:
            return page
        if saved.state is PageState.EXHAUSTED:
            incident = IncidentRepository(session).get(page.incident)
            Outbox(session).post(
                key=f"{number}:exhausted",
                channel=slack.management_channel,
                message=render_message("page_exhausted", page=saved, incident=incident),
                record=number,
                at=now(),
            )
    return saved


@task(cache_policy=NO_CACHE)
def acknowledge_page(command: AcknowledgePage) -> Page:
    """The page ends, answered by `command.actor` (paged, or in the group: NotPaged
    otherwise, nothing changed); the incident is acknowledged by them as its owner, unless
    someone already owns it."""
    policy, slack = load_policy(), load_slack()
    with sessions().begin() as session:
        pages, incidents = PageRepository(session), IncidentRepository(session)
        page = pages.get(command.number, for_update=True)
        schedule = _schedule(session, page.group)
        group = members(schedule) if schedule is not None else set()
        change = acknowledge(page, command.actor, group, now())
        saved = pages.save(change.page)
        audit(session, change.audit)
        incident = incidents.get(page.incident, for_update=True)
        if incident.acknowledged_at is None and incident_steps.allows(
            incident, AcknowledgeIncident
        ):
            known = run_provenance(session, command.actor)
            ack = AcknowledgeIncident(number=incident.number, actor=command.actor)
            step = incident_steps.carry_out(ack, incident, policy, now(), known)
            updated = incidents.save(step.incident)
            audit(session, step.audit)
            messages.queue_change(session, slack, updated, step.audit)
    return saved


def _page_run(
    incident_number: str, step: int, key: str, state: State | None = None, page: str = ""
) -> FlowRun:
    """Create (or, by `key`, find) the page-on-call run that pages `step` of the incident's
    page; ObjectNotFound when page-on-call is not deployed."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(names.deployment(names.PAGE_ON_CALL))
        return _retried_soon(
            lambda: client.create_flow_run_from_deployment(
                deployment.id,
                parameters={"incident": incident_number, "step": step},
                state=state,
                idempotency_key=key,
                tags=[f"page:{page}"] if page else None,
            )
        )


def _retried_soon(create: Callable[[], Created]) -> Created:
    """`create` retried every BUSY_RETRY while Prefect on SQLite answers 503 (a write that
    met another's snapshot, over at once), before the client's own retries: their pauses of
    2, 4, 8, 16 s made a step's run, and so its level, up to 30 s late with five pages at once.
    The idempotency key makes a retry the same run."""
    deadline = time.monotonic() + BUSY_FOR
    while time.monotonic() < deadline:
        try:
            with temporary_settings(updates={PREFECT_CLIENT_MAX_RETRIES: 0}):
                return create()
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 503:
                raise
        time.sleep(BUSY_RETRY)
    return create()


def _run_again(run: FlowRun, at: datetime) -> bool:
    """Put an overdue step's run back in the queue when nothing will run it as it is: left
    Pending for longer than STALLED by a runner that claimed it and died before its time came
    (serve fetches runs a few seconds ahead), or ended without paging (crashed, failed). A
    run an operator cancelled or paused is left alone. True if it was queued again."""
    state = run.state
    if state is None or state.type not in (StateType.PENDING, StateType.CRASHED, StateType.FAILED):
        return False
    if state.type is StateType.PENDING and state.timestamp > at - STALLED:
        return False  # claimed just now: about to start
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run.id, Scheduled(), force=True)
    return True


def _overdue_step(page: Page, schedule: Schedule, at: datetime) -> int | None:
    """The step of `page` that should have been paged more than STALLED ago and was not: its
    current one (a run moved to it and died before paging), or the next (a run paged and
    died before scheduling it, or its run is stuck)."""
    if page.paged_at(page.step) is None:
        return page.step if page.updated_at < at - STALLED else None
    due = next_due(page, ladder(schedule))
    return page.step + 1 if due is not None and due < at - STALLED else None


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2)
def schedule_step(incident_number: str, page: str, step: int, at: datetime) -> str | None:
    """The page-on-call run that pages `step` at `at`: a scheduled run in Prefect's database,
    so nothing waits in a process meanwhile and a restart of serve, a worker or the server
    loses nothing; its idempotency key makes a retried request the same run. None when
    page-on-call is not deployed (housekeeping walks the page on once it is)."""
    at_its_time = Scheduled(scheduled_time=at)
    try:
        return str(_page_run(incident_number, step, f"{page}:step:{step}", at_its_time, page).id)
    except ObjectNotFound:
        logger.warning("%s: page-on-call is not deployed, step %d not scheduled", page, step + 1)
        return None


@task(cache_policy=NO_CACHE)
def resume_stalled_pages() -> list[str]:
    """Pages with a step overdue by more than STALLED (see _overdue_step): its run is
    scheduled now where there is none, or queued again where it is stuck (see _run_again).
    Where the run waits to be picked up (serve was only down), its idempotency key makes
    this find that run instead of making a second. One page failing stops no other."""
    at = now()
    with sessions().begin() as session:
        overdue = []
        for page in PageRepository(session).paging():
            schedule = _schedule(session, page.group)
            step = _overdue_step(page, schedule, at) if schedule is not None else None
            if step is not None:
                overdue.append((page, step))
    resumed = []
    for page, step in overdue:
        try:
            run = _page_run(page.incident, step, f"{page.number}:step:{step}", Scheduled(),
                            page.number)  # fmt: skip
            again = " (its run queued again)" if _run_again(run, at) else ""
        except Exception as error:  # Prefect away, page-on-call not deployed: next minute
            logger.warning("%s: step %d not walked on: %s", page.number, step + 1, error)
            continue
        resumed.append(f"{page.number} step {step + 1}{again}")
    return resumed


@task(cache_policy=NO_CACHE)
def should_page(incident_number: str, always: bool = False) -> bool:
    """log-incident's question: whether the incident pages its group's on-call now. The
    incident policy says so (priorities 1 and 2 at any hour, the others in business hours),
    or `always` (the desk or an event rule asked for a page); never without a schedule."""
    return _pages(incident_number, always)


def page_incident(incident_number: str, always: bool) -> str | None:
    """Start page-on-call for an incident as a run of its own (an alert that climbed to page
    after its incident was raised); its id, None when it does not page. A stack without that
    deployment logs it and pages nobody."""
    if not _pages(incident_number, always):
        return None
    try:
        return str(_page_run(incident_number, 0, f"{incident_number}:page").id)
    except ObjectNotFound:
        logger.warning("%s: page-on-call is not deployed, nobody paged", incident_number)
        return None


def _pages(incident_number: str, always: bool) -> bool:
    policy = load_policy()
    with sessions().begin() as session:
        incident = IncidentRepository(session).get(incident_number)
        pages = _schedule(session, incident.support_group) is not None
    return pages and (always or policy.pages(incident.priority, incident.created_at))
