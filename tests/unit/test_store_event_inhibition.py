"""Inhibition across correlation batches on SQLite and PostgreSQL: the parent outage and its
symptoms are loaded for later batches through the stored CMDB, a parent new in a batch is named
by its symptoms once numbered, and a parent resolved in a later batch lets its symptoms still
firing proceed."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_batch
from serviceops.domain.cmdb import Catalogue, ConfigurationItem
from serviceops.domain.event import ActionKind, EventIn, EventPolicy
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import AlertActionRepository, AlertRepository, EventRepository

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SWITCH = "core-sw-1"
WEB = [f"web-{i}" for i in range(1, 21)]


def catalogue(sessions: sessionmaker[Session], at: datetime = T0) -> None:
    items = [ConfigurationItem(name=SWITCH, type="network", owner_group="network", tier=2)] + [
        ConfigurationItem(name=name, owner_group="web", tier=2, depends_on=[SWITCH]) for name in WEB
    ]
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(items=items), at, "cmdb.toml")


def on(ci: str, **fields: object) -> EventIn:
    base: dict[str, object] = {
        "source": "prometheus",
        "ci": ci,
        "check": "Down",
        "severity": "critical",
        "summary": f"{ci} unreachable",
    }
    return EventIn.model_validate(base | fields)


def decide(
    sessions: sessionmaker[Session], events: list[EventIn], at: datetime, policy: EventPolicy
) -> None:
    with sessions.begin() as session:
        EventRepository(session).record(events, at)
    correlate_batch(sessions, policy, at)


def by_key(sessions: sessionmaker[Session]) -> dict[str, tuple[str | None, int, list[str]]]:
    """key -> (held by, symptoms, the kinds of its actions)."""
    with sessions.begin() as session:
        actions = AlertActionRepository(session)
        return {
            alert.key: (
                alert.suppressed_by,
                alert.symptoms,
                [a.kind.value for a in actions.for_alert(alert.number or "")],
            )
            for alert in AlertRepository(session).list(limit=1000)
        }


def test_a_storm_on_the_dependents_of_a_failed_switch_raises_one_incident_across_batches(
    sessions: sessionmaker[Session],
) -> None:
    catalogue(sessions)
    policy = EventPolicy()
    # the switch and five dependents in one batch: the parent is new there
    decide(sessions, [on(SWITCH)] + [on(name) for name in WEB[:5]], T0, policy)
    # the rest of the storm later: the parent is loaded for them through the CMDB
    storm = [on(WEB[i % 20], check=f"Check{i % 4}") for i in range(94)]
    decide(sessions, storm, T0 + timedelta(seconds=30), policy)
    alerts = by_key(sessions)
    assert len(alerts) == 21
    parent = alerts.pop(SWITCH)
    assert parent[1] == 20
    assert parent[2] == ["raise_incident"] + ["add_symptom"] * 20
    with sessions.begin() as session:
        number = AlertRepository(session).list(limit=1000)[-1].number
    assert {held for held, _, _ in alerts.values()} == {number}
    assert all(kinds == [] for _, _, kinds in alerts.values())

    # the switch comes back while web-1 alone is still failing
    cleared = [on(name, check=f"Check{c}", status="resolved") for name in WEB[1:] for c in range(4)]
    cleared += [on(name, status="resolved") for name in WEB[1:]]
    decide(sessions, cleared, T0 + timedelta(minutes=2), policy)
    decide(sessions, [on(SWITCH, status="resolved")], T0 + timedelta(minutes=3), policy)
    after = by_key(sessions)
    assert after[SWITCH][2][-1] == ActionKind.RESOLVE_INCIDENT.value
    assert after["web-1"] == (None, 0, ["raise_incident"])
    assert all(after[name] == (None, 0, []) for name in WEB[1:])


def test_inhibition_can_be_turned_off(sessions: sessionmaker[Session]) -> None:
    catalogue(sessions)
    decide(sessions, [on(SWITCH), on("web-1")], T0, EventPolicy(inhibit_dependents=False))
    assert [kinds for _, _, kinds in by_key(sessions).values()] == [["raise_incident"]] * 2


def test_a_reloaded_catalogue_is_what_inhibits(sessions: sessionmaker[Session]) -> None:
    decide(sessions, [on(SWITCH)], T0, EventPolicy())
    decide(sessions, [on("web-1")], T0 + timedelta(seconds=1), EventPolicy())
    assert by_key(sessions)["web-1"][0] is None  # no CMDB yet: nothing known to depend
    catalogue(sessions, T0 + timedelta(seconds=2))
    decide(sessions, [on("web-2")], T0 + timedelta(seconds=3), EventPolicy())
    assert by_key(sessions)["web-2"][0] is not None
