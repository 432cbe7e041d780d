"""Each change step as a pure function: change + what the step needs + instant in, a
`ChangeChange` (the new change, its audit entries) out. Nothing here reads a clock or a
database; legality comes from CHANGE_TRANSITIONS."""

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel

from serviceops.domain.change.approvals import ChangeRefused, requested_by, required_approvals
from serviceops.domain.change.commands import (
    BackOutChange,
    CancelChange,
    ChangeApprovalDecision,
    ChangeCommand,
    CloseChange,
    CompleteChange,
    FailChange,
    ImplementChange,
    ReviewChange,
    ScheduleChange,
)
from serviceops.domain.change.policy import ChangePolicy
from serviceops.domain.change.record import (
    CHANGES,
    Change,
    ChangeAction,
    ChangeApproval,
    ChangeKind,
    ChangeState,
    RequiredApproval,
)
from serviceops.domain.change.schedule import Conflict
from serviceops.domain.machine import (
    SYSTEM_ACTOR,
    AuditEntry,
    change_entry,
    first_entry,
    note_entry,
)


class ScheduleConflict(ValueError):
    """A normal change's window collides (named in the message); nothing was changed."""

    def __init__(self, number: str, found: list[Conflict]) -> None:
        listed = "; ".join(conflict.describe() for conflict in found)
        super().__init__(f"{number} cannot be scheduled then: {listed}")
        self.number, self.found = number, found

    def __reduce__(self) -> tuple[type["ScheduleConflict"], tuple[object, ...]]:
        """Prefect pickles a failed run's exception; keep the constructor's arguments."""
        return (type(self), (self.number, self.found))


class ChangeChange(BaseModel):
    """What a step did: the new change and the audit entries that explain it, in order."""

    change: Change
    audits: list[AuditEntry]


def _transition(change: Change, action: ChangeAction) -> ChangeState:
    return CHANGES.next_state(change.number, change.state, action)


def _check(change: Change, command: ChangeCommand, action: ChangeAction) -> ChangeState:
    """The command is for this change, and the action is legal now: the next state."""
    if command.number != change.number:
        raise ValueError(f"a command for {command.number} applied to {change.number}")
    return _transition(change, action)


def _change(
    before: Change, after: Change, action: str, actor: str, at: datetime, reason: str = ""
) -> ChangeChange:
    after = after.model_copy(update={"updated_at": at})
    return ChangeChange(
        change=after, audits=[change_entry(before, after, action, actor, at, reason)]
    )


def logged(change: Change) -> AuditEntry:
    """The first audit row: what kind of change, on what, when."""
    window = f"{change.planned_start:%Y-%m-%d %H:%M} to {change.planned_end:%Y-%m-%d %H:%M %Z}"
    reason = f"{change.kind} change, {change.risk} risk, on {', '.join(change.cis)}, {window}"
    return first_entry(change, "log", change.requester, change.created_at, reason)


def assess(
    change: Change, owner_groups: Mapping[str, str], policy: ChangePolicy, at: datetime
) -> ChangeChange:
    """Assessment decides the approvals (approvals.required_approvals); with some to give the
    change goes on to approval, with none (a standard change) it waits to be scheduled."""
    required = required_approvals(change, owner_groups, policy)
    assessed = change.model_copy(
        update={"state": _transition(change, ChangeAction.ASSESS), "approvals_required": required}
    )
    reason = (
        f"needs {', '.join(r.label for r in required)}"
        if required
        else f"pre-approved by standard change {change.template}"
    )
    step = _change(change, assessed, ChangeAction.ASSESS, SYSTEM_ACTOR, at, reason)
    if not required:
        return step
    waiting = step.change.model_copy(
        update={"state": _transition(step.change, ChangeAction.AWAIT_APPROVAL)}
    )
    asked = _change(step.change, waiting, ChangeAction.AWAIT_APPROVAL, SYSTEM_ACTOR, at, reason)
    return ChangeChange(change=asked.change, audits=step.audits + asked.audits)


def decide(
    change: Change, required: RequiredApproval, decision: ChangeApprovalDecision, at: datetime
) -> ChangeChange:
    """One decision on the pending approval; a rejection ends the change. Authority is the
    caller's to have checked (approvals.approval_refusal); four eyes is checked again here."""
    if requested_by(change, decision.approver):
        raise ChangeRefused(
            f"{change.number}: {decision.approver} requested it and cannot approve it"
        )
    if change.state is not ChangeState.APPROVAL or change.pending_approval() != required:
        raise ChangeRefused(f"{change.number}: no {required.label} approval is pending")
    approval = ChangeApproval(
        required=required,
        approver=decision.approver,
        approved=decision.approve,
        comment=decision.comment,
        at=at,
    )
    action = ChangeAction.APPROVE if decision.approve else ChangeAction.REJECT
    after = change.model_copy(
        update={"approvals": [*change.approvals, approval], "state": _transition(change, action)}
    )
    verdict = "approved" if decision.approve else "rejected"
    reason = f"{required.label} {verdict}" + (f": {decision.comment}" if decision.comment else "")
    return _change(change, after, action, decision.approver, at, reason)


def refuse(
    change: Change, decision: ChangeApprovalDecision, at: datetime, reason: str
) -> ChangeChange:
    """A decision its approver may not give is recorded and refused; the approval is asked
    again, in a new round."""
    after = change.model_copy(update={"approval_round": change.approval_round + 1})
    return ChangeChange(
        change=after.model_copy(update={"updated_at": at}),
        audits=[note_entry(change, "approval_refused", decision.approver, at, reason)],
    )


def schedule(
    change: Change,
    actor: str,
    found: list[Conflict],
    at: datetime,
    window: tuple[datetime, datetime] | None = None,
) -> ChangeChange:
    """On the schedule, in `window` (else the planned one), if every approval is given; by a
    person (schedule-change) or by serviceops once the last approval is in. `found`: the
    conflicts of that window (schedule.conflicts); a normal or standard change with any is
    refused (ScheduleConflict), an emergency change goes ahead with them on its record."""
    state = _transition(change, ChangeAction.SCHEDULE)
    pending = change.pending_approval()
    if pending is not None:
        raise ChangeRefused(f"{change.number}: the {pending.label} approval is not given yet")
    if found and change.kind is not ChangeKind.EMERGENCY:
        raise ScheduleConflict(change.number, found)
    start, end = window or (change.planned_start, change.planned_end)
    described = [conflict.describe() for conflict in found]
    after = change.model_copy(
        update={
            "state": state,
            "planned_start": start,
            "planned_end": end,
            "conflicts": described,
        }
    )
    reason = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M %Z}"
    if described:
        reason += f" (emergency, despite: {'; '.join(described)})"
    return _change(change, after, ChangeAction.SCHEDULE, actor, at, reason)


def window_of(change: Change, command: ScheduleChange) -> tuple[datetime, datetime]:
    """The window a schedule-change asks for: its own, else the change's planned one."""
    if command.planned_start is not None and command.planned_end is not None:
        return command.planned_start, command.planned_end
    return change.planned_start, change.planned_end


def not_scheduled(change: Change, conflict: ScheduleConflict, at: datetime) -> AuditEntry:
    """The audit row of a scheduling serviceops tried and the schedule refused."""
    return note_entry(change, "schedule_refused", SYSTEM_ACTOR, at, str(conflict))


def implement(change: Change, command: ImplementChange, at: datetime) -> ChangeChange:
    state = _check(change, command, ChangeAction.IMPLEMENT)
    after = change.model_copy(update={"state": state, "started_at": at})
    reason = command.note or "implementation started"
    return _change(change, after, ChangeAction.IMPLEMENT, command.actor, at, reason)


def complete(change: Change, command: CompleteChange, at: datetime) -> ChangeChange:
    state = _check(change, command, ChangeAction.COMPLETE)
    after = change.model_copy(
        update={"state": state, "implemented_at": at, "outcome": command.outcome}
    )
    return _change(change, after, ChangeAction.COMPLETE, command.actor, at, command.outcome)


def fail(change: Change, command: FailChange, at: datetime) -> ChangeChange:
    state = _check(change, command, ChangeAction.FAIL)
    after = change.model_copy(
        update={"state": state, "implemented_at": at, "outcome": command.reason}
    )
    return _change(change, after, ChangeAction.FAIL, command.actor, at, command.reason)


def back_out(change: Change, command: BackOutChange, at: datetime) -> ChangeChange:
    state = _check(change, command, ChangeAction.BACK_OUT)
    after = change.model_copy(
        update={"state": state, "implemented_at": at, "outcome": command.reason}
    )
    return _change(change, after, ChangeAction.BACK_OUT, command.actor, at, command.reason)


def review(change: Change, command: ReviewChange, at: datetime) -> ChangeChange:
    """Post-implementation review (a later one replaces it); failed and backed-out changes are
    reviewed too and stay as they ended."""
    state = _check(change, command, ChangeAction.REVIEW)
    after = change.model_copy(
        update={"state": state, "review_summary": command.summary, "reviewed_at": at}
    )
    return _change(change, after, ChangeAction.REVIEW, command.actor, at, command.summary)


def close(change: Change, command: CloseChange, at: datetime) -> ChangeChange:
    state = _check(change, command, ChangeAction.CLOSE)
    if change.needs_review:
        raise ChangeRefused(
            f"{change.number} is an emergency change: it is reviewed (review-change) before "
            "it closes"
        )
    after = change.model_copy(update={"state": state, "closed_at": at})
    return _change(change, after, ChangeAction.CLOSE, command.actor, at, command.note)


def cancel(change: Change, command: CancelChange, at: datetime) -> ChangeChange:
    state = _check(change, command, ChangeAction.CANCEL)
    after = change.model_copy(update={"state": state, "closed_at": at})
    return _change(change, after, ChangeAction.CANCEL, command.actor, at, command.reason)
