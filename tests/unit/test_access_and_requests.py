"""Request and access rules without a server: approvals by catalogue and cost, four eyes,
decisions in ITIL order, verification of access requests, and the access review."""

from datetime import UTC, date, datetime, timedelta

import pytest

from serviceops.domain.machine import IllegalTransition
from serviceops.domain.request import (
    ApprovalDecision,
    ApprovalKind,
    FourEyesViolation,
    Grant,
    Identity,
    IdentityStatus,
    RequestPolicy,
    RequestState,
    RequestSubmission,
    ReviewAction,
    ServiceRequest,
    SystemAccess,
    fulfilment,
    review_grants,
    verify_access,
)

AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def request(details: dict[str, object], requester: str = "dana") -> ServiceRequest:
    submission = RequestSubmission.model_validate({"requester": requester, "details": details})
    return ServiceRequest(
        number="REQ-000001", requester=requester, details=submission.details,
        state=RequestState.SUBMITTED, source="test", created_at=AT, updated_at=AT, due_at=AT,
    )  # fmt: skip


def laptop(cost: int) -> dict[str, object]:
    return {"type": "new_laptop", "model": "standard", "cost": cost, "justification": "j",
            "deliver_to": "dana"}  # fmt: skip


def test_access_that_ends_says_when_and_other_requests_do_not() -> None:
    """The provisioner records the expiry the request type carries (none for most types)."""
    grant = {"type": "access_grant", "user": "dana", "system": "crm", "role": "viewer",
             "until": "2027-03-31", "justification": "audit"}  # fmt: skip
    vpn = {"type": "vpn_access", "user": "dana", "until": "2027-01-15"}
    assert request(grant).details.expires_on() == date(2027, 3, 31)
    assert request(vpn).details.expires_on() == date(2027, 1, 15)
    assert request(grant | {"until": None}).details.expires_on() is None
    assert request(laptop(100)).details.expires_on() is None


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (laptop(1500), ["manager"]),
        (laptop(1501), ["financial", "manager"]),
        ({"type": "software_install", "software": "s", "host": "h"}, []),
        ({"type": "software_install", "software": "s", "host": "h", "licence_cost": 501},
         ["financial"]),
        ({"type": "password_reset", "account": "a"}, []),
        ({"type": "access_grant", "user": "u", "system": "crm", "role": "user",
          "justification": "j"}, ["manager", "system_owner"]),
        ({"type": "access_revoke", "user": "u", "system": "crm", "role": "user", "reason": "r"},
         []),
        ({"type": "vpn_access", "user": "u"}, ["manager"]),
        ({"type": "shared_mailbox", "user": "u", "mailbox": "m"}, ["system_owner"]),
    ],
)  # fmt: skip
def test_approvals_by_catalogue_and_cost(details: dict[str, object], expected: list[str]) -> None:
    settled = fulfilment.settle_approvals(request(details), AT).request
    assert settled.approvals_required == expected
    assert settled.state == (RequestState.AWAITING_APPROVAL if expected else RequestState.APPROVED)


def test_decisions_come_in_itil_order_and_the_last_approves() -> None:
    waiting = fulfilment.settle_approvals(request(laptop(2000)), AT).request
    assert waiting.pending_approval() == ApprovalKind.FINANCIAL
    with pytest.raises(ValueError, match="no manager approval is pending"):
        fulfilment.decide(waiting, ApprovalKind.MANAGER, ApprovalDecision(approve=True,
                          approver="m"), AT)  # fmt: skip
    yes = ApprovalDecision(approve=True, approver="fiona")
    after_financial = fulfilment.decide(waiting, ApprovalKind.FINANCIAL, yes, AT).request
    assert after_financial.state == RequestState.AWAITING_APPROVAL
    approved = fulfilment.decide(after_financial, ApprovalKind.MANAGER, yes, AT).request
    assert approved.state == RequestState.APPROVED and approved.pending_approval() is None


def test_four_eyes_refuses_the_requester_in_any_case() -> None:
    waiting = fulfilment.settle_approvals(request(laptop(100), requester="Dana"), AT).request
    own = ApprovalDecision(approve=True, approver=" dana ")
    with pytest.raises(FourEyesViolation):
        fulfilment.decide(waiting, ApprovalKind.MANAGER, own, AT)
    refused = fulfilment.refuse(waiting, own, AT, "four eyes")
    assert refused.request.approval_round == 1 and refused.audit.action == "approval_refused"


def test_a_rejection_ends_the_request_with_the_reason() -> None:
    waiting = fulfilment.settle_approvals(request(laptop(100)), AT).request
    no = ApprovalDecision(approve=False, approver="mark", comment="not this year")
    rejected = fulfilment.decide(waiting, ApprovalKind.MANAGER, no, AT).request
    assert rejected.state == RequestState.REJECTED
    assert rejected.rejection_reason == "not this year"
    with pytest.raises(IllegalTransition):
        fulfilment.start_fulfilment(rejected, AT)


def test_fulfilment_remembers_steps_and_a_failure_can_be_retried() -> None:
    approved = fulfilment.settle_approvals(request({"type": "password_reset", "account": "a"}),
                                           AT).request  # fmt: skip
    working = fulfilment.start_fulfilment(approved, AT).request
    done = fulfilment.complete_step(working, "reset_password", AT, "ok").request
    failed = fulfilment.fail(done, "notify", AT, "boom").request
    assert failed.state == RequestState.FAILED and failed.error == "notify: boom"
    again = fulfilment.start_fulfilment(failed, AT).request
    assert again.state == RequestState.FULFILLING and again.error is None
    assert again.completed_steps == ["reset_password"]


def test_run_key_differs_for_a_rebuilt_database_with_the_same_number() -> None:
    first = request({"type": "password_reset", "account": "a"})
    rebuilt = first.model_copy(update={"created_at": AT + timedelta(days=1)})
    assert first.run_key != rebuilt.run_key and first.run_key.startswith("fulfil-request:REQ-")


CRM = SystemAccess(system="crm", owner="sales-ops", roles={"user": ["sales"], "admin": []})


@pytest.mark.parametrize(
    ("identity", "role", "problem"),
    [
        (Identity(user="u", groups=["sales"]), "user", None),
        (Identity(user="u", groups=["finance"]), "admin", None),
        (None, "user", "unknown user"),
        (Identity(user="u", groups=["finance"]), "user", "none of the groups"),
        (Identity(user="u", groups=["sales"]), "root", "has no role root"),
        (Identity(user="u", status=IdentityStatus.LEAVER, groups=["sales"]), "user", "has left"),
    ],
)
def test_access_verification(identity: Identity | None, role: str, problem: str | None) -> None:
    problems = verify_access(identity, CRM, role)
    assert (problem is None) == (problems == [])
    if problem:
        assert problem in "; ".join(problems)


def test_unknown_system_fails_verification() -> None:
    assert verify_access(Identity(user="u"), None, "user") == ["unknown system"]


def test_policy_covers_every_shared_mailbox_with_one_entry() -> None:
    policy = RequestPolicy()
    mailbox = policy.access_for("mailbox:support@example.com")
    assert mailbox is not None and mailbox.owner == "messaging-team"
    assert policy.access_for("crm") is not None and policy.access_for("erp") is None


def grant(id_: int, user: str, expires_on: date | None = None, **extra: object) -> Grant:
    return Grant.model_validate(
        {"id": id_, "user": user, "system": "crm", "role": "user", "granted_at": AT,
         "granted_by": "t", "expires_on": expires_on, **extra}
    )  # fmt: skip


def test_review_revokes_expired_and_leavers_and_flags_movers_once() -> None:
    people = {
        "ann": Identity(user="ann"),
        "bob": Identity(user="bob", status=IdentityStatus.LEAVER),
        "cat": Identity(user="cat", status=IdentityStatus.MOVER),
    }
    grants = [
        grant(1, "ann", expires_on=date(2026, 11, 25)),
        grant(2, "ann", expires_on=date(2026, 11, 26)),  # expires today: still valid
        grant(3, "bob"),
        grant(4, "cat"),
        grant(5, "cat", flagged_at=AT),  # flagged already
        grant(6, "zed"),  # not in the directory
        grant(7, "bob", revoked_at=AT),  # revoked already
    ]
    findings = review_grants(grants, people, date(2026, 11, 26))
    assert [(f.grant.id, f.action, f.reason) for f in findings] == [
        (1, ReviewAction.REVOKE, "expired"),
        (3, ReviewAction.REVOKE, "leaver"),
        (4, ReviewAction.FLAG, "mover: review"),
        (6, ReviewAction.REVOKE, "not in the directory"),
    ]
