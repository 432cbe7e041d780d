"""Priority coding: impact x urgency (ITIL SO tables 4.1 and 4.2), raises, targets, JSON policy."""

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from serviceops.domain.priority import Impact, Priority, PriorityPolicy, Urgency

# ITIL.md, "Priority coding", written out cell by cell: (impact, urgency) -> priority.
ITIL_TABLE = [
    ("high", "high", 1),
    ("high", "medium", 2),
    ("high", "low", 3),
    ("medium", "high", 2),
    ("medium", "medium", 3),
    ("medium", "low", 4),
    ("low", "high", 3),
    ("low", "medium", 4),
    ("low", "low", 5),
]


@pytest.mark.parametrize(("impact", "urgency", "expected"), ITIL_TABLE)
def test_default_matrix_is_the_itil_table(impact: str, urgency: str, expected: int) -> None:
    priority = PriorityPolicy().priority_for(Impact(impact), Urgency(urgency))
    assert priority == expected
    assert isinstance(priority, Priority)


def test_table_covers_all_nine_cells() -> None:
    assert {(i, u) for i, u, _ in ITIL_TABLE} == {
        (i.value, u.value) for i in Impact for u in Urgency
    }


@pytest.mark.parametrize(
    ("priority", "resolution"),
    [
        (1, timedelta(hours=1)),
        (2, timedelta(hours=8)),
        (3, timedelta(hours=24)),
        (4, timedelta(hours=48)),
        (5, None),
    ],
)
def test_default_resolution_targets(priority: int, resolution: timedelta | None) -> None:
    assert PriorityPolicy().target_for(Priority(priority)).resolution == resolution


def test_default_response_targets_are_shorter_than_resolution_and_grow_with_priority() -> None:
    policy = PriorityPolicy()
    responses = [policy.target_for(p).response for p in Priority]
    assert all(r is not None and r > timedelta(0) for r in responses)
    assert responses == sorted(responses)
    for p in Priority:
        target = policy.target_for(p)
        if target.resolution is not None:
            assert target.response < target.resolution


def test_labels() -> None:
    assert Priority(1).label == "P1 Critical"
    assert Priority(5).label == "P5 Planning"


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("low", "low", 4),
        ("low", "medium", 3),
        ("medium", "medium", 2),
        ("high", "medium", 1),
        ("high", "high", 1),  # never above P1
    ],
)
def test_vip_reporter_raises_one_level(impact: str, urgency: str, expected: int) -> None:
    policy = PriorityPolicy(vip_reporters={"ceo@example.com"})
    assert (
        policy.priority_for(Impact(impact), Urgency(urgency), reporter="ceo@example.com")
        == expected
    )
    # Somebody else with the same impact and urgency gets the plain matrix cell.
    plain = PriorityPolicy().priority_for(Impact(impact), Urgency(urgency))
    assert policy.priority_for(Impact(impact), Urgency(urgency), reporter="bob") == plain


@pytest.mark.parametrize(
    ("impact", "urgency", "plain", "raised"),
    [
        ("medium", "low", 4, 3),
        ("low", "high", 3, 2),
        ("medium", "high", 2, 1),
        ("high", "high", 1, 1),  # never above P1
    ],
)
def test_critical_service_raises_one_level(
    impact: str, urgency: str, plain: int, raised: int
) -> None:
    policy = PriorityPolicy(critical_services={"payments"})
    assert policy.priority_for(Impact(impact), Urgency(urgency), service="payments") == raised
    assert policy.priority_for(Impact(impact), Urgency(urgency), service="wiki") == plain


def test_vip_on_a_critical_service_raises_only_once() -> None:
    policy = PriorityPolicy(vip_reporters={"ceo"}, critical_services={"payments"})
    assert policy.priority_for(Impact.LOW, Urgency.LOW, service="payments", reporter="ceo") == 4


def test_empty_reporter_and_service_do_not_raise() -> None:
    policy = PriorityPolicy(vip_reporters={"ceo"}, critical_services={"payments"})
    assert policy.priority_for(Impact.MEDIUM, Urgency.MEDIUM) == 3


CUSTOM_POLICY_JSON = json.dumps(
    {
        "matrix": {
            "high": {"high": 1, "medium": 1, "low": 2},
            "medium": {"high": 2, "medium": 3, "low": 3},
            "low": {"high": 3, "medium": 4, "low": 4},
        },
        "targets": {
            "1": {"response": "PT10M", "resolution": "PT2H"},
            "2": {"response": "PT30M", "resolution": "PT4H"},
            "3": {"response": "PT1H", "resolution": "P1D"},
            "4": {"response": "PT4H", "resolution": "P3D"},
            "5": {"response": "PT8H", "resolution": None},
        },
        "vip_reporters": ["ceo"],
        "critical_services": ["payments"],
    }
)


def test_custom_policy_from_json() -> None:
    policy = PriorityPolicy.model_validate_json(CUSTOM_POLICY_JSON)
    assert policy.priority_for(Impact.HIGH, Urgency.MEDIUM) == 1
    assert policy.priority_for(Impact.MEDIUM, Urgency.LOW) == 3
    assert policy.priority_for(Impact.LOW, Urgency.LOW) == 4
    assert policy.priority_for(Impact.LOW, Urgency.LOW, reporter="ceo") == 3
    assert policy.priority_for(Impact.LOW, Urgency.MEDIUM, service="payments") == 3
    assert policy.target_for(Priority.CRITICAL).response == timedelta(minutes=10)
    assert policy.target_for(Priority.CRITICAL).resolution == timedelta(hours=2)
    assert policy.target_for(Priority.LOW).resolution == timedelta(days=3)
    assert policy.target_for(Priority.PLANNING).resolution is None


def test_json_round_trip_keeps_everything() -> None:
    policy = PriorityPolicy.model_validate_json(CUSTOM_POLICY_JSON)
    again = PriorityPolicy.model_validate_json(policy.model_dump_json())
    assert again == policy
    assert again.matrix[Impact.HIGH][Urgency.MEDIUM] is Priority.CRITICAL
    assert again.vip_reporters == {"ceo"}


def test_default_policy_round_trips_through_json() -> None:
    policy = PriorityPolicy()
    assert PriorityPolicy.model_validate_json(policy.model_dump_json()) == policy


def test_matrix_with_a_hole_is_refused_when_loaded() -> None:
    data = json.loads(CUSTOM_POLICY_JSON)
    del data["matrix"]["medium"]["low"]
    with pytest.raises(ValidationError, match="medium/low"):
        PriorityPolicy.model_validate(data)


def test_targets_missing_a_priority_are_refused_when_loaded() -> None:
    data = json.loads(CUSTOM_POLICY_JSON)
    del data["targets"]["4"]
    with pytest.raises(ValidationError, match="P4"):
        PriorityPolicy.model_validate(data)


@pytest.mark.parametrize("bad", ['{"matrix": {"huge": {}}}', '{"targets": {"6": {}}}'])
def test_unknown_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        PriorityPolicy.model_validate_json(bad)
