"""Changes on SQLite and PostgreSQL: numbered and read back whole, the schedule of change's
conflicts through the stored CMDB and freeze periods, and the maintenance window of an
implementing change across correlation batches."""

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_batch, release_held
from serviceops.domain.change import (
    ChangeApprovalDecision,
    ChangePolicy,
    ChangeState,
    CompleteChange,
    ImplementChange,
    steps,
)
from serviceops.domain.cmdb import Catalogue, ConfigurationItem, FreezePeriod
from serviceops.domain.event import EventIn, EventPolicy
from serviceops.store.change import ChangeRepository, window_conflicts
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import AlertActionRepository, AlertRepository, EventRepository
from tests.unit.change_support import END, START, T0, draft

SWITCH = "core-sw-1"
WEB = [f"web-{i}" for i in range(1, 4)]
FREEZE = FreezePeriod(
    name="year-end", starts_at=START + timedelta(days=7), ends_at=START + timedelta(days=9)
)


def catalogue(sessions: sessionmaker[Session]) -> None:
    items = [
        ConfigurationItem(name=SWITCH, type="network", owner_group="network", tier=2),
        ConfigurationItem(name="mail", owner_group="messaging", tier=1),
    ] + [ConfigurationItem(name=n, owner_group="web", tier=2, depends_on=[SWITCH]) for n in WEB]
    with sessions.begin() as session:
        CatalogueRepository(session).replace(
            Catalogue(items=items, freezes=[FREEZE]), T0, "cmdb.toml"
        )


def logged(sessions: sessionmaker[Session], **fields: object) -> str:
    """A change logged and assessed (the owner groups from the stored catalogue)."""
    with sessions.begin() as session:
        changes = ChangeRepository(session)
        change = changes.add(draft(**fields), T0)
        groups = CatalogueRepository(session).owner_groups(change.cis)
        return changes.save(steps.assess(change, groups, ChangePolicy(), T0).change).number


def approve_all(sessions: sessionmaker[Session], number: str, approver: str = "pat") -> None:
    with sessions.begin() as session:
        changes = ChangeRepository(session)
        change = changes.get(number, for_update=True)
        while (pending := change.pending_approval()) is not None:
            decision = ChangeApprovalDecision(approve=True, approver=approver)
            change = steps.decide(change, pending, decision, T0).change
        changes.save(steps.schedule(change, "serviceops", [], T0).change)


def test_a_change_is_numbered_and_read_back_whole(sessions: sessionmaker[Session]) -> None:
    catalogue(sessions)
    first = logged(sessions, cis=[SWITCH, "web-1"], risk="high")
    second = logged(sessions, kind="standard", template="patch-linux", risk="low")
    assert (first, second) == ("CHG-000001", "CHG-000002")
    with sessions.begin() as session:
        change = ChangeRepository(session).get(first)
    assert change.state is ChangeState.APPROVAL and change.cis == [SWITCH, "web-1"]
    assert [r.label for r in change.approvals_required] == [
        "ci_owner network",
        "ci_owner web",
        "change_manager",
        "cab",
    ]
    assert change.planned_start == START and change.planned_end == END
    approve_all(sessions, first)
    with sessions.begin() as session:
        change = ChangeRepository(session).get(first)
        listed = ChangeRepository(session).list(ci="web-1")
    assert change.state is ChangeState.SCHEDULED and len(change.approvals) == 4
    assert change.approvals[0].required.group == "network" and change.approvals[0].at == T0
    assert [c.number for c in listed] == [first]


def conflicts_of(sessions: sessionmaker[Session], cis: list[str], days: int = 0) -> list[str]:
    start, end = START + timedelta(days=days), END + timedelta(days=days)
    with sessions.begin() as session:
        found = window_conflicts(session, "CHG-000099", cis, start, end)
    return [f"{c.kind.value} {c.other} {c.ci}" for c in found]


def test_calendar_conflicts_same_ci_dependent_ci_and_freeze(
    sessions: sessionmaker[Session],
) -> None:
    catalogue(sessions)
    on_switch = logged(sessions, cis=[SWITCH])
    assert conflicts_of(sessions, [SWITCH]) == [f"same_ci {on_switch} {SWITCH}"]
    assert conflicts_of(sessions, ["web-2"]) == [f"related_ci {on_switch} web-2"]
    assert conflicts_of(sessions, ["mail"]) == []
    assert conflicts_of(sessions, ["web-2"], days=1) == []  # a day later: free
    assert conflicts_of(sessions, ["mail"], days=8) == ["freeze year-end mail"]
    with sessions.begin() as session:
        changes = ChangeRepository(session)
        change = changes.get(on_switch, for_update=True)
        cancel = steps.CancelChange(number=on_switch, actor="robin", reason="not needed")
        changes.save(steps.cancel(change, cancel, T0).change)
    assert conflicts_of(sessions, [SWITCH]) == []  # a cancelled change holds no window


def on(ci: str, **fields: object) -> EventIn:
    base = {"source": "prometheus", "ci": ci, "check": "Down", "severity": "critical"}
    return EventIn.model_validate(base | {"summary": f"{ci} down"} | fields)


def decide(sessions: sessionmaker[Session], events: list[EventIn], at: object) -> None:
    with sessions.begin() as session:
        EventRepository(session).record(events, at)  # type: ignore[arg-type]
    correlate_batch(sessions, EventPolicy(), at)  # type: ignore[arg-type]


def held(sessions: sessionmaker[Session]) -> dict[str, tuple[str | None, list[str]]]:
    with sessions.begin() as session:
        actions = AlertActionRepository(session)
        return {
            alert.key: (
                alert.suppressed_by,
                [a.kind.value for a in actions.for_alert(alert.number or "")],
            )
            for alert in AlertRepository(session).list()
        }


def test_an_implementing_change_holds_its_cis_and_dependents_until_it_ends(
    sessions: sessionmaker[Session],
) -> None:
    catalogue(sessions)
    number = logged(sessions, cis=[SWITCH], risk="low")
    approve_all(sessions, number, approver="change-manager")
    with sessions.begin() as session:
        changes = ChangeRepository(session)
        start = ImplementChange(number=number, actor="robin")
        changes.save(steps.implement(changes.get(number), start, START).change)
    at = START + timedelta(minutes=5)
    decide(sessions, [on(SWITCH), on("web-2"), on("mail")], at)
    assert held(sessions) == {
        SWITCH: (number, []),
        "web-2": (number, []),
        "mail": (None, ["raise_incident"]),
    }
    decide(sessions, [on("web-2", status="resolved")], at + timedelta(minutes=1))
    end = at + timedelta(minutes=30)
    with sessions.begin() as session:
        changes = ChangeRepository(session)
        done = CompleteChange(number=number, actor="robin", outcome="firmware 9.1 in")
        changes.save(steps.complete(changes.get(number), done, end).change)
        EventRepository(session).lock_processing(end)
        assert release_held(session, EventPolicy(), {number: f"{number} implemented"}, end) == 2
        assert (
            ChangeRepository(session).recent({SWITCH}, end - timedelta(hours=72), end)[0].number
            == number
        )
    # the switch still fires: it proceeds as if it had just fired; web-2 cleared meanwhile
    assert held(sessions) == {
        SWITCH: (None, ["raise_incident"]),
        "web-2": (None, []),
        "mail": (None, ["raise_incident"]),
    }
    decide(sessions, [on("web-3")], end + timedelta(minutes=1))
    # no window any more: web-3 joins the switch's outage as a symptom, not the change
    assert held(sessions)["web-3"] == ("ALR-000001", [])
