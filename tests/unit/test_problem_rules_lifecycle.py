"""Problem management's lifecycle: every (state, action) pair of the table, written out by
hand from the brief, the refusals of the illegal ones, and the command forms as the Prefect UI
shows them."""

import pickle

import pytest
from pydantic import ValidationError

from serviceops.domain import problem as p
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.problem import PROBLEM_TRANSITIONS, ProblemAction, ProblemState
from tests.unit.problem_rules_support import form, problem

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
