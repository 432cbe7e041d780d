"""Silences through real flow runs: declared from the add-silence form, they hold a firing alert
(no incident, no page, no message); when one ends with the condition still firing the alert
proceeds as if it had just fired; its owner is reminded once before the end and once at the
third extension; lifting one lets what it holds proceed at once."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from flows.event.process_events import process_events
from flows.event.silences import add_silence_flow, extend_silence_flow, lift_silence_flow
from serviceops.domain.event import AddSilence, ExtendSilence, LiftSilence, SilenceState
from serviceops.domain.request import Identity
from serviceops.store.audit import AuditRepository
from serviceops.store.event import AlertRepository, SilenceRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.request import IdentityRepository
from tests.flows.event_support import event, record

OWNER_SLACK = "U0ALEX01"


def owner(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="alex", slack_user_id=OWNER_SLACK))


def silence(ends_at: datetime) -> str:
    return add_silence_flow(
        AddSilence(ci="db-01", ends_at=ends_at, reason="kernel update", owner="alex", actor="alex")
    )


def end_now(sessions: sessionmaker[Session], number: str) -> None:
    """Its planned end comes (rather than a test waiting ten minutes for it)."""
    with sessions.begin() as session:
        silences = SilenceRepository(session)
        silences.save(silences.get(number).model_copy(update={"ends_at": datetime.now(UTC)}))


def incidents(sessions: sessionmaker[Session]) -> list[Any]:
    with sessions.begin() as session:
        return IncidentRepository(session).list()


def told_owner(fake_slack: Any) -> list[str]:
    return [m["text"] for m in fake_slack.messages if m["channel"] == OWNER_SLACK]


def test_a_silence_holds_the_alert_and_its_end_lets_it_raise_one_incident(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    owner(sessions)
    number = silence(datetime.now(UTC) + timedelta(minutes=10))
    record(sessions, [event(service=None, ci="db-01", check="Down", summary="db-01 down")])
    held = process_events()
    assert held.correlation.events == 1 and incidents(sessions) == []
    with sessions.begin() as session:
        (alert,) = AlertRepository(session).list()
    assert alert.suppressed_by == number and alert.incident_number is None
    (reminder,) = told_owner(fake_slack)  # it ends within 15 minutes
    assert reminder.startswith(f":hourglass_flowing_sand: {number} ends at ")
    assert [m for m in fake_slack.messages if m["channel"] != OWNER_SLACK] == []

    end_now(sessions, number)
    ended = process_events()
    assert ended.silences_expired == [number] and ended.actions_failed == []
    (raised,) = incidents(sessions)
    with sessions.begin() as session:
        alert = AlertRepository(session).get(alert.number or "")
        stored = SilenceRepository(session).get(number)
        trail = [(e.action, e.to_state) for e in AuditRepository(session).for_record(number)]
    assert (alert.suppressed_by, alert.incident_number) == (None, raised.number)
    assert stored.state is SilenceState.EXPIRED
    assert trail == [("add", "active"), ("expire", "expired")]
    again = process_events()
    assert again.silences_expired == [] and len(incidents(sessions)) == 1
    assert len(told_owner(fake_slack)) == 1


def test_the_third_extension_is_told_to_the_owner_once(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    owner(sessions)
    start = datetime.now(UTC)
    number = silence(start + timedelta(hours=1))
    for hours in (2, 3, 4):
        extend_silence_flow(
            ExtendSilence(number=number, ends_at=start + timedelta(hours=hours), actor="alex")
        )
    process_events()
    extend_silence_flow(
        ExtendSilence(number=number, ends_at=start + timedelta(hours=5), actor="alex")
    )
    process_events()
    (told,) = told_owner(fake_slack)
    assert told.startswith(f":warning: {number} has been extended 3 times")
    with sessions.begin() as session:
        assert SilenceRepository(session).get(number).extensions == 4
        reasons = [e.reason for e in AuditRepository(session).for_record(number)]
    assert reasons[-1].endswith("extension 4)")


def test_lifting_a_silence_lets_what_it_holds_proceed_now(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    number = silence(datetime.now(UTC) + timedelta(minutes=10))
    record(sessions, [event(service=None, ci="db-01", check="Down", summary="db-01 down")])
    process_events()
    assert incidents(sessions) == []
    # alex is not in the directory: the reminder goes to the events channel instead
    (reminder,) = [m for m in fake_slack.messages if m["text"].startswith(":hourglass")]
    assert reminder["channel"] == "#ops-events" and number in reminder["text"]
    lift_silence_flow(LiftSilence(number=number, reason="work finished", actor="alex"))
    process_events()
    (raised,) = incidents(sessions)
    with sessions.begin() as session:
        assert SilenceRepository(session).get(number).state is SilenceState.LIFTED
        (alert,) = AlertRepository(session).list()
    assert alert.incident_number == raised.number


def test_an_alert_that_cleared_under_the_silence_and_fires_after_it_raises_one_incident(
    serviceops_env: str, sessions: sessionmaker[Session]
) -> None:
    number = silence(datetime.now(UTC) + timedelta(minutes=10))
    down = event(service=None, ci="db-01", check="Down", summary="db-01 down")
    record(sessions, [down])
    record(sessions, [event(service=None, ci="db-01", check="Down", status="resolved")])
    process_events()
    end_now(sessions, number)
    assert process_events().silences_expired == [number]
    assert incidents(sessions) == []  # it had cleared: nothing to raise when the silence ended
    record(sessions, [down])  # down again, after the reboot the silence was for
    again = process_events()
    assert again.actions_failed == []
    (raised,) = incidents(sessions)
    with sessions.begin() as session:
        (alert,) = AlertRepository(session).list()
    assert (alert.state, alert.incident_number) == ("open", raised.number)
