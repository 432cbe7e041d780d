"""The change lifecycle: every (state, action) pair, and the walks a change takes from log to
close (standard, normal, emergency, failed, backed out)."""

import pytest

from serviceops.domain.change import (
    CHANGE_TRANSITIONS,
    CHANGES,
    BackOutChange,
    CancelChange,
    ChangeAction,
    ChangeApprovalDecision,
    ChangePolicy,
    ChangeRefused,
    ChangeState,
    CloseChange,
    CompleteChange,
    FailChange,
    ImplementChange,
    ReviewChange,
    steps,
)
from serviceops.domain.machine import IllegalTransition
from tests.unit.change_support import T0, change

# The lifecycle written out by hand: (state, action) -> new state.
LEGAL = {
    ("new", "assess"): "assessment",
    ("assessment", "await_approval"): "approval",
    ("approval", "approve"): "approval",
    ("approval", "reject"): "rejected",
    ("assessment", "schedule"): "scheduled",
    ("approval", "schedule"): "scheduled",
    ("scheduled", "schedule"): "scheduled",
    ("scheduled", "implement"): "implementing",
    ("implementing", "complete"): "implemented",
    ("implementing", "fail"): "failed",
    ("implementing", "back_out"): "backed_out",
    ("implemented", "review"): "reviewed",
    ("reviewed", "review"): "reviewed",
    ("failed", "review"): "failed",
    ("backed_out", "review"): "backed_out",
    ("implemented", "close"): "closed",
    ("reviewed", "close"): "closed",
    ("new", "cancel"): "cancelled",
    ("assessment", "cancel"): "cancelled",
    ("approval", "cancel"): "cancelled",
    ("scheduled", "cancel"): "cancelled",
}
ILLEGAL = sorted(
    (state.value, action.value)
    for state in ChangeState
    for action in ChangeAction
    if (state.value, action.value) not in LEGAL
)
POLICY = ChangePolicy()


def test_transition_table_is_exactly_the_lifecycle() -> None:
    assert {(s.value, a.value): n.value for (s, a), n in CHANGE_TRANSITIONS.items()} == LEGAL


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL))
def test_legal_transition(state: str, action: str) -> None:
    assert (
        CHANGES.next_state("CHG-000001", ChangeState(state), ChangeAction(action))
        == LEGAL[(state, action)]
    )


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transition_raises_and_names_number_action_state(state: str, action: str) -> None:
    with pytest.raises(IllegalTransition) as raised:
        CHANGES.next_state("CHG-000007", ChangeState(state), ChangeAction(action))
    message = str(raised.value)
    assert "CHG-000007" in message and action in message and state in message


def test_nothing_leaves_an_end_but_a_review() -> None:
    for end in ("closed", "rejected", "cancelled"):
        assert CHANGES.allowed(ChangeState(end)) == ()
    for end in ("failed", "backed_out"):
        assert CHANGES.allowed(ChangeState(end)) == ("review",)


def decision(approver: str, approve: bool = True) -> ChangeApprovalDecision:
    return ChangeApprovalDecision(approve=approve, approver=approver)


def test_a_standard_change_is_scheduled_without_approvals_and_closes_unreviewed() -> None:
    logged = change(kind="standard", template="patch-linux", risk="low")
    assessed = steps.assess(logged, {"db-01": "database"}, POLICY, T0)
    assert assessed.change.state is ChangeState.ASSESSMENT
    assert assessed.change.approvals_required == [] and assessed.change.approved
    assert "pre-approved by standard change patch-linux" in assessed.audits[0].reason
    scheduled = steps.schedule(assessed.change, "serviceops", [], T0)
    assert scheduled.change.state is ChangeState.SCHEDULED
    started = steps.implement(
        scheduled.change, ImplementChange(number="CHG-000001", actor="robin"), T0
    ).change
    assert started.state is ChangeState.IMPLEMENTING and started.started_at == T0
    done = steps.complete(
        started, CompleteChange(number="CHG-000001", actor="robin", outcome="patched"), T0
    ).change
    closed = steps.close(done, CloseChange(number="CHG-000001", actor="robin"), T0).change
    assert closed.state is ChangeState.CLOSED and closed.closed_at == T0


def test_a_normal_change_waits_for_every_approval_before_it_is_scheduled() -> None:
    assessed = steps.assess(change(), {"db-01": "database"}, POLICY, T0)
    waiting = assessed.change
    assert [a.action for a in assessed.audits] == ["assess", "await_approval"]
    assert waiting.state is ChangeState.APPROVAL
    assert [r.label for r in waiting.approvals_required] == [
        "ci_owner database",
        "change_manager",
    ]
    with pytest.raises(ChangeRefused, match="ci_owner database approval is not given"):
        steps.schedule(waiting, "robin", [], T0)
    first = steps.decide(waiting, waiting.approvals_required[0], decision("dana"), T0).change
    assert first.state is ChangeState.APPROVAL and not first.approved
    second = steps.decide(first, first.approvals_required[1], decision("change-manager"), T0)
    assert second.change.approved and second.audits[0].actor == "change-manager"
    scheduled = steps.schedule(second.change, "serviceops", [], T0)
    assert scheduled.change.state is ChangeState.SCHEDULED


def test_a_rejection_ends_the_change() -> None:
    waiting = steps.assess(change(risk="low"), {}, POLICY, T0).change
    rejected = steps.decide(
        waiting, waiting.approvals_required[0], decision("change-manager", False), T0
    )
    assert rejected.change.state is ChangeState.REJECTED and not rejected.change.approved


def test_the_requester_cannot_decide_and_only_the_pending_approval_is_decided() -> None:
    waiting = steps.assess(change(), {"db-01": "database"}, POLICY, T0).change
    with pytest.raises(ChangeRefused, match="Robin  requested it"):
        steps.decide(waiting, waiting.approvals_required[0], decision(" Robin "), T0)
    with pytest.raises(ChangeRefused, match="no change_manager approval is pending"):
        steps.decide(waiting, waiting.approvals_required[1], decision("change-manager"), T0)


def test_an_emergency_change_needs_one_approver_and_a_review_before_it_closes() -> None:
    waiting = steps.assess(change(kind="emergency", risk="high"), {}, POLICY, T0).change
    assert [r.label for r in waiting.approvals_required] == ["emergency"]
    approved = steps.decide(
        waiting, waiting.approvals_required[0], decision("change-manager"), T0
    ).change
    scheduled = steps.schedule(approved, "change-manager", [], T0).change
    started = steps.implement(
        scheduled, ImplementChange(number="CHG-000001", actor="robin"), T0
    ).change
    done = steps.complete(
        started, CompleteChange(number="CHG-000001", actor="robin", outcome="hotfix in"), T0
    ).change
    close = CloseChange(number="CHG-000001", actor="robin")
    with pytest.raises(ChangeRefused, match=r"reviewed .* before it closes"):
        steps.close(done, close, T0)
    reviewed = steps.review(
        done, ReviewChange(number="CHG-000001", actor="change-manager", summary="went well"), T0
    ).change
    assert reviewed.state is ChangeState.REVIEWED and not reviewed.needs_review
    assert steps.close(reviewed, close, T0).change.state is ChangeState.CLOSED


@pytest.mark.parametrize(
    ("command", "end"),
    [
        (FailChange(number="CHG-000001", actor="robin", reason="disk full"), "failed"),
        (BackOutChange(number="CHG-000001", actor="robin", reason="slow"), "backed_out"),
    ],
)
def test_a_change_that_goes_wrong_ends_failed_or_backed_out_and_is_reviewed_there(
    command: FailChange | BackOutChange, end: str
) -> None:
    started = change(state="implementing")
    step = steps.fail if isinstance(command, FailChange) else steps.back_out
    ended = step(started, command, T0).change  # type: ignore[arg-type]
    assert ended.state == ChangeState(end) and ended.outcome == command.reason
    reviewed = steps.review(
        ended, ReviewChange(number="CHG-000001", actor="cab-chair", summary="test first"), T0
    ).change
    assert reviewed.state == ChangeState(end) and reviewed.review_summary == "test first"


def test_a_change_is_cancelled_before_it_starts_not_after() -> None:
    cancel = CancelChange(number="CHG-000001", actor="robin", reason="not needed")
    assert steps.cancel(change(state="scheduled"), cancel, T0).change.state.value == "cancelled"
    with pytest.raises(IllegalTransition, match="cannot cancel a change that is implementing"):
        steps.cancel(change(state="implementing"), cancel, T0)


def test_a_command_for_another_change_is_refused() -> None:
    with pytest.raises(ValueError, match="CHG-000002 applied to CHG-000001"):
        steps.implement(
            change(state="scheduled"), ImplementChange(number="CHG-000002", actor="x"), T0
        )
