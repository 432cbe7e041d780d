"""What each step of request fulfilment does to the request record.

Like incident lifecycle steps: every function takes a request and returns the new request
and the audit entry that explains it; legality comes from REQUEST_TRANSITIONS.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from serviceops.domain.machine import SYSTEM_ACTOR, AuditEntry, change_entry, first_entry
from serviceops.domain.provenance import Provenance
from serviceops.domain.request.access import Identity
from serviceops.domain.request.catalogue import ApprovalKind, access_target
from serviceops.domain.request.policy import RequestPolicy
from serviceops.domain.request.record import (
    REQUESTS,
    Approval,
    ApprovalDecision,
    FourEyesViolation,
    RequestAction,
    RequestState,
    ServiceRequest,
)


class RequestChange(BaseModel):
    request: ServiceRequest
    audit: AuditEntry


def _change(
    before: ServiceRequest,
    after: ServiceRequest,
    action: str,
    actor: str,
    at: datetime,
    reason: str = "",
) -> RequestChange:
    entry = change_entry(before, after, action, actor, at, reason)
    return RequestChange(request=after.model_copy(update={"updated_at": at}), audit=entry)


def submitted(request: ServiceRequest) -> AuditEntry:
    reason = f"{request.type} from {request.source}"
    return first_entry(request, "submit", request.requester, request.created_at, reason)


def _transition(request: ServiceRequest, action: RequestAction) -> RequestState:
    return REQUESTS.next_state(request.number, request.state, action)


def settle_approvals(request: ServiceRequest, at: datetime) -> RequestChange:
    """Which approvals the catalogue asks for this request; none means approved at once."""
    required = request.details.required_approvals()
    action = RequestAction.AWAIT_APPROVAL if required else RequestAction.APPROVE
    after = request.model_copy(
        update={"approvals_required": required, "state": _transition(request, action)}
    )
    reason = ", ".join(required) if required else "no approval needed"
    return _change(request, after, action, SYSTEM_ACTOR, at, reason)


def reject(request: ServiceRequest, actor: str, at: datetime, reason: str) -> RequestChange:
    state = _transition(request, RequestAction.REJECT)
    after = request.model_copy(update={"state": state, "rejection_reason": reason})
    return _change(request, after, RequestAction.REJECT, actor, at, reason)


def ask_approval(request: ServiceRequest, at: datetime, window: timedelta) -> RequestChange:
    """The pending approval is asked for, due within the window (then it is chased)."""
    kind = request.pending_approval()
    if kind is None:
        raise ValueError(f"{request.number} has no approval pending")
    after = request.model_copy(
        update={
            "approval_requested_at": at,
            "approval_due_at": at + window,
            "approval_escalated_at": None,
        }
    )
    return _change(request, after, "ask_approval", SYSTEM_ACTOR, at, f"{kind} approval")


def _same_name(name: str) -> str:
    return name.strip().casefold()


def requested_by(request: ServiceRequest, person: str, requester: Identity | None = None) -> bool:
    """Four eyes: whether `person` is the requester, by the name on the request or by the
    directory entry it names (a chat bot files requests under the requester's Slack id);
    names compared without case or edges, so a near spelling is refused rather than let by."""
    names = {request.requester} | ({requester.user} if requester else set())
    return _same_name(person) in {_same_name(name) for name in names}


def approval_refusal(
    request: ServiceRequest,
    kind: ApprovalKind,
    approver: str,
    *,
    requester: Identity | None,
    policy: RequestPolicy,
    known: Provenance,
) -> str | None:
    """Why `approver` (a directory user name, `known` through that channel) may not give the
    `kind` approval of `request`, None when they may. The one rule for every way a decision
    arrives (a Slack button, the CLI, the form on the paused run), so none of them can be more
    lenient than another.

    `requester` is the requester's directory entry (None: not in the directory): who their
    manager is comes from the directory, never from the request.
    """
    if requested_by(request, approver, requester):
        return f"{approver} requested {request.number} and cannot approve it (four eyes)"
    if policy.verified_approvals and not known.verified:
        return (
            f"the request policy takes approvals only from a verified channel (a Slack "
            f"button, the CLI), and {approver} came as {known.describe()}"
        )
    if kind == ApprovalKind.MANAGER:
        return _manager_refusal(request, approver, requester, policy)
    if kind == ApprovalKind.SYSTEM_OWNER:
        return _owner_refusal(request, approver, policy)
    return _financial_refusal(approver, policy)


def approvers_for(
    request: ServiceRequest,
    kind: ApprovalKind,
    *,
    requester: Identity | None,
    policy: RequestPolicy,
) -> list[str]:
    """Who may give the `kind` approval of `request` (what approval_refusal accepts): the
    requester's manager and their delegates, the system's owner, or the financial approvers.
    Empty when nobody can (no manager in the directory, no owner in the policy)."""
    if kind == ApprovalKind.MANAGER:
        manager = requester.manager if requester is not None else None
        return [] if manager is None else [manager, *policy.manager_delegates.get(manager, [])]
    if kind == ApprovalKind.SYSTEM_OWNER:
        target = access_target(request.details)
        access = None if target is None else policy.access_for(target[1])
        return [] if access is None else [access.owner]
    return list(policy.financial_approvers)


def _manager_refusal(
    request: ServiceRequest, approver: str, requester: Identity | None, policy: RequestPolicy
) -> str | None:
    """The requester's manager, or a delegate the policy names for that manager."""
    if requester is None:
        return f"{request.requester} is not in the directory, so nobody is known as their manager"
    manager = requester.manager
    if manager is None:
        return f"{requester.user} has no manager in the directory"
    if approver == manager or approver in policy.manager_delegates.get(manager, []):
        return None
    return (
        f"{approver} is neither {requester.user}'s manager ({manager}) nor a delegate of {manager}"
    )


def _owner_refusal(request: ServiceRequest, approver: str, policy: RequestPolicy) -> str | None:
    """The owner the policy gives the system the request is about."""
    target = access_target(request.details)
    if target is None:
        return f"a {request.type} request names no system, so it has no owner to approve it"
    system = target[1]
    access = policy.access_for(system)
    if access is None:
        return f"the request policy names no owner of {system}"
    if approver != access.owner:
        return f"{approver} is not the owner of {system} ({access.owner})"
    return None


def _financial_refusal(approver: str, policy: RequestPolicy) -> str | None:
    """One of the policy's financial approvers."""
    approvers = policy.financial_approvers
    if not approvers:
        return "the request policy names no financial approvers"
    if approver not in approvers:
        return f"{approver} is not a financial approver ({', '.join(approvers)})"
    return None


class Undecidable(StrEnum):
    """Why no decision can be taken on a request at all, whoever has authority."""

    FOUR_EYES = "four_eyes"  # the approver is the requester
    NOT_PENDING = "not_pending"  # not awaiting approval, or not this approval


def undecidable(
    request: ServiceRequest,
    approver: str,
    kind: ApprovalKind | None = None,
    requester: Identity | None = None,
) -> Undecidable | None:
    """Why `approver` cannot decide `request` now (`kind`: the approval they mean, None for
    whichever is pending; `requester`: the requester's directory entry), None when they may
    as far as the record tells. Authority is approval_refusal's, under the policy. The gateway
    asks this before it resumes a run; `decide` refuses on the same rule."""
    if requested_by(request, approver, requester):
        return Undecidable.FOUR_EYES
    pending = request.pending_approval()
    if request.state != RequestState.AWAITING_APPROVAL or pending is None:
        return Undecidable.NOT_PENDING
    if kind is not None and pending != kind:
        return Undecidable.NOT_PENDING
    return None


def decide(
    request: ServiceRequest, kind: ApprovalKind, decision: ApprovalDecision, at: datetime
) -> RequestChange:
    """Four eyes first; a rejection ends the request, the last approval approves it."""
    why = undecidable(request, decision.approver, kind)
    if why is Undecidable.FOUR_EYES:
        raise FourEyesViolation(
            f"{request.number}: {decision.approver} requested it and cannot approve it"
        )
    if why is Undecidable.NOT_PENDING:
        raise ValueError(f"{request.number}: no {kind} approval is pending")
    approval = Approval(
        kind=kind,
        approver=decision.approver,
        approved=decision.approve,
        comment=decision.comment,
        at=at,
    )
    after = request.model_copy(
        update={"approvals": [*request.approvals, approval], "approval_escalated_at": None}
    )
    if not decision.approve:
        rejected = reject(after, decision.approver, at, decision.comment or f"{kind} rejected")
        return RequestChange(request=rejected.request, audit=rejected.audit)
    if after.pending_approval() is None:
        after = after.model_copy(update={"state": _transition(request, RequestAction.APPROVE)})
    reason = f"{kind} approved" + (f": {decision.comment}" if decision.comment else "")
    return _change(request, after, RequestAction.APPROVE, decision.approver, at, reason)


def refuse(
    request: ServiceRequest, decision: ApprovalDecision, at: datetime, reason: str
) -> RequestChange:
    """A decision its approver may not give (four eyes, no authority: `reason`) is recorded
    and refused; the approval is asked again, in a new round."""
    after = request.model_copy(update={"approval_round": request.approval_round + 1})
    return _change(request, after, "approval_refused", decision.approver, at, reason)


def escalate_approval(request: ServiceRequest, at: datetime, to: str) -> RequestChange:
    """The approval is overdue: chase it with the approver's group or manager."""
    after = request.model_copy(update={"approval_escalated_at": at})
    kind = request.pending_approval()
    return _change(request, after, "escalate_approval", SYSTEM_ACTOR, at, f"{kind} to {to}")


def start_fulfilment(request: ServiceRequest, at: datetime) -> RequestChange:
    state = _transition(request, RequestAction.START_FULFILMENT)
    after = request.model_copy(update={"state": state, "error": None})
    return _change(request, after, RequestAction.START_FULFILMENT, SYSTEM_ACTOR, at)


def complete_step(request: ServiceRequest, step: str, at: datetime, note: str) -> RequestChange:
    """A fulfilment step succeeded: remembered, so a re-run does not repeat it."""
    if request.state != RequestState.FULFILLING:
        raise ValueError(f"{request.number} is not being fulfilled")
    after = request.model_copy(update={"completed_steps": [*request.completed_steps, step]})
    return _change(request, after, f"step:{step}", SYSTEM_ACTOR, at, note)


def fail(request: ServiceRequest, step: str, at: datetime, error: str) -> RequestChange:
    state = _transition(request, RequestAction.FAIL)
    after = request.model_copy(update={"state": state, "error": f"{step}: {error}"})
    return _change(request, after, RequestAction.FAIL, SYSTEM_ACTOR, at, f"{step}: {error}")


def fulfil(request: ServiceRequest, at: datetime) -> RequestChange:
    state = _transition(request, RequestAction.FULFIL)
    after = request.model_copy(update={"state": state, "fulfilled_at": at})
    return _change(request, after, RequestAction.FULFIL, SYSTEM_ACTOR, at)


def close(request: ServiceRequest, at: datetime) -> RequestChange:
    state = _transition(request, RequestAction.CLOSE)
    after = request.model_copy(update={"state": state, "closed_at": at})
    return _change(request, after, RequestAction.CLOSE, SYSTEM_ACTOR, at, "requester told")
