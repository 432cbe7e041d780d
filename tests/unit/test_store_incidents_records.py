"""IncidentRepository on SQLite and PostgreSQL: numbering, the full round trip of the model
(SLA clocks included), reading a row again and locking it, and the list filters, so that what
one flow saves is exactly what the next one reads."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from serviceops.domain.incident import (
    Incident,
    IncidentState,
    KnownErrorMatch,
    ResolutionCode,
    SlaKind,
    Source,
)
from serviceops.domain.priority import Impact, Priority, Urgency
from serviceops.store.base import RecordNotFound
from serviceops.store.incident import IncidentRepository
from tests.unit.store_incidents_support import PARIS, T0, Sessions, add, clock, draft, get, save

# --------------------------------------------------------------------------- add / get / save


def test_add_numbers_incidents_in_sequence_and_starts_them_new(sessions: Sessions) -> None:
    first = add(sessions)
    second = add(sessions, T0 + timedelta(minutes=1), major=True, source=Source.MONITORING)

    assert [first.number, second.number] == ["INC-000001", "INC-000002"]
    assert first.state is IncidentState.NEW
    assert first.priority is None
    assert first.created_at == first.updated_at == T0
    assert second.major is True
    assert second.source is Source.MONITORING
    assert first.response_sla is None
    assert first.resolution_sla is None
    assert first.known_error is None


def test_add_then_get_returns_the_same_incident_in_utc(sessions: Sessions) -> None:
    logged_at = datetime(2025, 3, 3, 10, 30, 15, 123456, tzinfo=PARIS)
    added = add(sessions, logged_at)

    loaded = get(sessions, added.number)

    assert loaded == added
    assert loaded.created_at == logged_at
    assert loaded.created_at.tzinfo == UTC
    assert loaded.created_at.hour == 9  # 10:30 in Paris in March is 09:30 UTC


def test_a_rolled_back_add_leaves_nothing(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError, match="flow failed"), sessions.begin() as session:
        IncidentRepository(session).add(draft(), T0)
        raise RuntimeError("flow failed")

    with sessions.begin() as session:
        assert IncidentRepository(session).list() == []


def test_save_round_trips_every_field(sessions: Sessions) -> None:
    logged = add(sessions)
    later = T0 + timedelta(hours=2)
    changed = logged.model_copy(
        update={
            "title": "VPN down for the Lyon office",
            "description": "All tunnels drop after 5 minutes.",
            "service": "vpn-lyon",
            "ci": "vpn-concentrator-2",
            "category": "network/vpn/tunnel",
            "impact": Impact.HIGH,
            "urgency": Urgency.MEDIUM,
            "priority": Priority.HIGH,
            "reporter": "bob@example.com",
            "source": Source.WEBHOOK,
            "state": IncidentState.PENDING,
            "major": True,
            "category_corrected": True,
            "support_group": "network",
            "assignee": "carol",
            "known_error": KnownErrorMatch(
                number="KE-000007", title="MTU mismatch", workaround="Set MTU to 1400."
            ),
            "resolution_code": ResolutionCode.WORKAROUND,
            "resolution_notes": "MTU lowered on the concentrator.",
            "pending_reason": "Waiting on the ISP.",
            "response_sla": clock(
                SlaKind.RESPONSE,
                target=timedelta(minutes=30),
                warn_at=T0 + timedelta(minutes=22, seconds=30),
                due_at=T0 + timedelta(minutes=30),
                stopped_at=T0 + timedelta(minutes=25),
                warning_notified_at=T0 + timedelta(minutes=23),
            ),
            "resolution_sla": clock(
                SlaKind.RESOLUTION,
                target=timedelta(hours=8),
                warn_at=None,
                due_at=None,
                remaining=-timedelta(minutes=5),
                paused_at=later,
                breach_notified_at=later - timedelta(minutes=1),
                warning_notified_at=later - timedelta(hours=1),
            ),
            "updated_at": later.astimezone(PARIS),
            "acknowledged_at": T0 + timedelta(minutes=25),
            "resolved_at": T0 + timedelta(hours=1),
            "closed_at": T0 + timedelta(hours=1, minutes=30),
            "reopen_count": 2,
            "escalation_count": 3,
            "major_channel": "C0123MAJOR",
            "last_status_update_at": T0 + timedelta(hours=1, minutes=45),
        }
    )
    # Every field but the two fixed at logging time is changed, so a field the repository
    # forgets to write back (or one added to Incident later) fails here.
    unchanged = {
        name for name in Incident.model_fields if getattr(changed, name) == getattr(logged, name)
    }
    assert unchanged == {"number", "created_at"}

    saved = save(sessions, changed)
    loaded = get(sessions, logged.number)

    assert saved == changed
    assert loaded == changed
    assert loaded.updated_at.tzinfo == UTC
    assert loaded.response_sla is not None and loaded.response_sla.kind is SlaKind.RESPONSE
    assert loaded.resolution_sla is not None
    assert loaded.resolution_sla.remaining == -timedelta(minutes=5)
    assert loaded.resolution_sla.due_at is None


def test_save_clears_what_the_model_no_longer_has(sessions: Sessions) -> None:
    logged = add(sessions)
    save(
        sessions,
        logged.model_copy(
            update={
                "priority": Priority.LOW,
                "assignee": "carol",
                "known_error": KnownErrorMatch(number="KE-000001", title="t", workaround="w"),
                "response_sla": clock(SlaKind.RESPONSE, warn_at=T0, due_at=T0),
                "resolution_sla": clock(SlaKind.RESOLUTION, warn_at=T0, due_at=T0),
            }
        ),
    )

    save(sessions, logged)

    assert get(sessions, logged.number) == logged


def test_clock_durations_are_kept_to_the_second(sessions: Sessions) -> None:
    logged = add(sessions)
    response = clock(
        SlaKind.RESPONSE,
        warn_at=None,
        due_at=None,
        paused_at=T0,
        remaining=timedelta(minutes=3, seconds=2, microseconds=600_000),
    )
    save(sessions, logged.model_copy(update={"response_sla": response}))

    loaded = get(sessions, logged.number).response_sla

    assert loaded is not None
    assert loaded.remaining == timedelta(minutes=3, seconds=3)


def test_get_and_save_of_an_unknown_number_raise_record_not_found(sessions: Sessions) -> None:
    with pytest.raises(RecordNotFound) as raised:
        get(sessions, "INC-000042")
    assert str(raised.value) == "no incident INC-000042"

    ghost = add(sessions).model_copy(update={"number": "INC-000042"})
    with pytest.raises(LookupError, match="no incident INC-000042"):
        save(sessions, ghost)


def test_get_for_update_reads_the_row_again(sessions: Sessions) -> None:
    """A session that already holds the incident still sees another transaction's commit."""
    logged = add(sessions)
    with sessions.begin() as session:
        repository = IncidentRepository(session)
        repository.get(logged.number)

        save(sessions, logged.model_copy(update={"assignee": "dave"}))

        assert repository.get(logged.number, for_update=True).assignee == "dave"


@pytest.mark.postgres
def test_get_for_update_locks_the_row_on_postgres(postgres_sessions: Sessions) -> None:
    """SQLite has a single writer, so only PostgreSQL has a row lock to show."""
    sessions = postgres_sessions
    logged = add(sessions)
    with sessions.begin() as holder, sessions() as contender:
        IncidentRepository(holder).get(logged.number, for_update=True)
        contender.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            IncidentRepository(contender).get(logged.number, for_update=True)


# --------------------------------------------------------------------------- list


def test_list_is_newest_first_and_pages(sessions: Sessions) -> None:
    a = add(sessions, T0)
    b = add(sessions, T0 + timedelta(hours=1))
    c = add(sessions, T0 + timedelta(hours=1))  # same instant as b: logged after it
    d = add(sessions, T0 - timedelta(days=1))  # back-dated, logged last

    with sessions.begin() as session:
        repository = IncidentRepository(session)
        numbers = [i.number for i in repository.list()]
        page = [i.number for i in repository.list(limit=2, offset=1)]

    assert numbers == [c.number, b.number, a.number, d.number]
    assert page == [b.number, a.number]


def test_list_filters_by_state_priority_and_service(sessions: Sessions) -> None:
    vpn_p2 = add(sessions, service="vpn")
    mail_p2 = add(sessions, service="mail")
    vpn_p4 = add(sessions, service="vpn")
    save(sessions, vpn_p2.model_copy(update={"priority": Priority.HIGH}))
    save(
        sessions,
        mail_p2.model_copy(update={"priority": Priority.HIGH, "state": IncidentState.ASSIGNED}),
    )
    save(sessions, vpn_p4.model_copy(update={"priority": Priority.LOW}))

    def numbers(**filters: object) -> list[str]:
        with sessions.begin() as session:
            return [i.number for i in IncidentRepository(session).list(**filters)]  # type: ignore[arg-type]

    assert numbers(service="vpn") == [vpn_p4.number, vpn_p2.number]
    assert numbers(priority=Priority.HIGH) == [mail_p2.number, vpn_p2.number]
    assert numbers(state=IncidentState.NEW) == [vpn_p4.number, vpn_p2.number]
    assert numbers(state=IncidentState.NEW, priority=Priority.HIGH, service="vpn") == [
        vpn_p2.number
    ]
    assert numbers(service="printing") == []
