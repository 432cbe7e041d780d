"""Problem management's priority from impact, urgency and frequency (a frequent problem is
more urgent), trend keys and the trend rule, and the problems drafted from trends."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from serviceops.domain import problem as p
from serviceops.domain.priority import Impact, Priority, PriorityPolicy, Urgency
from serviceops.domain.problem import ProblemSource, Trend, TrendRule
from tests.unit.problem_rules_support import T0, T1, form, problem

# --------------------------------------------------------------------------- priority


@pytest.mark.parametrize(
    ("impact", "urgency", "frequency", "expected_urgency", "expected"),
    [
        ("high", "high", 0, "high", Priority.CRITICAL),
        ("medium", "medium", 9, "medium", Priority.MEDIUM),
        ("medium", "medium", 10, "high", Priority.HIGH),  # frequent: urgency raised
        ("low", "low", 10, "high", Priority.MEDIUM),
        ("low", "low", 9, "low", Priority.PLANNING),
        ("high", "low", 250, "high", Priority.CRITICAL),
    ],
)
def test_priority_is_the_matrix_with_frequency_raising_urgency(
    impact: str, urgency: str, frequency: int, expected_urgency: str, expected: Priority
) -> None:
    used, priority = p.problem_priority(Impact(impact), Urgency(urgency), frequency)
    assert (used, priority) == (expected_urgency, expected)


def test_priority_follows_the_policy_and_its_critical_services() -> None:
    policy = PriorityPolicy(critical_services={"mail"})
    assert p.problem_priority(Impact.MEDIUM, Urgency.MEDIUM, 0, service="mail", policy=policy) == (
        Urgency.MEDIUM,
        Priority.HIGH,
    )
    assert p.problem_priority(Impact.MEDIUM, Urgency.LOW, 3, frequent=3) == (
        Urgency.HIGH,
        Priority.HIGH,
    )


def test_prioritize_records_what_was_used_and_why() -> None:
    command = form(p.PrioritizeProblem, impact="medium", urgency="low")
    change = p.prioritize(problem(frequency=12), command, T1)
    assert (change.problem.impact, change.problem.urgency) == ("medium", "high")
    assert change.problem.priority == Priority.HIGH
    assert change.audit.reason == (
        "medium impact x high urgency -> P2 High (urgency low raised: 12 incidents)"
    )
    quiet = p.prioritize(problem(frequency=2), command, T1)
    assert quiet.problem.priority == Priority.LOW
    assert quiet.audit.reason == "medium impact x low urgency -> P4 Low"


# --------------------------------------------------------------------------- trends


def test_trend_keys() -> None:
    assert p.trend_key("service", "mail") == "service:mail"
    assert p.trend_key("major", "INC-000042") == "major:INC-000042"
    trend = Trend(dimension="ci", value="db-01", count=5, first_at=T0, last_at=T1)
    assert trend.key == "ci:db-01"
    assert trend.source == ProblemSource.TREND


def test_default_rule() -> None:
    rule = TrendRule()
    assert (rule.min_incidents, rule.window, rule.include_major) == (3, timedelta(days=7), True)
    assert rule.dimensions == ["service", "ci", "category"]
    assert TrendRule(dimensions=["ci", "ci"]).dimensions == ["ci"]
    for bad in ({"min_incidents": 1}, {"window": timedelta(0)}, {"dimensions": ["reporter"]}):
        with pytest.raises(ValidationError):
            TrendRule.model_validate(bad)


@pytest.mark.parametrize(
    ("dimension", "value", "summary", "title"),
    [
        ("service", "mail", None, "Recurring incidents on service mail"),
        ("ci", "db-01", None, "Recurring incidents on CI db-01"),
        ("category", "network/vpn", None, "Recurring incidents in category network/vpn"),
        ("major", "INC-000042", "Mail down", "Major incident INC-000042: Mail down"),
        ("major", "INC-000042", None, "Major incident INC-000042"),
    ],
)
def test_titles(dimension: str, value: str, summary: str | None, title: str) -> None:
    trend = Trend.model_validate(
        {
            "dimension": dimension,
            "value": value,
            "count": 3,
            "first_at": T0,
            "last_at": T1,
            "summary": summary,
        }
    )
    assert p.title_for(trend) == title


def test_titles_fit_the_record() -> None:
    trend = Trend(
        dimension="major", value="INC-1", count=1, first_at=T0, last_at=T0, summary="x" * 300
    )
    title = p.title_for(trend)
    assert len(title) == 200 and title.endswith("…")


def test_draft_for_a_dimension_trend() -> None:
    trend = Trend(dimension="category", value="network/vpn", count=5, first_at=T0, last_at=T1)
    draft = p.draft_for(trend, TrendRule(min_incidents=4, window=timedelta(days=2)))
    assert (draft.service, draft.ci, draft.category) == (None, None, "network/vpn")
    assert (draft.impact, draft.urgency, draft.reporter) == ("medium", "medium", "serviceops")
    assert draft.description == (
        "5 incidents with category network/vpn between 2025-03-03 09:00 and 2025-03-03 11:00 UTC"
        " (rule: at least 4 within 2 days)."
    )


@pytest.mark.parametrize(
    ("window", "said"),
    [
        (timedelta(days=7), "7 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=1, hours=12), "1 day 12 hours"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(seconds=61), "1 minute 1 second"),
    ],
)
def test_the_rule_window_reads_as_people_say_it(window: timedelta, said: str) -> None:
    assert p.spoken(window) == said


def test_draft_for_a_major_incident() -> None:
    trend = Trend(
        dimension="major",
        value="INC-000042",
        count=1,
        first_at=T0,
        last_at=T0,
        incident_numbers=["INC-000042"],
        summary="Mail down",
        service="mail",
        ci="mx-1",
        category="mail",
    )
    assert trend.source == ProblemSource.MAJOR_INCIDENT
    draft = p.draft_for(trend, TrendRule())
    assert (draft.title, draft.service, draft.ci, draft.category) == (
        "Major incident INC-000042: Mail down",
        "mail",
        "mx-1",
        "mail",
    )
    assert (draft.impact, draft.urgency) == ("high", "high")
