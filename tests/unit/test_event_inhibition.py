"""Inhibition through the CMDB (pure): a new alert on an item that needs one with an open
exception alert joins it as a symptom, holds its response back and is noted on the parent's
incident; when the parent resolves, symptoms still firing proceed on their own."""

from datetime import timedelta

from serviceops.domain.cmdb import WIDE_OUTAGE, Dependencies
from serviceops.domain.event import (
    ActionKind,
    Alert,
    AlertState,
    Correlator,
    EventPolicy,
    Response,
    Significance,
)
from serviceops.domain.event.incidents import draft_for, follow_up
from serviceops.domain.incident import Incident, IncidentPolicy, IncidentState, Source
from serviceops.domain.priority import Impact, Urgency
from tests.unit.test_event_rules import T0, decide_all, event

# core-sw-1 <- web-1..web-20 (each needs the switch), app-1 needs web-1; mail is unrelated
GRAPH = Dependencies(
    {"core-sw-1": []}
    | {f"web-{i}": ["core-sw-1"] for i in range(1, 21)}
    | {"app-1": ["web-1"], "mail": []}
)


def switch_alert(**fields: object) -> Alert:
    base: dict[str, object] = {
        "number": "ALR-000001",
        "key": "core-sw-1",
        "service": None,
        "ci": "core-sw-1",
        "title": "switch down",
        "significance": Significance.EXCEPTION,
        "response": Response.INCIDENT,
        "firing": [event(service=None, ci="core-sw-1").fingerprint],
        "fingerprints": [event(service=None, ci="core-sw-1").fingerprint],
        "event_count": 1,
        "incident_number": "INC-000001",
        "first_event_at": T0,
        "last_event_at": T0,
    }
    return Alert.model_validate(base | fields)


def on(ci: str, **fields: object) -> object:
    return event(service=None, ci=ci, **fields)


def test_a_storm_across_twenty_dependents_of_a_failed_switch_raises_one_incident() -> None:
    correlator = Correlator(EventPolicy(), [], GRAPH)
    storm = [on("core-sw-1", check="LinkDown")] + [
        on(f"web-{i % 20 + 1}", check=f"Check{i % 3}") for i in range(99)
    ]
    decide_all(correlator, storm)  # type: ignore[arg-type]
    decisions = correlator.decisions
    assert len(decisions.alerts) == 21
    switch, *symptoms = decisions.alerts
    assert [a.kind for a in decisions.actions].count(ActionKind.RAISE_INCIDENT) == 1
    assert {a.alert_key for a in decisions.actions} == {0}  # every action is the switch's
    notes = [a.note for a in decisions.actions if a.kind is ActionKind.ADD_SYMPTOM]
    assert len(notes) == 20 and notes[0].startswith("symptom: web-1: ")
    assert notes[0].endswith("(1 so far)") and notes[-1].endswith("(20 so far)")
    assert switch.symptoms == 20 and not switch.held
    assert all(s.held for s in symptoms)
    assert {decisions.alerts[s].key for s in decisions.symptom_of} == {
        f"web-{i}" for i in range(1, 21)
    }
    assert set(decisions.symptom_of.values()) == {0}
    assert sum(s.event_count for s in symptoms) == 99
    assert [n.alert_key for n in decisions.notices] == []  # symptoms say nothing
    assert "(a symptom of the alert on core-sw-1)" in decisions.changes[1].reason


def test_only_an_exception_outage_of_something_needed_inhibits() -> None:
    warning = switch_alert(significance=Significance.WARNING, response=Response.NOTIFY)
    correlator = Correlator(EventPolicy(), [warning], GRAPH)
    correlator.decide(on("web-1"), T0)  # type: ignore[arg-type]
    correlator.decide(on("mail"), T0)  # type: ignore[arg-type]
    kinds = [(a.alert_key, a.kind) for a in correlator.decisions.actions]
    assert kinds == [(0, ActionKind.RAISE_INCIDENT), (1, ActionKind.RAISE_INCIDENT)]
    assert not any(a.held for a in correlator.decisions.alerts)


def test_through_others_and_not_without_a_graph() -> None:
    inhibited = Correlator(EventPolicy(), [switch_alert()], GRAPH)
    inhibited.decide(on("app-1"), T0)  # type: ignore[arg-type]
    (app,) = [a for a in inhibited.decisions.alerts if a.key == "app-1"]
    assert app.suppressed_by == "ALR-000001"
    plain = Correlator(EventPolicy(), [switch_alert()])
    plain.decide(on("app-1"), T0)  # type: ignore[arg-type]
    assert [a.kind for a in plain.decisions.actions] == [ActionKind.RAISE_INCIDENT]


def test_an_alert_open_before_the_outage_goes_on_as_it_was() -> None:
    correlator = Correlator(EventPolicy(), [], GRAPH)
    decide_all(correlator, [on("web-1"), on("core-sw-1"), on("web-1", check="Other")])  # type: ignore[list-item]
    web, switch = correlator.decisions.alerts
    assert not web.held and switch.symptoms == 0
    assert [(a.alert_key, a.kind) for a in correlator.decisions.actions] == [
        (0, ActionKind.RAISE_INCIDENT),
        (1, ActionKind.RAISE_INCIDENT),
        (0, ActionKind.UPDATE_INCIDENT),
    ]


def test_when_the_parent_resolves_symptoms_still_firing_proceed_on_their_own() -> None:
    still = switch_alert(
        number="ALR-000002",
        key="web-1",
        ci="web-1",
        title="web-1 down",
        incident_number=None,
        suppressed_by="ALR-000001",
        firing=["fp-web-1"],
        fingerprints=["fp-web-1"],
    )
    cleared = still.model_copy(
        update={"number": "ALR-000003", "key": "web-2", "ci": "web-2", "firing": []}
    )
    cleared.state = AlertState.RESOLVED
    parent = switch_alert(symptoms=2)
    correlator = Correlator(EventPolicy(), [parent, still, cleared], GRAPH)
    correlator.decide(on("core-sw-1", status="resolved"), T0 + timedelta(minutes=9))  # type: ignore[arg-type]
    decisions = correlator.decisions
    assert [(decisions.alerts[a.alert_key].key, a.kind) for a in decisions.actions] == [
        ("core-sw-1", ActionKind.RESOLVE_INCIDENT),
        ("web-1", ActionKind.RAISE_INCIDENT),
    ]
    assert not still.held and not cleared.held  # let go; a resolved one has nothing to do
    assert decisions.changes[-1].reason == "proceeds on its own: ALR-000001 is over"


def test_a_symptom_joined_in_this_batch_proceeds_when_the_parent_resolves_in_it() -> None:
    correlator = Correlator(EventPolicy(), [], GRAPH)
    decide_all(
        correlator,
        [on("core-sw-1"), on("web-3"), on("core-sw-1", status="resolved")],  # type: ignore[list-item]
    )
    decisions = correlator.decisions
    assert decisions.symptom_of == {}
    kinds = [(decisions.alerts[a.alert_key].key, a.kind) for a in decisions.actions]
    assert kinds == [
        ("core-sw-1", ActionKind.RAISE_INCIDENT),
        ("core-sw-1", ActionKind.ADD_SYMPTOM),
        ("core-sw-1", ActionKind.RESOLVE_INCIDENT),
        ("web-3", ActionKind.RAISE_INCIDENT),
    ]


def incident(impact: Impact) -> Incident:
    return Incident(
        number="INC-000001",
        title="switch down",
        description="",
        service="network",
        ci="core-sw-1",
        category="network",
        impact=impact,
        urgency=Urgency.HIGH,
        reporter="serviceops",
        source=Source.MONITORING,
        state=IncidentState.ASSIGNED,
        created_at=T0,
        updated_at=T0,
    )


def test_symptoms_are_listed_on_the_incident_and_a_wide_outage_makes_it_high() -> None:
    policy = IncidentPolicy()
    note = "symptom: web-1: down (1 so far)"
    few = follow_up(ActionKind.ADD_SYMPTOM, incident(Impact.LOW), policy, note, T0, symptoms=4)
    assert few.incident.impact is Impact.LOW
    assert few.audit.reason == note
    wide = follow_up(
        ActionKind.ADD_SYMPTOM,
        incident(Impact.LOW),
        policy,
        "symptom: web-5: down (5 so far)",
        T0,
        symptoms=WIDE_OUTAGE,
    )
    assert wide.incident.impact is Impact.HIGH
    high = policy.priorities.priority_for(Impact.HIGH, Urgency.HIGH, service="network")
    assert (wide.audit.action, wide.incident.priority) == ("prioritize", high)
    assert wide.audit.reason.startswith("symptom: web-5: down (5 so far): high impact")


def test_an_incident_raised_for_an_outage_counts_its_symptoms() -> None:
    draft = draft_for(switch_alert(symptoms=WIDE_OUTAGE), "critical", Impact.LOW, "network")
    assert draft.impact is Impact.HIGH
    assert f"{WIDE_OUTAGE} symptom(s) of dependent items" in draft.description
    assert draft_for(switch_alert(), "critical", Impact.LOW, "network").impact is Impact.LOW


def test_a_later_warning_on_the_failed_item_does_not_hide_its_outage() -> None:
    warning = switch_alert(
        number="ALR-000002",
        significance=Significance.WARNING,
        response=Response.NOTIFY,
        incident_number=None,
        first_event_at=T0 + timedelta(minutes=30),
        last_event_at=T0 + timedelta(minutes=30),
        firing=["fp-cpu"],
        fingerprints=["fp-cpu"],
    )
    correlator = Correlator(EventPolicy(), [switch_alert(), warning], GRAPH)
    correlator.decide(on("web-4"), T0 + timedelta(minutes=31))  # type: ignore[arg-type]
    (web,) = [a for a in correlator.decisions.alerts if a.key == "web-4"]
    assert web.suppressed_by == "ALR-000001"


def test_a_symptom_let_go_while_another_outage_it_needs_is_open_joins_that_one() -> None:
    graph = Dependencies({"sw-a": [], "sw-b": [], "web-1": ["sw-a", "sw-b"]})
    down = on("sw-a").fingerprint  # type: ignore[attr-defined]
    first = switch_alert(key="sw-a", ci="sw-a", symptoms=1, firing=[down], fingerprints=[down])
    second = switch_alert(
        number="ALR-000002", key="sw-b", ci="sw-b", first_event_at=T0 + timedelta(minutes=1)
    )
    web = switch_alert(
        number="ALR-000003",
        key="web-1",
        ci="web-1",
        incident_number=None,
        suppressed_by="ALR-000001",
        firing=["fp-web"],
        fingerprints=["fp-web"],
    )
    correlator = Correlator(EventPolicy(), [first, second, web], graph)
    correlator.decide(on("sw-a", status="resolved"), T0 + timedelta(minutes=5))  # type: ignore[arg-type]
    assert web.suppressed_by == "ALR-000002" and second.symptoms == 1
    kinds = [
        (correlator.decisions.alerts[a.alert_key].key, a.kind) for a in correlator.decisions.actions
    ]
    assert kinds == [("sw-a", ActionKind.RESOLVE_INCIDENT), ("sw-b", ActionKind.ADD_SYMPTOM)]
