"""Problem management's steps: each one's effect on the record and its audit entry, from
logging to review, and that a step refuses an illegal state and leaves its input alone."""

from datetime import timedelta

import pytest

from serviceops.domain import problem as p
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.problem import NEW_KNOWN_ERROR, KnownError, ProblemState
from tests.unit.problem_rules_support import T0, T1, form, problem

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
        "via": "system",  # serviceops's own actor: no ticket needed to know it
        "actor_ref": "",
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
    assert change.audit.model_dump(exclude={"flow_run_id", "via", "actor_ref"}) == {
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
