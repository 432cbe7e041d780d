"""The escalation ladder in the domain, with frozen instants: each level pages whom it names
at its time, the ladder is walked again `repeat` times, then the page is exhausted; an
acknowledgement at level 2 ends it and only the paged or the group may give one; a step is
paged once however often it is asked; a resolved incident stops the page."""

from datetime import UTC, date, datetime, timedelta

import pytest

from serviceops.domain.incident import IncidentPolicy
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.oncall import (
    EscalationPolicy,
    Layer,
    Level,
    NotPaged,
    Override,
    Page,
    PageState,
    Schedule,
    Target,
    TargetKind,
    acknowledge,
    escalate,
    ladder,
    members,
    next_due,
    page_step,
    persons_to_page,
    slack_groups_to_page,
    stop,
)
from serviceops.domain.priority import Priority

T0 = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # 03:00 on a Wednesday of alex's week
MINUTE = timedelta(minutes=1)
PRIMARY = Layer(name="primary", members=["alex", "blake"], start=date(2026, 1, 5))
SECONDARY = Layer(name="secondary", members=["casey"], start=date(2026, 1, 5))
POLICY = EscalationPolicy(
    levels=[
        Level(targets=["primary"], wait=5 * MINUTE),  # type: ignore[list-item]
        Level(targets=["secondary", "person:sam"], wait=10 * MINUTE),  # type: ignore[list-item]
        Level(targets=["manager"], wait=15 * MINUTE),  # type: ignore[list-item]
    ],
    repeat=1,
)
SCHEDULE = Schedule(
    group="operations", manager="olivia", layers=[PRIMARY, SECONDARY], escalation=POLICY
)


def opened() -> Page:
    return Page(
        number="PGE-000001",
        incident="INC-000001",
        group="operations",
        state=PageState.PAGING,
        opened_at=T0,
        updated_at=T0,
    )


def walk(page: Page, until: datetime) -> tuple[Page, list[tuple[datetime, list[str]]]]:
    """What the page-on-call runs do, run at each due time up to `until`: page the step,
    wait its level's time, escalate; the pages sent, with when."""
    sent: list[tuple[datetime, list[str]]] = []
    at = page.opened_at
    while page.state is PageState.PAGING and at <= until:
        level = POLICY.level(page.step)
        assert level is not None
        persons = persons_to_page(level, SCHEDULE, [], at)
        change = page_step(page, persons, at)
        assert change is not None
        page = change.page
        sent.append((at, persons))
        due = next_due(page, POLICY)
        assert due is not None
        if due > until:
            break
        moved = escalate(page, POLICY, page.step + 1, due)
        assert moved is not None
        page, at = moved.page, due
    return page, sent


def test_no_acknowledgement_walks_the_whole_ladder_twice_then_tells_management() -> None:
    page, sent = walk(opened(), T0 + timedelta(hours=2))
    assert sent == [
        (T0, ["alex"]),
        (T0 + 5 * MINUTE, ["casey", "sam"]),
        (T0 + 15 * MINUTE, ["olivia"]),
        (T0 + 30 * MINUTE, ["alex"]),  # repeat: the ladder again
        (T0 + 35 * MINUTE, ["casey", "sam"]),
        (T0 + 45 * MINUTE, ["olivia"]),
    ]
    assert page.state is PageState.EXHAUSTED
    assert page.updated_at == T0 + 60 * MINUTE


def test_an_acknowledgement_at_level_two_ends_the_page() -> None:
    page, sent = walk(opened(), T0 + 6 * MINUTE)
    assert [persons for _, persons in sent] == [["alex"], ["casey", "sam"]]
    answered = acknowledge(page, "sam", members(SCHEDULE), T0 + 7 * MINUTE)
    assert (answered.page.state, answered.page.acknowledged_by) == (PageState.ACKNOWLEDGED, "sam")
    assert (answered.audit.action, answered.audit.actor) == ("acknowledge", "sam")
    assert next_due(answered.page, POLICY) is None
    assert escalate(answered.page, POLICY, 2, T0 + 15 * MINUTE) is None  # the next run: nothing
    with pytest.raises(IllegalTransition, match="cannot acknowledge a page that is acknowledged"):
        acknowledge(answered.page, "alex", members(SCHEDULE), T0 + 8 * MINUTE)


def test_only_the_paged_or_the_group_may_acknowledge() -> None:
    page, _ = walk(opened(), T0)
    group = members(SCHEDULE)
    assert group == {"alex", "blake", "casey", "olivia"}
    with pytest.raises(NotPaged, match="mallory was not paged and is not in operations"):
        acknowledge(page, "mallory", group, T0 + MINUTE)
    assert acknowledge(page, "blake", group, T0 + MINUTE).page.acknowledged_by == "blake"


def test_a_step_is_paged_once_and_an_old_escalation_moves_nothing() -> None:
    page, _ = walk(opened(), T0)
    assert page_step(page, ["alex"], T0 + MINUTE) is None  # a retried run: nobody paged again
    moved = escalate(page, POLICY, 1, T0 + 5 * MINUTE)
    assert moved is not None and moved.page.step == 1
    assert escalate(moved.page, POLICY, 1, T0 + 6 * MINUTE) is None  # the same escalation again


def test_a_resolved_incident_stops_the_page() -> None:
    page, _ = walk(opened(), T0)
    stopped = stop(page, "INC-000001 resolved", T0 + 2 * MINUTE)
    assert stopped is not None and stopped.page.state is PageState.STOPPED
    assert stop(stopped.page, "again", T0 + 3 * MINUTE) is None


def test_the_layer_pages_whoever_is_on_then_overrides_included() -> None:
    level = Level(targets=[Target(kind=TargetKind.LAYER, name="primary")])
    next_week = T0 + timedelta(days=7)
    assert persons_to_page(level, SCHEDULE, [], next_week) == ["blake"]
    covering = Override(
        group="operations", person="tess", starts_at=T0 - MINUTE, ends_at=T0 + MINUTE
    )
    assert persons_to_page(level, SCHEDULE, [covering], T0) == ["tess"]


def test_without_a_policy_each_layer_then_the_manager() -> None:
    plain = SCHEDULE.model_copy(update={"escalation": None})
    default = ladder(plain)
    assert [[t.model_dump() for t in level.targets] for level in default.levels] == [
        [{"kind": "layer", "name": "primary"}],
        [{"kind": "layer", "name": "secondary"}],
        [{"kind": "manager", "name": ""}],
    ]
    assert (default.repeat, default.levels[0].wait) == (0, 5 * MINUTE)
    with pytest.raises(ValueError, match="escalation pages layers it has not: tertiary"):
        Schedule(
            group="operations",
            manager="olivia",
            layers=[PRIMARY],
            escalation=EscalationPolicy(levels=[Level(targets=["tertiary"])]),  # type: ignore[list-item]
        )


def test_the_incident_policy_pages_p1_and_p2_at_any_hour_the_others_in_business_hours() -> None:
    policy = IncidentPolicy()  # Mon-Fri 09:00-17:00 UTC
    night, office = T0, T0.replace(hour=10)  # a Wednesday, 03:00 and 10:00
    assert [policy.pages(p, night) for p in Priority] == [True, True, False, False, False]
    assert [policy.pages(p, office) for p in Priority] == [True] * 5
    quiet = policy.model_copy(update={"page_in_business_hours": False})
    assert [quiet.pages(p, office) for p in Priority] == [True, True, False, False, False]
    assert not policy.pages(None, office)  # not prioritized yet
    assert policy.pages(Priority.LOW, office + timedelta(days=3)) is False  # Saturday


def test_a_slack_user_group_is_paged_beside_the_people_its_level_names() -> None:
    level = Level(targets=["primary", "slack-group:S0DBA", "manager"])  # type: ignore[list-item]
    assert persons_to_page(level, SCHEDULE, [], T0) == ["alex", "olivia"]
    assert slack_groups_to_page(level) == ["S0DBA"]
    change = page_step(opened(), ["alex", "olivia"], T0, ["S0DBA"])
    assert change is not None
    assert change.page.paged[-1].slack_groups == ["S0DBA"]
    assert change.audit.reason == "step 1: paged alex, olivia, Slack group S0DBA"
    with pytest.raises(ValueError, match="not a Slack user group id"):
        Level(targets=["slack-group:dba-team"])  # type: ignore[list-item]
