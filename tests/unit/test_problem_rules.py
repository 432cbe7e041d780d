"""Problem management rules: every (state, action) pair of the lifecycle, each step's effect
on the record and its audit entry, priority from impact, urgency and frequency, trend keys and
the problems drafted from trends."""

import pickle
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from pydantic import ValidationError

from serviceops.domain import problem as p
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.priority import Impact, Priority, PriorityPolicy, Urgency
from serviceops.domain.problem import (
    NEW_KNOWN_ERROR,
    PROBLEM_TRANSITIONS,
    KnownError,
    Problem,
    ProblemAction,
    ProblemSource,
    ProblemState,
    Trend,
    TrendRule,
)

C = TypeVar("C", bound=p.ProblemCommand)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=2)

# The lifecycle from the brief (ITIL SO 4.4), written out by hand: (state, action) -> state.
LEGAL = {
    ("new", "categorize"): "new",
    ("investigating", "categorize"): "investigating",
    ("new", "prioritize"): "new",
    ("investigating", "prioritize"): "investigating",
    ("new", "investigate"): "investigating",
    ("investigating", "investigate"): "investigating",
    ("investigating", "record_workaround"): "investigating",
    ("known_error", "record_workaround"): "known_error",
    ("investigating", "raise_known_error"): "known_error",
    ("investigating", "resolve"): "resolved",
    ("known_error", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "review"): "resolved",
    ("closed", "review"): "closed",
}
ALL_PAIRS = [(s.value, a.value) for s in ProblemState for a in ProblemAction]
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def problem(state: ProblemState = ProblemState.NEW, **changes: object) -> Problem:
    values: dict[str, object] = {
        "number": "PRB-000042",
        "title": "Recurring incidents on service mail",
        "state": state,
        "source": ProblemSource.TREND,
        "trend_key": "service:mail",
        "service": "mail",
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "frequency": 4,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(changes)
    return Problem.model_validate(values)


def form(command: type[C], **fields: object) -> C:
    return command.model_validate({"number": "PRB-000042", "actor": "bob", **fields})


# --------------------------------------------------------------------------- the table


def test_the_enums_are_the_ones_the_table_was_written_for() -> None:
    assert [s.value for s in ProblemState] == [
        "new",
        "investigating",
        "known_error",
        "resolved",
        "closed",
    ]
    assert [a.value for a in ProblemAction] == [
        "categorize",
        "prioritize",
        "investigate",
        "record_workaround",
        "raise_known_error",
        "resolve",
        "close",
        "review",
    ]
    assert len(ALL_PAIRS) == 40


def test_the_table_is_exactly_the_lifecycle() -> None:
    table = {(s.value, a.value): to.value for (s, a), to in PROBLEM_TRANSITIONS.items()}
    assert table == LEGAL


@pytest.mark.parametrize(("state", "action"), list(LEGAL))
def test_legal_pairs_lead_to_their_state(state: str, action: str) -> None:
    assert p.PROBLEMS.next_state("PRB-000001", state, action) == LEGAL[(state, action)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_pairs_raise_and_say_what_is_allowed(state: str, action: str) -> None:
    with pytest.raises(IllegalTransition) as raised:
        p.PROBLEMS.next_state("PRB-000001", state, action)  # type: ignore[arg-type]
    allowed = sorted(a for (s, a) in LEGAL if s == state)
    assert str(raised.value) == (
        f"PRB-000001: cannot {action} a problem that is {state}; "
        f"allowed from {state}: {', '.join(allowed) or 'nothing'}"
    )
    assert (raised.value.state, raised.value.action) == (state, action)


def test_closed_allows_only_review() -> None:
    with pytest.raises(IllegalTransition, match=r"allowed from closed: review$"):
        p.PROBLEMS.next_state("PRB-000001", ProblemState.CLOSED, ProblemAction.CLOSE)


def test_illegal_transition_survives_pickling() -> None:
    with pytest.raises(IllegalTransition) as raised:
        p.PROBLEMS.next_state("PRB-000007", ProblemState.NEW, ProblemAction.RESOLVE)
    error = raised.value
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is IllegalTransition
    assert (copy.number, copy.state, copy.action) == ("PRB-000007", "new", "resolve")
    assert str(copy) == str(error)


def test_only_closed_problems_are_not_open() -> None:
    assert [s.value for s in ProblemState if not problem(s).is_open] == ["closed"]


# --------------------------------------------------------------------------- forms


def test_command_numbers_must_be_problem_numbers() -> None:
    for number in ("INC-000042", "PRB-42", "prb-000042", "PRB-000042 "):
        with pytest.raises(ValidationError):
            p.CloseProblem(number=number, actor="bob")
    assert p.CloseProblem(number="PRB-1234567", actor="bob").number == "PRB-1234567"


def test_forms_carry_titles_and_descriptions_for_the_prefect_ui() -> None:
    forms = [
        p.ProblemDraft,
        p.CategorizeProblem,
        p.PrioritizeProblem,
        p.InvestigateProblem,
        p.RecordWorkaround,
        p.RaiseKnownError,
        p.ResolveProblem,
        p.CloseProblem,
        p.ReviewProblem,
    ]
    for model in forms:
        for name, field in model.model_fields.items():
            assert field.title, f"{model.__name__}.{name} has no title"
            assert field.description, f"{model.__name__}.{name} has no description"


def test_draft_treats_blank_fields_as_unknown_and_cleans_the_category() -> None:
    draft = p.ProblemDraft(title="Mail bounces", service=" ", ci="", category=" Mail/SMTP/ ")
    assert (draft.service, draft.ci, draft.category) == (None, None, "mail/smtp")
    assert (draft.impact, draft.urgency, draft.reporter) == ("medium", "medium", "serviceops")


def test_raise_known_error_form_cleans_the_affected_cis() -> None:
    command = form(
        p.RaiseKnownError,
        title="Quota",
        symptom="bounces",
        root_cause="quota",
        workaround="purge",
        affected_cis=[" mx-1 ", "", "mx-2", "mx-1"],
    )
    assert command.affected_cis == ["mx-1", "mx-2"]


# --------------------------------------------------------------------------- steps


def test_a_command_for_another_problem_is_refused() -> None:
    command = p.CategorizeProblem(number="PRB-000001", actor="bob", category="mail")
    with pytest.raises(ValueError, match="a command for PRB-000001 applied to PRB-000042"):
        p.categorize(problem(), command, T1)


def test_steps_refuse_an_illegal_state_and_change_nothing() -> None:
    closed = problem(ProblemState.CLOSED)
    with pytest.raises(IllegalTransition):
        p.investigate(closed, form(p.InvestigateProblem, notes="look again"), T1)
    assert closed == problem(ProblemState.CLOSED)


def test_logged_is_the_first_audit_row() -> None:
    entry = p.logged(problem())
    assert entry.model_dump() == {
        "record": "PRB-000042",
        "action": "log",
        "actor": "serviceops",
        "at": T0,
        "from_state": None,
        "to_state": "new",
        "reason": "logged from trend (service:mail)",
        "flow_run_id": None,
    }


def test_a_grown_trend_is_noted_without_a_change_of_state() -> None:
    grown = p.trend_grew(problem(frequency=4), "problem-management", T1)
    assert (grown.action, grown.from_state, grown.to_state) == ("link", "new", "new")
    assert grown.reason == "trend went on: 4 incident(s) linked now"


def test_categorize_cleans_and_keeps_the_state() -> None:
    before = problem(ProblemState.INVESTIGATING, category="mail")
    change = p.categorize(before, form(p.CategorizeProblem, category=" Mail/SMTP "), T1)
    assert change.problem.category == "mail/smtp"
    assert change.problem.state == ProblemState.INVESTIGATING
    assert change.problem.updated_at == T1
    assert change.audit.model_dump(exclude={"flow_run_id"}) == {
        "record": "PRB-000042",
        "action": "categorize",
        "actor": "bob",
        "at": T1,
        "from_state": "investigating",
        "to_state": "investigating",
        "reason": "category mail/smtp (was mail)",
    }


def test_categorize_refuses_an_empty_category() -> None:
    with pytest.raises(ValueError, match="is empty"):
        p.categorize(problem(), form(p.CategorizeProblem, category=" / "), T1)


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


def test_investigate_starts_work_and_appends_signed_notes() -> None:
    first = p.investigate(problem(), form(p.InvestigateProblem, notes="logs show 550"), T1)
    assert first.problem.state == ProblemState.INVESTIGATING
    assert first.audit.from_state == "new" and first.audit.to_state == "investigating"
    assert first.problem.investigation_notes == "[2025-03-03 11:00 UTC bob] logs show 550"
    assert first.problem.root_cause is None

    command = form(p.InvestigateProblem, notes="quota hit", root_cause="mailbox quota 1 GB")
    second = p.investigate(first.problem, command, T1 + timedelta(hours=1))
    assert second.problem.investigation_notes == (
        "[2025-03-03 11:00 UTC bob] logs show 550\n\n[2025-03-03 12:00 UTC bob] quota hit"
    )
    assert second.problem.root_cause == "mailbox quota 1 GB"
    assert second.audit.reason == "root cause: mailbox quota 1 GB"


def test_record_workaround_keeps_the_state() -> None:
    for state in (ProblemState.INVESTIGATING, ProblemState.KNOWN_ERROR):
        change = p.record_workaround(
            problem(state),
            form(p.RecordWorkaround, workaround="purge the trash"),
            T1,
        )
        assert (change.problem.state, change.problem.workaround) == (state, "purge the trash")
    with pytest.raises(IllegalTransition):
        p.record_workaround(problem(), form(p.RecordWorkaround, workaround="purge"), T1)


def test_raise_known_error_returns_the_kedb_entry_to_store() -> None:
    before = problem(ProblemState.INVESTIGATING, ci="mx-1", category="mail/smtp")
    command = form(
        p.RaiseKnownError,
        title="Mailbox quota reached",
        symptom="mail bounces with 552 quota exceeded",
        root_cause="quota of 1 GB",
        workaround="purge the trash",
        affected_cis=["mx-2"],
    )
    change = p.raise_known_error(before, command, T1)

    assert change.problem.state == ProblemState.KNOWN_ERROR
    assert (change.problem.root_cause, change.problem.workaround) == (
        "quota of 1 GB",
        "purge the trash",
    )
    assert change.problem.known_error_number is None  # the store numbers it
    assert change.known_error == KnownError(
        number=NEW_KNOWN_ERROR,
        title="Mailbox quota reached",
        service="mail",
        ci="mx-1",
        affected_cis=["mx-2"],
        category="mail/smtp",
        symptom="mail bounces with 552 quota exceeded",
        root_cause="quota of 1 GB",
        workaround="purge the trash",
        problem_number="PRB-000042",
        created_at=T1,
    )
    assert change.audit.reason == "known error raised: Mailbox quota reached"

    stored = change.known_error.model_copy(update={"number": "KE-000007"})
    numbered = change.with_known_error(stored)
    assert numbered.problem.known_error_number == "KE-000007"
    assert numbered.audit.reason == "KE-000007: Mailbox quota reached"
    assert numbered.known_error == stored
    assert numbered.audit.to_state == "known_error"


def test_resolve_through_a_change() -> None:
    command = form(p.ResolveProblem, change_ref="CHG-000123", resolution="quota raised to 5 GB")
    change = p.resolve(problem(ProblemState.KNOWN_ERROR), command, T1)
    assert change.problem.state == ProblemState.RESOLVED
    assert (change.problem.change_ref, change.problem.resolution) == (
        "CHG-000123",
        "quota raised to 5 GB",
    )
    assert change.problem.resolved_at == T1
    assert change.audit.reason == "CHG-000123: quota raised to 5 GB"
    with pytest.raises(IllegalTransition):
        p.resolve(problem(ProblemState.NEW), command, T1)


def test_close_then_review() -> None:
    resolved = problem(ProblemState.RESOLVED, resolved_at=T0)
    closed = p.close(resolved, form(p.CloseProblem, note="no bounce for a week"), T1)
    assert (closed.problem.state, closed.problem.closed_at) == ("closed", T1)
    assert closed.audit.reason == "no bounce for a week"
    assert not closed.problem.is_open

    command = form(p.ReviewProblem, summary="found fast; fixed slowly", lessons="alert at 90%")
    reviewed = p.review(closed.problem, command, T1 + timedelta(days=1))
    assert reviewed.problem.state == ProblemState.CLOSED
    assert (reviewed.problem.review_summary, reviewed.problem.review_lessons) == (
        "found fast; fixed slowly",
        "alert at 90%",
    )
    assert reviewed.problem.reviewed_at == T1 + timedelta(days=1)
    assert reviewed.audit.action == "review"


def test_steps_do_not_modify_their_input() -> None:
    before = problem(ProblemState.INVESTIGATING)
    copy = before.model_copy(deep=True)
    p.record_workaround(before, form(p.RecordWorkaround, workaround="purge"), T1)
    p.investigate(before, form(p.InvestigateProblem, notes="more logs"), T1)
    assert before == copy


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
        " (rule: at least 4 within 2 days, 0:00:00)."
    )


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
