"""Event intake and correlation batches on SQLite and PostgreSQL: what is recorded, decided,
queued and audited, and that nothing accepted is lost or decided twice."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from serviceops.correlate import correlate_batch, correlate_pending
from serviceops.domain.event import ActionKind, AlertState, EventIn, EventPolicy, Response
from serviceops.domain.views import SHOWN_DEPTH
from serviceops.notify.outbox import Outbox
from serviceops.store.audit import AuditRepository
from serviceops.store.base import MAX_ROW_ID, RecordNotFound
from serviceops.store.event import AlertActionRepository, AlertRepository, EventRepository
from tests.unit.bad_rows import SHOWN, nested, record_bad_events

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def event(**fields: object) -> EventIn:
    base: dict[str, object] = {
        "source": "prometheus",
        "service": "mail",
        "check": "HighLatency",
        "severity": "critical",
        "summary": "p99 latency over 2 s",
        "details": {"labels": {"instance": "mx-1:9100"}},
    }
    return EventIn.model_validate(base | fields)


def record(sessions: sessionmaker[Session], events: list[EventIn], at: datetime = T0) -> list[str]:
    with sessions.begin() as session:
        return EventRepository(session).record(events, at)


def test_intake_records_a_batch_in_order_with_details(sessions: sessionmaker[Session]) -> None:
    numbers = record(sessions, [event(check="A"), event(check="B", details={"x": [1, 2]})])
    assert len(numbers) == 2 and numbers[0] < numbers[1]
    with sessions.begin() as session:
        repository = EventRepository(session)
        stored = repository.get(numbers[1])
        assert (stored.check, stored.details, stored.processed_at) == ("B", {"x": [1, 2]}, None)
        assert repository.count_pending() == 2


def test_a_storm_gives_one_alert_one_incident_action_and_at_most_five_messages(
    sessions: sessionmaker[Session],
) -> None:
    storm = [event(check=f"Check{i % 25}") for i in range(100)]
    for chunk in range(0, 100, 10):  # ten deliveries, as Alertmanager would send them
        record(sessions, storm[chunk : chunk + 10], T0 + timedelta(seconds=chunk))
    report = correlate_pending(sessions, EventPolicy(), lambda: T0 + timedelta(minutes=1))
    assert report.events == 100 and report.alerts_opened == 1
    with sessions.begin() as session:
        (alert,) = AlertRepository(session).list()
        actions = AlertActionRepository(session).for_alert(alert.number or "")
        queued = Outbox(session).list()
        assert EventRepository(session).count_pending() == 0
        in_alert = EventRepository(session).list(alert=alert.number, limit=500)
    assert (alert.event_count, alert.duplicate_count, len(alert.firing)) == (100, 75, 25)
    assert [a.kind for a in actions] == [ActionKind.RAISE_INCIDENT, ActionKind.UPDATE_INCIDENT]
    assert len(queued) <= 5
    assert len(in_alert) == 100


def test_concurrent_duplicates_give_one_alert(sessions: sessionmaker[Session]) -> None:
    """20 deliveries of one condition at once, then two correlators at once."""
    barrier = threading.Barrier(20)

    def deliver() -> None:
        barrier.wait()
        record(sessions, [event(dedup_key="am:1", severity="warning")])

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runners = [
        threading.Thread(
            target=correlate_batch, args=(sessions, EventPolicy(), T0), kwargs={"limit": 5}
        )
        for _ in range(4)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    correlate_pending(sessions, EventPolicy(), lambda: T0)
    with sessions.begin() as session:
        alerts = AlertRepository(session).list()
        queued = Outbox(session).list()
    assert len(alerts) == 1
    assert (alerts[0].event_count, alerts[0].duplicate_count) == (20, 19)
    assert len(queued) == 1


def test_resolution_then_new_firing_across_batches(sessions: sessionmaker[Session]) -> None:
    policy = EventPolicy()
    record(sessions, [event()])
    correlate_batch(sessions, policy, T0)
    record(sessions, [event(status="resolved")], T0 + timedelta(minutes=10))
    correlate_batch(sessions, policy, T0 + timedelta(minutes=10))
    with sessions.begin() as session:
        (alert,) = AlertRepository(session).list()
    assert alert.state is AlertState.RESOLVED
    record(sessions, [event()], T0 + timedelta(hours=3))
    correlate_batch(sessions, policy, T0 + timedelta(hours=3))
    with sessions.begin() as session:
        (again,) = AlertRepository(session).list()
        kinds = [a.kind for a in AlertActionRepository(session).for_alert(again.number or "")]
        trail = AuditRepository(session).for_record(again.number or "")
    assert again.number == alert.number and again.state is AlertState.OPEN
    assert kinds == [
        ActionKind.RAISE_INCIDENT,
        ActionKind.RESOLVE_INCIDENT,
        ActionKind.REOPEN_INCIDENT,
    ]
    assert [(e.from_state, e.to_state) for e in trail] == [
        (None, "open"),
        ("open", "resolved"),
        ("resolved", "open"),
    ]


def test_review_closes_resolved_alerts(sessions: sessionmaker[Session]) -> None:
    record(sessions, [event(severity="warning"), event(severity="warning", status="resolved")])
    correlate_batch(sessions, EventPolicy(), T0)
    with sessions.begin() as session:
        alerts = AlertRepository(session)
        assert alerts.due_for_review(T0 - timedelta(seconds=1)) == []
        (due,) = alerts.due_for_review(T0)
        assert alerts.close(due.number or "", T0 + timedelta(hours=1))
        assert not alerts.close(due.number or "", T0 + timedelta(hours=1))
        assert alerts.get(due.number or "").state is AlertState.CLOSED


def test_actions_are_claimed_once_and_released_on_failure(sessions: sessionmaker[Session]) -> None:
    record(sessions, [event()])
    correlate_batch(sessions, EventPolicy(), T0)
    lease = T0 - timedelta(minutes=10)
    with sessions.begin() as session:
        (claimed,) = AlertActionRepository(session).claim(T0, lease)
        assert AlertActionRepository(session).claim(T0, lease) == []
        AlertActionRepository(session).release(claimed.id, "boom")
    with sessions.begin() as session:
        (again,) = AlertActionRepository(session).claim(T0, lease)
        assert again.attempts == 2
        AlertActionRepository(session).done(again.id, T0, "INC-000001")
        assert AlertActionRepository(session).claim(T0 + timedelta(hours=1), T0) == []


def test_informational_events_are_logged_without_messages(sessions: sessionmaker[Session]) -> None:
    record(sessions, [event(severity="info")])
    report = correlate_batch(sessions, EventPolicy(), T0)
    with sessions.begin() as session:
        (stored,) = EventRepository(session).list()
        assert Outbox(session).list() == []
    assert report.notices == 0 and report.actions == 0
    assert stored.response is Response.LOG and stored.processed_at is not None


def test_a_claim_takes_no_more_actions_than_its_limit(sessions: sessionmaker[Session]) -> None:
    """PostgreSQL may run an IN (SELECT ... LIMIT n) subquery once per row it updates: each
    run picks another row, and a claim of one took all three (left claimed, untried, for the
    lease's ten minutes)."""
    record(sessions, [event(service=f"svc-{i}") for i in range(3)])
    correlate_batch(sessions, EventPolicy(), T0)
    lease = T0 - timedelta(minutes=10)
    with sessions.begin() as session:
        claimed = [AlertActionRepository(session).claim(T0, lease, 1) for _ in range(4)]
    assert [len(actions) for actions in claimed] == [1, 1, 1, 0]
    assert len({actions[0].id for actions in claimed[:3]}) == 3


def test_concurrent_claimers_never_get_the_same_action(sessions: sessionmaker[Session]) -> None:
    record(sessions, [event(service=f"svc-{i}") for i in range(12)])
    correlate_batch(sessions, EventPolicy(), T0)
    claimed: list[int] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        with sessions.begin() as session:
            actions = AlertActionRepository(session).claim(T0, T0 - timedelta(minutes=10), 5)
        claimed.extend(action.id for action in actions)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 12


def test_details_no_read_could_show_read_as_shown(sessions: sessionmaker[Session]) -> None:
    """Rows stored before intake refused them: lone surrogates become U+FFFD, nesting past
    SHOWN_DEPTH is clipped (also past what Python's JSON decoder can recurse into)."""
    numbers = record_bad_events(sessions, T0)
    with sessions.begin() as session:
        repository = EventRepository(session)
        for name, number in numbers.items():
            assert repository.get(number).details == SHOWN[name], name
        listed = {stored.number: stored.details for stored in repository.list()}
    assert listed == {number: SHOWN[name] for name, number in numbers.items()}


def test_a_time_intake_now_refuses_still_reads(sessions: sessionmaker[Session]) -> None:
    """Intake keeps times inside 0002..9999-01-01 now; a row stored before keeps its time."""
    late = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    [number] = record(sessions, [event().model_copy(update={"occurred_at": late})])
    with sessions.begin() as session:
        assert EventRepository(session).get(number).occurred_at == late


def test_details_as_deep_as_shown_read_whole(sessions: sessionmaker[Session]) -> None:
    [number] = record(sessions, [event().model_copy(update={"details": nested(SHOWN_DEPTH)})])
    with sessions.begin() as session:
        assert EventRepository(session).get(number).details == nested(SHOWN_DEPTH)


def test_an_event_number_past_the_row_ids_is_not_found(sessions: sessionmaker[Session]) -> None:
    """The CLI asks the store directly: no driver overflow, a record that does not exist."""
    for number in (f"EVT-{MAX_ROW_ID + 1}", f"EVT-{2**63}", f"EVT--{2**63}"):
        with sessions.begin() as session, pytest.raises(RecordNotFound):
            EventRepository(session).get(number)


def test_an_event_is_found_by_its_own_number_only(sessions: sessionmaker[Session]) -> None:
    """Not by another spelling of its row id: more zeros, or digits of another script."""
    [number] = record(sessions, [event()])
    assert number == "EVT-000001"
    for other in ("EVT-0000001", "EVT-1", "EVT-\u0660\u0660\u0660\u0660\u0660\u0661", "EVT-+00001"):
        with sessions.begin() as session, pytest.raises(RecordNotFound):
            EventRepository(session).get(other)
