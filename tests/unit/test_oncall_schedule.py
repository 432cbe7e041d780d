"""Schedule arithmetic with frozen instants: weekly and daily handoffs at wall-clock times
across both changes of daylight-saving time, layers, restrictions (business hours, nights),
overrides overlapping handoffs and each other, and gaps that fall to the group's manager."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from serviceops.domain.oncall import (
    Layer,
    OnCall,
    Override,
    Period,
    Restriction,
    Schedule,
    Weekday,
    Why,
    handoffs,
    on_call,
    shift,
)

LONDON = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
WEEKDAYS = [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI]


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def schedule(*layers: Layer) -> Schedule:
    return Schedule(group="dba", timezone="Europe/London", manager="morgan", layers=list(layers))


WEEKLY = Layer(name="primary", members=["alex", "blake", "casey"], start=date(2026, 1, 5))
DAILY = Layer(
    name="primary", members=["alex", "blake"], start=date(2026, 3, 1), period=Period.DAILY
)


def who(
    s: Schedule, at: datetime, layer: str = "primary", overrides: Sequence[Override] = ()
) -> OnCall:
    return on_call(s, overrides, layer, at)


def test_a_weekly_rotation_hands_over_on_its_day_at_its_time() -> None:
    s = schedule(WEEKLY)
    assert who(s, local(2026, 1, 5, 9, 0)).person == "alex"
    assert who(s, local(2026, 1, 12, 8, 59)).person == "alex"
    assert who(s, local(2026, 1, 12, 9, 0)).person == "blake"
    assert who(s, local(2026, 1, 26, 9, 0)).person == "alex"  # round again after casey
    assert who(s, local(2026, 1, 7, 15, 0)).until == local(2026, 1, 12, 9, 0)


def test_before_its_first_shift_the_rotation_has_nobody_so_the_manager_answers() -> None:
    before = who(schedule(WEEKLY), local(2026, 1, 5, 8, 59))
    assert (before.person, before.why, before.until) == ("morgan", Why.GAP, local(2026, 1, 5, 9))


def test_handoffs_keep_their_wall_clock_time_across_daylight_saving() -> None:
    s = schedule(DAILY)
    # London goes to BST at 01:00 UTC on 29 March 2026 and back on 25 October.
    assert who(s, utc(2026, 3, 28, 12)).until == utc(2026, 3, 29, 8)  # 09:00 BST
    assert who(s, utc(2026, 3, 27, 12)).until == utc(2026, 3, 28, 9)  # 09:00 GMT
    assert who(s, utc(2026, 10, 24, 12)).until == utc(2026, 10, 25, 9)  # 09:00 GMT again
    # 28 days of shifts either side of the change alternate without a slip.
    assert [who(s, local(2026, 3, d, 10)).person for d in range(27, 32)] == [
        "alex" if d % 2 == 0 else "blake" for d in range(26, 31)
    ]


def test_a_handoff_in_the_hour_the_clocks_skip_happens_as_the_clocks_jump() -> None:
    night = Layer(
        name="primary",
        members=["alex", "blake"],
        start=date(2026, 3, 1),
        period=Period.DAILY,
        handoff=time(1, 30),
    )
    assert who(schedule(night), utc(2026, 3, 28, 12)).until == utc(2026, 3, 29, 1, 30)


def test_each_layer_rotates_on_its_own() -> None:
    secondary = Layer(
        name="secondary",
        members=["dana", "eli"],
        start=date(2026, 1, 5),
        period=Period.CUSTOM,
        days=3,
        handoff=time(18, 0),
    )
    s = schedule(WEEKLY, secondary)
    at = local(2026, 1, 9, 12)  # Friday: alex's week; secondary's second 3-day shift
    assert (who(s, at).person, who(s, at, "secondary").person) == ("alex", "eli")
    assert who(s, at, "secondary").until == local(2026, 1, 11, 18)
    with pytest.raises(KeyError, match="dba has no layer tertiary"):
        who(s, at, "tertiary")


def test_business_hours_only_leaves_nights_and_weekends_to_the_manager() -> None:
    office = WEEKLY.model_copy(
        update={"restrictions": [Restriction(days=WEEKDAYS, start=time(9), end=time(17))]}
    )
    s = schedule(office)
    assert who(s, local(2026, 1, 7, 10)).person == "alex"
    evening = who(s, local(2026, 1, 7, 17))
    assert (evening.person, evening.why) == ("morgan", Why.GAP)
    assert evening.until == local(2026, 1, 8, 9)
    saturday = who(s, local(2026, 1, 10, 12))
    assert (saturday.person, saturday.until) == ("morgan", local(2026, 1, 12, 9))
    assert who(s, local(2026, 1, 12, 9)).person == "blake"


def test_a_night_window_belongs_to_the_day_it_starts() -> None:
    nights = WEEKLY.model_copy(
        update={"restrictions": [Restriction(days=[Weekday.FRI], start=time(22), end=time(6))]}
    )
    s = schedule(nights)
    assert who(s, local(2026, 1, 9, 23)).person == "alex"  # Friday night
    assert who(s, local(2026, 1, 10, 5, 59)).person == "alex"  # still Friday's night
    assert who(s, local(2026, 1, 10, 6)).person == "morgan"
    assert who(s, local(2026, 1, 10, 23)).person == "morgan"  # Saturday night: not on


def test_an_override_across_a_handoff_hands_back_to_the_rotation() -> None:
    sam_covers = Override(
        group="dba",
        person="sam",
        starts_at=local(2026, 1, 9, 18),  # Friday 18:00 in alex's week
        ends_at=local(2026, 1, 12, 9),  # to the Monday handoff
        reason="Alex away",
    )
    s, overrides = schedule(WEEKLY), [sam_covers]
    now = shift(s, overrides, "primary", local(2026, 1, 9, 12))
    assert (now.now.person, now.now.until) == ("alex", local(2026, 1, 9, 18))
    assert now.next is not None
    assert (now.next.person, now.next.why, now.next.until) == (
        "sam",
        Why.OVERRIDE,
        local(2026, 1, 12, 9),
    )
    assert who(s, local(2026, 1, 12, 9), overrides=overrides).person == "blake"
    other_group = sam_covers.model_copy(update={"group": "web"})
    assert who(s, local(2026, 1, 10, 12), overrides=[other_group]).person == "alex"


def test_of_two_overlapping_overrides_the_one_set_last_wins() -> None:
    first = Override(
        group="dba",
        person="sam",
        starts_at=local(2026, 1, 8, 0),
        ends_at=local(2026, 1, 11, 0),
        created_at=utc(2026, 1, 1),
    )
    later = first.model_copy(
        update={
            "person": "tess",
            "starts_at": local(2026, 1, 9, 0),
            "ends_at": local(2026, 1, 10, 0),
            "created_at": utc(2026, 1, 2),
        }
    )
    s = schedule(WEEKLY)
    at = [local(2026, 1, 8, 12), local(2026, 1, 9, 12), local(2026, 1, 10, 12)]
    assert [who(s, t, overrides=[later, first]).person for t in at] == ["sam", "tess", "sam"]
    assert who(s, at[1], overrides=[later, first]).until == local(2026, 1, 10, 0)


def test_a_layer_without_members_is_always_the_managers() -> None:
    empty = schedule(Layer(name="primary", members=[], start=date(2026, 1, 5)))
    answer = who(empty, local(2026, 6, 1, 12))
    assert (answer.person, answer.why, answer.until) == ("morgan", Why.GAP, None)


def test_mistakes_in_a_schedule_are_named() -> None:
    with pytest.raises(ValidationError, match="unknown timezone 'Mars/Olympus'"):
        Schedule(group="dba", timezone="Mars/Olympus", manager="m", layers=[WEEKLY])
    with pytest.raises(ValidationError, match="days is given with period = 'custom'"):
        Layer(name="primary", members=["a"], start=date(2026, 1, 5), period=Period.CUSTOM)
    with pytest.raises(ValidationError, match="layer names repeat"):
        schedule(WEEKLY, WEEKLY)
    with pytest.raises(ValidationError, match="need a timezone"):
        Override(
            group="dba",
            person="sam",
            starts_at=datetime(2026, 1, 9, 18),
            ends_at=datetime(2026, 1, 12, 9),
        )
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        Override(group="dba", person="sam", starts_at=utc(2026, 1, 9), ends_at=utc(2026, 1, 8))
    with pytest.raises(ValueError, match="needs a timezone"):
        who(schedule(WEEKLY), datetime(2026, 1, 9, 12))


def test_a_handoff_is_found_by_every_window_that_spans_it_with_one_key() -> None:
    s = schedule(WEEKLY)
    handoff = local(2026, 1, 12, 9, 0)
    early = handoffs([s], [], handoff - 8 * MINUTE, handoff + 2 * MINUTE)
    late = handoffs([s], [], handoff - 1 * MINUTE, handoff + 9 * MINUTE)
    assert [(h.outgoing, h.incoming, h.at) for h in early] == [("alex", "blake", handoff)]
    assert [h.key for h in late] == [h.key for h in early]
    assert handoffs([s], [], handoff + MINUTE, handoff + 10 * MINUTE) == []  # before: nothing


def test_an_override_beginning_and_ending_is_a_handoff_each_way() -> None:
    s = schedule(WEEKLY)
    starts, ends = local(2026, 1, 7, 18, 0), local(2026, 1, 8, 9, 0)
    sam = Override(group="dba", person="sam", starts_at=starts, ends_at=ends)
    (begin,) = handoffs([s], [sam], starts - MINUTE, starts + MINUTE)
    (end,) = handoffs([s], [sam], ends - MINUTE, ends + MINUTE)
    assert (begin.outgoing, begin.incoming, begin.at) == ("alex", "sam", starts)
    assert (end.outgoing, end.incoming, end.at) == ("sam", "alex", ends)
