"""Paging against a real Prefect server and the served deployments, with a ladder of
seconds: a priority-2 incident logged pages the primary, then the secondary, then the
manager, then tells management, each once; an acknowledgement at level 2 stops the ladder and
acknowledges the incident by who answered (a second one changes nothing); a resolved incident
stops its page. Each step is a scheduled run of page-on-call: nothing waits in a process."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import Incident, IncidentState
from serviceops.domain.oncall import EscalationPolicy, Layer, Level, Page, PageState, Schedule
from serviceops.domain.provenance import Channel
from serviceops.domain.request import Identity
from serviceops.gateway.app import create_app
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import PageRepository
from serviceops.store.request import IdentityRepository
from tests.fakes.sms import Sms
from tests.flows.conftest import ServedStack
from tests.flows.run_support import wait

WAIT = timedelta(seconds=2)
SLOW = timedelta(seconds=20)  # longer than resolving an incident takes on a loaded machine
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


@pytest.fixture
def on_call(served: ServedStack) -> Iterator[ServedStack]:
    """The desk's schedule in the catalogue and its people in the directory; afterwards an
    empty catalogue again (the module's other tests log incidents that must not page)."""
    with served.sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[DESK]), datetime.now(UTC), "t")
        for person, slack_id in SLACK_IDS.items():
            IdentityRepository(session).upsert(Identity(user=person, slack_user_id=slack_id))
    yield served
    with served.sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(), datetime.now(UTC), "t")


def _ladder(stack: ServedStack, ladder: EscalationPolicy) -> None:
    with stack.sessions.begin() as session:
        desk = DESK.model_copy(update={"escalation": ladder})
        CatalogueRepository(session).replace(Catalogue(oncall=[desk]), datetime.now(UTC), "t")


def _log(title: str) -> str:
    incident = {
        "title": title,
        "service": "mail",
        "category": "software/email",
        "impact": "high",
        "urgency": "medium",  # priority 2: pages at any hour
        "reporter": "dave",
    }
    return _start("log-incident/log-incident", {"incident": incident})


def _start(deployment_name: str, parameters: dict[str, Any]) -> str:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployment_name)
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    return str(run.id)


def _incident(stack: ServedStack, title: str) -> Incident:
    with stack.sessions.begin() as session:
        (incident,) = [i for i in IncidentRepository(session).list() if i.title == title]
    return incident


def _page(stack: ServedStack, incident: str) -> Page:
    with stack.sessions.begin() as session:
        page = PageRepository(session).of_incident(incident)
    assert page is not None, f"{incident} has no page"
    return page


def _state(stack: ServedStack, incident: str) -> PageState | None:
    """The page's state, None until page-on-call (started by log-incident) has opened it."""
    with stack.sessions.begin() as session:
        page = PageRepository(session).of_incident(incident)
    return None if page is None else page.state


def _dms(stack: ServedStack, incident: str) -> list[str]:
    """Whom the page messaged directly, in order (their Slack ids)."""
    return [
        m["channel"]
        for m in stack.slack.messages
        if m["channel"].startswith("U0") and incident in m["text"]
    ]


def _mails(stack: ServedStack, incident: str) -> list[EmailMessage]:
    return [m for m in stack.mail.mails if incident in m["Subject"]]


def _texts(stack: ServedStack, incident: str) -> list[Sms]:
    return [m for m in stack.sms.messages if incident in m["body"]]


def _told(stack: ServedStack, incident: str) -> list[str]:
    """What management was told about the incident's page."""
    return [
        m["text"]
        for m in stack.slack.messages
        if m["channel"] == "#incident-management"
        and "Nobody answered" in m["text"]
        and incident in m["text"]
    ]


def _answer(page: str, person: str) -> str:
    run = _start(
        "acknowledge-page/acknowledge-page", {"command": {"number": page, "actor": person}}
    )
    state = wait(run, {"COMPLETED", "FAILED"}).state
    assert state is not None
    return state.type.value


def _step_done(incident: str, step: int) -> bool:
    """Whether the page-on-call run of that step has finished."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    return any(
        run.parameters == {"incident": incident, "step": step}
        and run.state is not None
        and run.state.is_final()
        for run in runs
    )


def _until(check: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_nobody_answering_walks_the_whole_ladder_once_then_tells_management(
    on_call: ServedStack,
) -> None:
    wait(_log("Mail relay refuses mail"), {"COMPLETED"})
    incident = _incident(on_call, "Mail relay refuses mail")
    _until(lambda: _state(on_call, incident.number) is PageState.EXHAUSTED)
    _until(lambda: _told(on_call, incident.number))  # delivered just after the state is saved
    assert _dms(on_call, incident.number) == ["U0ALEX", "U0CASEY", "U0OLIVIA"]
    first = next(m for m in on_call.slack.messages if m["channel"] == "U0ALEX")
    buttons = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["page_ack"]
    assert _told(on_call, incident.number) == [
        f":no_bell: Nobody answered {_page(on_call, incident.number).number} for "
        f"{incident.number} (P2 High): Mail relay refuses mail"
    ]
    page = _page(on_call, incident.number)
    gaps = [b.at - a.at for a, b in zip(page.paged, page.paged[1:], strict=False)]
    assert all(WAIT <= gap < WAIT + timedelta(seconds=30) for gap in gaps), gaps


def test_an_acknowledgement_at_level_two_stops_the_ladder_and_owns_the_incident(
    on_call: ServedStack,
) -> None:
    patient = LADDER.model_copy(
        update={"levels": [*LADDER.levels[:1], LADDER.levels[1].model_copy(update={"wait": SLOW}),
                           *LADDER.levels[2:]]}
    )  # fmt: skip
    _ladder(on_call, patient)  # the answer must come before step 3
    wait(_log("Shared drive unreachable"), {"COMPLETED"})
    incident = _incident(on_call, "Shared drive unreachable")
    _until(lambda: "U0CASEY" in _dms(on_call, incident.number))
    page = _page(on_call, incident.number).number
    answer = _start(
        "acknowledge-page/acknowledge-page", {"command": {"number": page, "actor": "casey"}}
    )
    assert wait(answer, {"COMPLETED", "FAILED"}).state.type.value == "COMPLETED"
    again = _start(
        "acknowledge-page/acknowledge-page", {"command": {"number": page, "actor": "alex"}}
    )
    assert wait(again, {"COMPLETED", "FAILED"}).state.type.value == "FAILED"

    _until(lambda: _step_done(incident.number, 2))  # the manager's step ran, and did nothing
    assert _dms(on_call, incident.number) == ["U0ALEX", "U0CASEY"]
    acknowledged = _page(on_call, incident.number)
    assert (acknowledged.state, acknowledged.acknowledged_by) == (PageState.ACKNOWLEDGED, "casey")
    owned = _incident(on_call, "Shared drive unreachable")
    assert (owned.assignee, owned.acknowledged_at is not None) == ("casey", True)
    with on_call.sessions.begin() as session:
        trail = AuditRepository(session).for_record(page)
    assert [(e.action, e.actor) for e in trail if e.action == "acknowledge"] == [
        ("acknowledge", "casey")
    ]


def test_a_resolved_incident_stops_its_page(on_call: ServedStack) -> None:
    slow = LADDER.model_copy(
        update={"levels": [level.model_copy(update={"wait": SLOW}) for level in LADDER.levels]}
    )
    _ladder(on_call, slow)  # the resolution must come before step 2
    wait(_log("Printer queue frozen"), {"COMPLETED"})
    incident = _incident(on_call, "Printer queue frozen")
    _until(lambda: "U0ALEX" in _dms(on_call, incident.number))
    command = {"number": incident.number, "actor": "alex", "code": "fixed", "notes": "restarted"}
    wait(_start("resolve-incident/resolve-incident", {"command": command}), {"COMPLETED"})
    _until(lambda: _state(on_call, incident.number) is PageState.STOPPED)
    assert _dms(on_call, incident.number) == ["U0ALEX"]
    assert _incident(on_call, "Printer queue frozen").state is IncidentState.RESOLVED


def test_a_page_reaches_every_contact_method_and_the_mailed_link_acknowledges_it(
    on_call: ServedStack,
) -> None:
    slow = LADDER.model_copy(
        update={"levels": [level.model_copy(update={"wait": SLOW}) for level in LADDER.levels]}
    )
    _ladder(on_call, slow)  # the link must be used before step 2
    with on_call.sessions.begin() as session:
        alex = Identity(user="alex", slack_user_id="U0ALEX", email="alex@example.org",
                        phone="+4915112345678")  # fmt: skip
        IdentityRepository(session).upsert(alex)
    wait(_log("VPN drops every hour"), {"COMPLETED"})
    incident = _incident(on_call, "VPN drops every hour")
    number = incident.number
    _until(lambda: _mails(on_call, number) and _texts(on_call, number) and _dms(on_call, number))
    (mail,), (sms,) = _mails(on_call, number), _texts(on_call, number)
    assert (mail["To"], sms["to"]) == ("alex@example.org", "+4915112345678")
    found = re.search(r"http://desk\.test(/pages/\S+)", mail.get_content())
    assert found is not None, mail.get_content()
    link = found.group(1)
    assert sms["body"].endswith(f"Ack: http://desk.test{link}")

    gateway = create_app(
        get_settings(), sessions=on_call.sessions, prefect_api_url=PREFECT_API_URL.value()
    )
    with TestClient(gateway) as client:
        opened = client.get(link)
        assert opened.status_code == 200 and '<form method="post">' in opened.text
        tampered = link.replace("person=alex", "person=blake")
        assert [client.get(tampered).status_code, client.post(tampered).status_code] == [403, 403]
        assert _state(on_call, incident.number) is PageState.PAGING  # a fetch changed nothing
        assert client.post(link).status_code == 202
        _until(lambda: _state(on_call, incident.number) is PageState.ACKNOWLEDGED)
        assert client.get(link).status_code == 409  # the page has ended
    page = _page(on_call, incident.number)
    with on_call.sessions.begin() as session:
        trail = AuditRepository(session).for_record(page.number)
    assert [(e.actor, e.via) for e in trail if e.action == "acknowledge"] == [
        ("alex", Channel.LINK)
    ]
    assert _incident(on_call, "VPN drops every hour").assignee == "alex"
