"""Walking the ladder against a real Prefect server and the served deployments, with levels of
seconds: a priority-2 incident logged pages the primary, then the secondary, then the manager,
then tells management, each once; an acknowledgement at level 2 stops the ladder and
acknowledges the incident by who answered (a second one changes nothing); a resolved incident
stops its page. Each step is a scheduled run of page-on-call: nothing waits in a process."""

from datetime import timedelta

from serviceops.domain.incident import IncidentState
from serviceops.domain.oncall import PageState
from serviceops.store.audit import AuditRepository
from tests.flows.conftest import ServedStack
from tests.flows.paging.support import (
    LADDER,
    NEVER,
    WAIT,
    bring_forward,
    dms,
    every_level,
    incident_titled,
    log_priority_two,
    page_of,
    page_state,
    start_run,
    step_done,
    told,
    until,
    use_ladder,
)
from tests.flows.run_support import wait

EARLY = timedelta(seconds=1)  # serve polls every second here (PREFECT_RUNNER_POLL_FREQUENCY)


def test_nobody_answering_walks_the_whole_ladder_once_then_tells_management(
    on_call: ServedStack,
) -> None:
    wait(log_priority_two("Mail relay refuses mail"), {"COMPLETED"})
    incident = incident_titled(on_call, "Mail relay refuses mail")
    until(lambda: page_state(on_call, incident.number) is PageState.EXHAUSTED)
    until(lambda: told(on_call, incident.number))  # delivered just after the state is saved
    assert dms(on_call, incident.number) == ["U0ALEX", "U0CASEY", "U0OLIVIA"]
    first = next(m for m in on_call.slack.messages if m["channel"] == "U0ALEX")
    buttons = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["page_ack"]
    assert told(on_call, incident.number) == [
        f":no_bell: Nobody answered {page_of(on_call, incident.number).number} for "
        f"{incident.number} (P2 High): Mail relay refuses mail"
    ]
    page = page_of(on_call, incident.number)
    gaps = [b.at - a.at for a, b in zip(page.paged, page.paged[1:], strict=False)]
    # Prefect's runner starts a scheduled run when it polls within its prefetch, so a step
    # may start a poll before its time (once 0.12 s early of a 2 s wait here)
    assert all(WAIT - EARLY <= gap < WAIT + timedelta(seconds=30) for gap in gaps), gaps


def test_an_acknowledgement_at_level_two_stops_the_ladder_and_owns_the_incident(
    on_call: ServedStack,
) -> None:
    patient = LADDER.model_copy(
        update={"levels": [*LADDER.levels[:1], LADDER.levels[1].model_copy(update={"wait": NEVER}),
                           *LADDER.levels[2:]]}
    )  # fmt: skip
    use_ladder(on_call, patient)  # step 3 comes when the test says, after the answers
    wait(log_priority_two("Shared drive unreachable"), {"COMPLETED"})
    incident = incident_titled(on_call, "Shared drive unreachable")
    until(lambda: "U0CASEY" in dms(on_call, incident.number))
    page = page_of(on_call, incident.number).number
    answer = start_run(
        "acknowledge-page/acknowledge-page", {"command": {"number": page, "actor": "casey"}}
    )
    assert wait(answer, {"COMPLETED", "FAILED"}).state.type.value == "COMPLETED"
    again = start_run(
        "acknowledge-page/acknowledge-page", {"command": {"number": page, "actor": "alex"}}
    )
    assert wait(again, {"COMPLETED", "FAILED"}).state.type.value == "FAILED"

    bring_forward(incident.number, 2)
    until(lambda: step_done(incident.number, 2))  # the manager's step ran, and did nothing
    assert dms(on_call, incident.number) == ["U0ALEX", "U0CASEY"]
    acknowledged = page_of(on_call, incident.number)
    assert (acknowledged.state, acknowledged.acknowledged_by) == (PageState.ACKNOWLEDGED, "casey")
    owned = incident_titled(on_call, "Shared drive unreachable")
    assert (owned.assignee, owned.acknowledged_at is not None) == ("casey", True)
    with on_call.sessions.begin() as session:
        trail = AuditRepository(session).for_record(page)
    assert [(e.action, e.actor) for e in trail if e.action == "acknowledge"] == [
        ("acknowledge", "casey")
    ]


def test_a_resolved_incident_stops_its_page(on_call: ServedStack) -> None:
    use_ladder(on_call, every_level(NEVER))  # step 2 comes when the test says, after resolving
    wait(log_priority_two("Printer queue frozen"), {"COMPLETED"})  # it paged the first step
    incident = incident_titled(on_call, "Printer queue frozen")
    command = {"number": incident.number, "actor": "alex", "code": "fixed", "notes": "restarted"}
    wait(start_run("resolve-incident/resolve-incident", {"command": command}), {"COMPLETED"})
    bring_forward(incident.number, 1)
    until(lambda: page_state(on_call, incident.number) is PageState.STOPPED)
    assert dms(on_call, incident.number) == ["U0ALEX"]
    assert incident_titled(on_call, "Printer queue frozen").state is IncidentState.RESOLVED
