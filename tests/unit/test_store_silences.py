"""Silences on SQLite and PostgreSQL: numbered and read back, found active by each batch, and
their end letting go of what they held across batches (release_held)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_batch, release_held
from serviceops.domain.event import AddSilence, EventIn, EventPolicy, SilenceState
from serviceops.domain.event import silences as steps
from serviceops.store.event import (
    AlertActionRepository,
    AlertRepository,
    EventRepository,
    SilenceRepository,
)
from serviceops.store.event.holds import hold_index

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def silence(sessions: sessionmaker[Session], **fields: object) -> str:
    base: dict[str, object] = {
        "ci": "db-01",
        "ends_at": T0 + timedelta(hours=1),
        "reason": "kernel update",
        "owner": "alex",
        "actor": "alex",
    }
    with sessions.begin() as session:
        return SilenceRepository(session).add(AddSilence.model_validate(base | fields), T0).number


def on(ci: str, **fields: object) -> EventIn:
    base = {"source": "prometheus", "ci": ci, "check": "Down", "severity": "critical"}
    return EventIn.model_validate(base | {"summary": f"{ci} down"} | fields)


def decide(sessions: sessionmaker[Session], events: list[EventIn], at: datetime) -> None:
    with sessions.begin() as session:
        EventRepository(session).record(events, at)
    correlate_batch(sessions, EventPolicy(), at)


def actions(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    with sessions.begin() as session:
        done = AlertActionRepository(session)
        return {
            alert.key: [a.kind.value for a in done.for_alert(alert.number or "")]
            for alert in AlertRepository(session).list()
        }


def test_a_silence_is_numbered_and_read_back_active_until_its_end(
    sessions: sessionmaker[Session],
) -> None:
    first, second = silence(sessions), silence(sessions, ci=None, service="mail", check="Q")
    assert (first, second) == ("SIL-000001", "SIL-000002")
    with sessions.begin() as session:
        silences = SilenceRepository(session)
        assert [s.number for s in silences.active(T0)] == [first, second]
        assert silences.active(T0 + timedelta(hours=1)) == []
        assert [s.number for s in silences.ended(T0 + timedelta(hours=1))] == [first, second]
        stored = silences.get(second)
        assert (stored.service, stored.check, stored.owner, stored.ends_at) == (
            "mail",
            "Q",
            "alex",
            T0 + timedelta(hours=1),
        )
        lifted = steps.lift(stored, "alex", T0).silence
        silences.save(lifted)
        assert [s.number for s in silences.list(state=SilenceState.LIFTED)] == [second]


def test_a_silenced_alert_waits_for_the_end_and_then_proceeds(
    sessions: sessionmaker[Session],
) -> None:
    number = silence(sessions)
    decide(sessions, [on("db-01"), on("web-1")], T0 + timedelta(minutes=1))
    decide(sessions, [on("db-01", check="Disk")], T0 + timedelta(minutes=2))
    assert actions(sessions) == {"db-01": [], "web-1": ["raise_incident"]}
    end = T0 + timedelta(hours=1)
    with sessions.begin() as session:
        EventRepository(session).lock_processing(end)
        assert release_held(session, EventPolicy(), {number: f"{number} ended"}, end) == 1
    assert actions(sessions) == {"db-01": ["raise_incident"], "web-1": ["raise_incident"]}
    with sessions.begin() as session:
        (alert,) = [a for a in AlertRepository(session).list() if a.key == "db-01"]
        assert alert.suppressed_by is None and alert.event_count == 2


def test_a_silence_that_ends_after_its_alert_cleared_raises_nothing(
    sessions: sessionmaker[Session],
) -> None:
    number = silence(sessions)
    decide(sessions, [on("db-01")], T0 + timedelta(minutes=1))
    decide(sessions, [on("db-01", status="resolved")], T0 + timedelta(minutes=5))
    end = T0 + timedelta(hours=1)
    with sessions.begin() as session:
        EventRepository(session).lock_processing(end)
        release_held(session, EventPolicy(), {number: f"{number} ended"}, end)
    assert actions(sessions) == {"db-01": []}


def test_the_hold_index_is_read_again_when_a_silence_changes_or_ends(
    sessions: sessionmaker[Session],
) -> None:
    def covering(at: datetime) -> str | None:
        with sessions.begin() as session:
            found = hold_index(session, at).covering(on("db-01"))
        return None if found is None else found.number

    assert covering(T0) is None
    first = silence(sessions)  # until T0 + 1 h
    assert covering(T0) == first
    later = silence(sessions, ends_at=T0 + timedelta(hours=3))
    assert covering(T0 + timedelta(hours=1)) == later  # the first has ended
    with sessions.begin() as session:
        silences = SilenceRepository(session)
        silences.save(steps.lift(silences.get(later), "alex", T0).silence)
    assert covering(T0 + timedelta(hours=1)) is None
    ahead = silence(sessions, ends_at=T0 + timedelta(hours=2))  # created at T0: in force
    assert (
        covering(T0 - timedelta(seconds=1)) == first and covering(T0 + timedelta(hours=1)) == ahead
    )
