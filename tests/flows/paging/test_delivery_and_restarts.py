"""A page's delivery and its survival, against a real Prefect server and the served
deployments: every contact method of the person paged (Slack, mail to a real SMTP server, SMS
through a provider's REST API) and the mailed link that acknowledges; serve killed while a page
waits; a page whose next step was never scheduled, walked on by housekeeping."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL
from prefect.states import Pending

from serviceops.domain.incident import IncidentDraft
from serviceops.domain.oncall import PageState
from serviceops.domain.provenance import Channel
from serviceops.domain.request import Identity
from serviceops.gateway.app import create_app
from serviceops.settings import get_settings
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import PageRepository
from serviceops.store.request import IdentityRepository
from tasks.paging import resume_stalled_pages
from tests.flows.conftest import ServedStack
from tests.flows.paging.support import (
    NEVER,
    SLOW,
    dms,
    every_level,
    incident_titled,
    log_priority_two,
    mails,
    page_of,
    page_state,
    page_waiting_on_a_slow_first_level,
    sleep_past_step_two,
    step_done,
    step_run,
    texts,
    until,
    use_ladder,
)
from tests.flows.run_support import wait


def test_a_page_reaches_every_contact_method_and_the_mailed_link_acknowledges_it(
    on_call: ServedStack,
) -> None:
    use_ladder(on_call, every_level(NEVER))  # the link is used before step 2, however slow
    with on_call.sessions.begin() as session:
        alex = Identity(user="alex", slack_user_id="U0ALEX", email="alex@example.org",
                        phone="+4915112345678")  # fmt: skip
        IdentityRepository(session).upsert(alex)
    wait(log_priority_two("VPN drops every hour"), {"COMPLETED"})
    incident = incident_titled(on_call, "VPN drops every hour")
    number = incident.number
    until(lambda: mails(on_call, number) and texts(on_call, number) and dms(on_call, number))
    (mail,), (sms,) = mails(on_call, number), texts(on_call, number)
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
        assert page_state(on_call, incident.number) is PageState.PAGING  # a fetch changed nothing
        assert client.post(link).status_code == 202
        until(lambda: page_state(on_call, incident.number) is PageState.ACKNOWLEDGED)
        assert client.get(link).status_code == 409  # the page has ended
    page = page_of(on_call, incident.number)
    with on_call.sessions.begin() as session:
        trail = AuditRepository(session).for_record(page.number)
    assert [(e.actor, e.via) for e in trail if e.action == "acknowledge"] == [
        ("alex", Channel.LINK)
    ]
    assert incident_titled(on_call, "VPN drops every hour").assignee == "alex"


def test_serve_killed_while_a_page_waits_walks_on_after_its_restart_paging_nobody_twice(
    on_call: ServedStack,
) -> None:
    incident = page_waiting_on_a_slow_first_level(on_call, "Backups stalled")
    on_call.serve.kill()
    sleep_past_step_two(on_call, incident)
    assert dms(on_call, incident) == ["U0ALEX"]  # step 2 fell due while nobody served
    on_call.serve.start()
    until(lambda: page_state(on_call, incident) is PageState.EXHAUSTED, timeout=150)
    assert dms(on_call, incident) == ["U0ALEX", "U0CASEY", "U0OLIVIA"]
    assert [p.step for p in page_of(on_call, incident).paged] == [0, 1, 2]


@pytest.mark.parametrize("lost", ["never scheduled", "left pending"])
def test_a_page_whose_next_step_run_is_lost_or_stuck_is_walked_on_by_housekeeping(
    on_call: ServedStack, lost: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run that paged alex died before scheduling step 2 (no such run), or serve claimed
    step 2's run (Pending) and died before its time came: either way, minutes later."""
    use_ladder(on_call, every_level(SLOW))
    title = f"Badge readers offline ({lost})"
    wait(log_priority_two(title), {"COMPLETED"})
    incident = incident_titled(on_call, title).number
    until(lambda: step_run(incident, 1) is not None)
    scheduled = step_run(incident, 1)
    assert scheduled is not None
    with get_client(sync_client=True) as client:
        if lost == "never scheduled":
            client.delete_flow_run(scheduled.id)
        else:
            client.set_flow_run_state(scheduled.id, Pending(), force=True)
    page = page_of(on_call, incident).number

    def resumed() -> list[str]:
        return [r for r in resume_stalled_pages() if r.startswith(page)]

    with monkeypatch.context() as later:  # the housekeeping minute, five minutes on
        later.setattr("tasks.paging.now", lambda: datetime.now(UTC) + timedelta(minutes=5))
        again = " (its run queued again)" if lost == "left pending" else ""
        assert resumed() == [f"{page} step 2{again}"]
    until(lambda: "U0CASEY" in dms(on_call, incident))
    until(lambda: step_done(incident, 1))
    assert dms(on_call, incident) == ["U0ALEX", "U0CASEY"]
    assert resumed() == []  # step 3 is scheduled, not overdue


def test_a_page_whose_step_was_never_paged_is_paged_by_housekeeping(
    on_call: ServedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page opened, and the run died before it paged anyone (no step paged, no run)."""
    use_ladder(on_call, every_level(SLOW))
    with on_call.sessions.begin() as session:
        incident = IncidentRepository(session).add(
            IncidentDraft(title="Nobody paged yet", service="mail", category="software/email",
                          impact="high", urgency="medium", reporter="dave"),
            datetime.now(UTC),
        )  # fmt: skip
        routed = incident.model_copy(update={"support_group": "service-desk", "priority": 2})
        IncidentRepository(session).save(routed)
        page = PageRepository(session).open(incident.number, "service-desk", datetime.now(UTC))
    with monkeypatch.context() as later:
        later.setattr("tasks.paging.now", lambda: datetime.now(UTC) + timedelta(minutes=5))
        assert [r for r in resume_stalled_pages() if r.startswith(page.number)] == [
            f"{page.number} step 1"
        ]
    until(lambda: "U0ALEX" in dms(on_call, incident.number))
    assert dms(on_call, incident.number) == ["U0ALEX"]
