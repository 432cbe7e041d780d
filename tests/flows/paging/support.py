"""What the paging tests share: the desk's schedule and ladder, and reading what a page did
(its record, whom Slack, mail and SMS reached, the runs of its steps)."""

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.states import Scheduled

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import Incident
from serviceops.domain.oncall import EscalationPolicy, Layer, Level, Page, PageState, Schedule
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import PageRepository
from tests.fakes.sms import Sms
from tests.flows.conftest import ServedStack
from tests.flows.run_support import wait

WAIT = timedelta(seconds=2)
SLOW = timedelta(seconds=20)  # longer than serve and a worker fetch runs ahead (10 s)
NEVER = timedelta(hours=1)  # a level that only fires when a test brings it forward
LADDER = EscalationPolicy(
    levels=[
        Level(targets=["primary"], wait=WAIT),  # type: ignore[list-item]
        Level(targets=["secondary"], wait=WAIT),  # type: ignore[list-item]
        Level(targets=["manager"], wait=WAIT),  # type: ignore[list-item]
    ]
)
DESK = Schedule(
    group="service-desk",
    manager="olivia",
    layers=[
        Layer(name="primary", members=["alex"], start=date(2026, 1, 5)),
        Layer(name="secondary", members=["casey"], start=date(2026, 1, 5)),
    ],
    escalation=LADDER,
)
SLACK_IDS = {"alex": "U0ALEX", "casey": "U0CASEY", "olivia": "U0OLIVIA"}


def every_level(wait: timedelta) -> EscalationPolicy:
    """LADDER with each level waiting `wait`."""
    levels = [level.model_copy(update={"wait": wait}) for level in LADDER.levels]
    return LADDER.model_copy(update={"levels": levels})


def use_ladder(stack: ServedStack, ladder: EscalationPolicy) -> None:
    with stack.sessions.begin() as session:
        desk = DESK.model_copy(update={"escalation": ladder})
        CatalogueRepository(session).replace(Catalogue(oncall=[desk]), datetime.now(UTC), "t")


def log_priority_two(title: str) -> str:
    incident = {
        "title": title,
        "service": "mail",
        "category": "software/email",
        "impact": "high",
        "urgency": "medium",  # priority 2: pages at any hour
        "reporter": "dave",
    }
    return start_run("log-incident/log-incident", {"incident": incident})


def start_run(deployment_name: str, parameters: dict[str, Any]) -> str:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployment_name)
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    return str(run.id)


def incident_titled(stack: ServedStack, title: str) -> Incident:
    with stack.sessions.begin() as session:
        (incident,) = [i for i in IncidentRepository(session).list() if i.title == title]
    return incident


def page_of(stack: ServedStack, incident: str) -> Page:
    with stack.sessions.begin() as session:
        page = PageRepository(session).of_incident(incident)
    assert page is not None, f"{incident} has no page"
    return page


def page_state(stack: ServedStack, incident: str) -> PageState | None:
    """The page's state, None until page-on-call (started by log-incident) has opened it."""
    with stack.sessions.begin() as session:
        page = PageRepository(session).of_incident(incident)
    return None if page is None else page.state


def dms(stack: ServedStack, incident: str) -> list[str]:
    """Whom the page messaged directly, in order (their Slack ids)."""
    return [
        m["channel"]
        for m in stack.slack.messages
        if m["channel"].startswith("U0") and incident in m["text"]
    ]


def mails(stack: ServedStack, incident: str) -> list[EmailMessage]:
    return [m for m in stack.mail.mails if incident in m["Subject"]]


def texts(stack: ServedStack, incident: str) -> list[Sms]:
    return [m for m in stack.sms.messages if incident in m["body"]]


def told(stack: ServedStack, incident: str) -> list[str]:
    """What management was told about the incident's page."""
    return [
        m["text"]
        for m in stack.slack.messages
        if m["channel"] == "#incident-management"
        and "Nobody answered" in m["text"]
        and incident in m["text"]
    ]


def step_done(incident: str, step: int) -> bool:
    """Whether the page-on-call run of that step has finished."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    return any(
        run.parameters == {"incident": incident, "step": step}
        and run.state is not None
        and run.state.is_final()
        for run in runs
    )


def until(check: Callable[[], Any], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def step_run(incident: str, step: int) -> FlowRun | None:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    return next((r for r in runs if r.parameters == {"incident": incident, "step": step}), None)


def bring_forward(incident: str, step: int) -> None:
    """Make the step's scheduled run due now, so a test need not race a level's wait (the run
    of the step before schedules it just after paging)."""
    until(lambda: step_run(incident, step) is not None)
    run = step_run(incident, step)
    assert run is not None
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run.id, Scheduled(scheduled_time=datetime.now(UTC)), force=True)


def page_waiting_on_a_slow_first_level(stack: ServedStack, title: str) -> str:
    """Logs a priority-2 incident whose page has paged alex and waits SLOW for step 2: longer
    than serve fetches runs ahead, so step 2's run is still only scheduled while it waits
    (what a restart then has to find). Returns the incident's number."""
    first_wait = LADDER.levels[0].model_copy(update={"wait": SLOW})
    use_ladder(stack, LADDER.model_copy(update={"levels": [first_wait, *LADDER.levels[1:]]}))
    wait(log_priority_two(title), {"COMPLETED"})  # it paged the first step in its own run
    return incident_titled(stack, title).number


def sleep_past_step_two(stack: ServedStack, incident: str) -> None:
    """Until two seconds after step 2 of the slow first level fell due."""
    first = page_of(stack, incident).paged[0].at
    time.sleep(max(0.0, (first + SLOW - datetime.now(UTC)).total_seconds()) + 2)
