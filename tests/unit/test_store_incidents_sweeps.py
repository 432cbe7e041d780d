"""IncidentRepository's two sweeps on SQLite and PostgreSQL: the SLA notices due (each state
and clock that matters, at its edge) and the major incidents due a status update."""

from datetime import timedelta

from serviceops.domain.incident import IncidentState, SlaClock, SlaKind
from serviceops.store.incident import IncidentRepository
from tests.unit.store_incidents_support import PARIS, T0, Sessions, add, clock, save

# --------------------------------------------------------------------------- SLA sweep

NOW = T0 + timedelta(hours=5)
PAST, FUTURE = NOW - timedelta(minutes=10), NOW + timedelta(minutes=10)


# name: (state, response clock, resolution clock, picked by sla_due)
SLA_CASES: dict[str, tuple[IncidentState, SlaClock | None, SlaClock | None, bool]] = {
    "no clocks": (IncidentState.NEW, None, None, False),
    "nothing crossed yet": (
        IncidentState.NEW,
        clock(SlaKind.RESPONSE, warn_at=FUTURE, due_at=FUTURE + timedelta(hours=1)),
        clock(SlaKind.RESOLUTION, warn_at=FUTURE, due_at=FUTURE + timedelta(hours=1)),
        False,
    ),
    "response warning crossed, not notified": (
        IncidentState.NEW,
        clock(SlaKind.RESPONSE, warn_at=PAST, due_at=FUTURE),
        None,
        True,
    ),
    "warning crossed exactly now": (
        IncidentState.ASSIGNED,
        clock(SlaKind.RESPONSE, warn_at=NOW, due_at=FUTURE),
        None,
        True,
    ),
    "warning crossed, already notified": (
        IncidentState.ASSIGNED,
        clock(SlaKind.RESPONSE, warn_at=PAST, due_at=FUTURE, warning_notified_at=PAST),
        None,
        False,
    ),
    "breached, warning notified, breach not": (
        IncidentState.IN_PROGRESS,
        None,
        clock(
            SlaKind.RESOLUTION,
            warn_at=PAST - timedelta(hours=1),
            due_at=PAST,
            warning_notified_at=PAST - timedelta(hours=1),
        ),
        True,
    ),
    "breached, both notified": (
        IncidentState.IN_PROGRESS,
        None,
        clock(
            SlaKind.RESOLUTION,
            warn_at=PAST - timedelta(hours=1),
            due_at=PAST,
            warning_notified_at=PAST - timedelta(hours=1),
            breach_notified_at=PAST,
        ),
        False,
    ),
    "breached, breach notified, warning never": (
        IncidentState.IN_PROGRESS,
        clock(SlaKind.RESPONSE, warn_at=PAST, due_at=PAST, breach_notified_at=PAST),
        None,
        True,
    ),
    "response met (stopped), resolution warning crossed": (
        IncidentState.IN_PROGRESS,
        clock(SlaKind.RESPONSE, warn_at=PAST, due_at=PAST, stopped_at=T0),
        clock(SlaKind.RESOLUTION, warn_at=PAST, due_at=FUTURE),
        True,
    ),
    "stopped clock past due, never notified": (
        IncidentState.IN_PROGRESS,
        clock(SlaKind.RESPONSE, warn_at=PAST, due_at=PAST, stopped_at=PAST),
        None,
        False,
    ),
    "pending: clocks paused": (
        IncidentState.PENDING,
        clock(
            SlaKind.RESPONSE,
            warn_at=None,
            due_at=None,
            paused_at=PAST,
            remaining=-timedelta(minutes=5),
        ),
        clock(SlaKind.RESOLUTION, warn_at=None, due_at=None, paused_at=PAST),
        False,
    ),
    "resolved, clock left running": (
        IncidentState.RESOLVED,
        clock(SlaKind.RESPONSE, warn_at=PAST, due_at=PAST),
        None,
        False,
    ),
    "closed, clock left running": (
        IncidentState.CLOSED,
        None,
        clock(SlaKind.RESOLUTION, warn_at=PAST, due_at=PAST),
        False,
    ),
}


def test_sla_due_picks_exactly_the_clocks_to_announce(sessions: Sessions) -> None:
    numbers: dict[str, str] = {}
    for name, (state, response, resolution, _) in SLA_CASES.items():
        logged = add(sessions, title=name)
        update = {"state": state, "response_sla": response, "resolution_sla": resolution}
        save(sessions, logged.model_copy(update=update))
        numbers[name] = logged.number

    with sessions.begin() as session:
        due = IncidentRepository(session).sla_due(NOW.astimezone(PARIS))

    expected = [numbers[name] for name, case in SLA_CASES.items() if case[3]]
    assert [incident.title for incident in due] == [n for n, c in SLA_CASES.items() if c[3]]
    assert [incident.number for incident in due] == expected


def test_sla_due_honours_the_limit_oldest_first(sessions: Sessions) -> None:
    response = clock(SlaKind.RESPONSE, warn_at=PAST, due_at=FUTURE)
    logged = [add(sessions) for _ in range(3)]
    for incident in logged:
        save(sessions, incident.model_copy(update={"response_sla": response}))

    with sessions.begin() as session:
        due = IncidentRepository(session).sla_due(NOW, limit=2)

    assert [i.number for i in due] == [logged[0].number, logged[1].number]


def test_a_notified_warning_leaves_the_sweep(sessions: Sessions) -> None:
    logged = add(sessions)
    response = clock(SlaKind.RESPONSE, warn_at=PAST, due_at=FUTURE)
    save(sessions, logged.model_copy(update={"response_sla": response}))

    with sessions.begin() as session:
        repository = IncidentRepository(session)
        (incident,) = repository.sla_due(NOW)
        assert incident.response_sla is not None
        notified = incident.response_sla.model_copy(update={"warning_notified_at": NOW})
        repository.save(incident.model_copy(update={"response_sla": notified}))

    with sessions.begin() as session:
        repository = IncidentRepository(session)
        assert repository.sla_due(NOW) == []
        assert [i.number for i in repository.sla_due(FUTURE)] == [logged.number]


# --------------------------------------------------------------------------- major incidents


def test_open_major_needing_update(sessions: Sessions) -> None:
    cadence = timedelta(minutes=30)
    never = add(sessions, major=True)
    stale = add(sessions, major=True)
    exactly = add(sessions, major=True)
    fresh = add(sessions, major=True)
    resolved = add(sessions, major=True)
    minor = add(sessions)
    save(sessions, stale.model_copy(update={"last_status_update_at": NOW - timedelta(hours=2)}))
    save(sessions, exactly.model_copy(update={"last_status_update_at": NOW - cadence}))
    save(sessions, fresh.model_copy(update={"last_status_update_at": NOW - timedelta(minutes=5)}))
    save(sessions, resolved.model_copy(update={"state": IncidentState.RESOLVED}))
    save(sessions, minor.model_copy(update={"state": IncidentState.IN_PROGRESS}))

    with sessions.begin() as session:
        due = IncidentRepository(session).open_major_needing_update(NOW, cadence)

    assert [i.number for i in due] == [never.number, stale.number, exactly.number]
