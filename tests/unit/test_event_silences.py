"""Silences (pure): what a silence may be, its lifecycle, its reminders, and what it does to
correlation: a new alert it matches is held, an event it does not cover lets the alert go, and
its end lets the alerts still firing proceed."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from serviceops.domain.event import (
    ActionKind,
    AddSilence,
    AlertState,
    Correlator,
    EventPolicy,
    Silence,
    SilenceIndex,
    SilenceRefused,
    SilenceState,
    reminders,
)
from serviceops.domain.event import silences as steps
from serviceops.domain.machine import IllegalTransition
from tests.unit.test_event_rules import T0, decide_all, event


def declared(**fields: object) -> Silence:
    base: dict[str, object] = {
        "number": "SIL-000001",
        "ci": "db-01",
        "ends_at": T0 + timedelta(hours=2),
        "reason": "kernel update",
        "owner": "alex",
        "created_at": T0,
        "updated_at": T0,
    }
    return Silence.model_validate(base | fields)


def test_a_silence_names_something_and_has_an_owner_and_a_reason() -> None:
    with pytest.raises(ValidationError, match="names a ci, a service or a check"):
        AddSilence(ends_at=T0, reason="work", owner="alex", actor="alex")
    with pytest.raises(ValidationError, match="owner"):
        AddSilence(ci="db-01", ends_at=T0, reason="work", owner="", actor="alex")
    with pytest.raises(ValidationError, match="reason"):
        AddSilence(ci="db-01", ends_at=T0, reason="", owner="alex", actor="alex")


@pytest.mark.parametrize(
    ("ends_in", "refusal"),
    [(timedelta(0), "not in the future"), (timedelta(days=15), "more than 14 days away")],
)
def test_a_silence_ends_in_the_future_and_within_two_weeks(
    ends_in: timedelta, refusal: str
) -> None:
    draft = AddSilence(ci="db-01", ends_at=T0 + ends_in, reason="work", owner="a", actor="a")
    with pytest.raises(SilenceRefused, match=refusal):
        steps.check_new(draft, T0)
    steps.check_new(draft.model_copy(update={"ends_at": T0 + timedelta(days=14)}), T0)


def test_the_first_audit_row_says_what_until_when_and_why() -> None:
    entry = steps.added(declared(check="DiskFull"), "alex")
    assert (entry.record, entry.action, entry.to_state) == ("SIL-000001", "add", "active")
    assert entry.reason == "ci db-01, check DiskFull until 2026-11-26 11:00 UTC: kernel update"


def test_extending_puts_the_end_back_and_counts() -> None:
    later = T0 + timedelta(hours=3)
    change = steps.extend(declared(), later, "alex", T0 + timedelta(hours=1))
    assert (change.silence.ends_at, change.silence.extensions) == (later, 1)
    assert change.audit.reason.endswith("(was 2026-11-26 11:00 UTC; extension 1)")
    with pytest.raises(SilenceRefused, match="later than"):
        steps.extend(declared(), T0 + timedelta(hours=1), "alex", T0)
    lifted = steps.lift(declared(), "alex", T0).silence
    assert lifted.state is SilenceState.LIFTED
    with pytest.raises(IllegalTransition, match="cannot extend a silence that is lifted"):
        steps.extend(lifted, later, "alex", T0)


def test_expiry_is_serviceops_s_and_once() -> None:
    change = steps.expire(declared(), T0 + timedelta(hours=2))
    assert (change.silence.state, change.audit.actor) == (SilenceState.EXPIRED, "serviceops")
    with pytest.raises(IllegalTransition):
        steps.expire(change.silence, T0 + timedelta(hours=3))


def test_the_owner_is_reminded_before_the_end_and_at_the_third_extension() -> None:
    silence = declared()
    assert reminders(silence, T0) == []
    (ending,) = reminders(silence, T0 + timedelta(hours=1, minutes=46))
    assert ending.kind == "ending" and ending.key == "SIL-000001:ending:20261126T110000"
    extended = silence.model_copy(update={"extensions": 3, "ends_at": T0 + timedelta(days=1)})
    (too_often,) = reminders(extended, T0)
    assert too_often.key == "SIL-000001:extended:3"
    # a fourth extension asks nothing new: the key stays, the outbox keeps it once
    fourth = extended.model_copy(update={"extensions": 4})
    assert [r.key for r in reminders(fourth, T0)] == ["SIL-000001:extended:3"]
    assert reminders(silence, T0 + timedelta(hours=2)) == []  # over: nothing to remind of


def test_the_index_finds_the_silence_that_matches_everything_it_names() -> None:
    index = SilenceIndex(
        [
            declared(number="SIL-000002", ci=None, service="mail", check="QueueHigh"),
            declared(number="SIL-000003", ci="db-01"),
            declared(number="SIL-000004", ci=None, check="Heartbeat"),
        ]
    )
    assert index.covering(event(service="mail", check="QueueHigh")).number == "SIL-000002"  # type: ignore[union-attr]
    assert index.covering(event(service="mail", check="Latency")) is None
    assert index.covering(event(service="erp", ci="db-01")).number == "SIL-000003"  # type: ignore[union-attr]
    assert index.covering(event(service="any", check="Heartbeat")).number == "SIL-000004"  # type: ignore[union-attr]
    assert index.covers("SIL-000003", event(service="erp", ci="db-01"))
    assert not index.covers("SIL-000003", event(service="erp", ci="db-02"))


def test_a_silenced_alert_is_recorded_and_raises_nothing() -> None:
    correlator = Correlator(EventPolicy(), [], silences=SilenceIndex([declared()]))
    decide_all(correlator, [event(ci="db-01", check=f"C{i % 3}") for i in range(30)])
    (alert,) = correlator.decisions.alerts
    assert (alert.event_count, alert.suppressed_by) == (30, "SIL-000001")
    assert correlator.decisions.actions == [] and correlator.decisions.notices == []
    assert "(silenced by SIL-000001: kernel update)" in correlator.decisions.changes[0].reason


def test_an_event_the_silence_does_not_cover_lets_its_alert_go() -> None:
    silence = declared(ci=None, service="mail", check="QueueHigh")
    correlator = Correlator(EventPolicy(), [], silences=SilenceIndex([silence]))
    decide_all(correlator, [event(check="QueueHigh"), event(check="Bounces")])
    (alert,) = correlator.decisions.alerts
    assert not alert.held
    assert [a.kind for a in correlator.decisions.actions] == [ActionKind.RAISE_INCIDENT]
    assert correlator.decisions.changes[-1].reason == (
        "proceeds on its own: Bounces on mail is not under SIL-000001"
    )


def test_the_end_of_a_silence_lets_what_still_fires_proceed() -> None:
    held = Correlator(EventPolicy(), [], silences=SilenceIndex([declared()]))
    decide_all(held, [event(ci="db-01"), event(ci="db-01", service="erp", check="Other")])
    firing, cleared = (a.model_copy() for a in held.decisions.alerts * 2)
    cleared.number, cleared.firing, cleared.state = "ALR-000002", [], AlertState.RESOLVED
    firing.number = "ALR-000001"
    release = Correlator(EventPolicy(), [firing, cleared])
    release.release([firing, cleared], "SIL-000001 ended", T0 + timedelta(hours=2))
    assert not firing.held and not cleared.held
    assert [(a.alert_key, a.kind) for a in release.decisions.actions] == [
        (0, ActionKind.RAISE_INCIDENT)
    ]
    assert release.decisions.changes[0].reason == "proceeds on its own: SIL-000001 ended"


def test_an_alert_let_go_by_one_silence_and_under_another_stays_held() -> None:
    alert = Correlator(EventPolicy(), [], silences=SilenceIndex([declared()]))
    decide_all(alert, [event(ci="db-01")])
    (held,) = alert.decisions.alerts
    held.number = "ALR-000001"
    longer = declared(number="SIL-000002", ends_at=T0 + timedelta(hours=5))
    release = Correlator(EventPolicy(), [held], silences=SilenceIndex([longer]))
    release.release([held], "SIL-000001 ended", T0 + timedelta(hours=2))
    assert held.suppressed_by == "SIL-000002" and release.decisions.actions == []
    assert release.decisions.changes[0].reason == "silenced by SIL-000002 now: SIL-000001 ended"


def test_an_alert_that_cleared_while_held_and_fires_again_asks_for_its_incident() -> None:
    correlator = Correlator(EventPolicy(), [], silences=SilenceIndex([declared()]))
    decide_all(correlator, [event(ci="db-01"), event(ci="db-01", status="resolved")])
    (alert,) = correlator.decisions.alerts
    alert.number = "ALR-000001"
    release = Correlator(EventPolicy(), [alert])
    release.release([alert], "SIL-000001 ended", T0 + timedelta(hours=2))
    assert release.decisions.actions == []  # cleared: nothing to do
    later = Correlator(EventPolicy(), [alert])
    later.decide(event(ci="db-01"), T0 + timedelta(hours=2, minutes=5))
    # a reopen, as for any alert whose response raises one: with none linked, process-events
    # raises it (tests/flows/test_silences.py)
    assert [a.kind for a in later.decisions.actions] == [ActionKind.REOPEN_INCIDENT]


def test_silences_are_ordered_by_their_number_s_value() -> None:
    index = SilenceIndex([declared(number="SIL-1000000"), declared(number="SIL-999999")])
    assert index.covering(event(ci="db-01")).number == "SIL-999999"  # type: ignore[union-attr]
