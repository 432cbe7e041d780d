"""Who may give which approval, without a server: four eyes by identity (also when the
requester is named by their Slack id), the requester's manager or a delegate for a manager
approval, the system's owner for a system-owner approval, the policy's financial approvers
for a financial one; and the directory fields that identify a person."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from serviceops.domain.provenance import FORM, Channel, Provenance
from serviceops.domain.request import (
    ApprovalDecision,
    ApprovalKind,
    Identity,
    RequestPolicy,
    RequestState,
    RequestSubmission,
    ServiceRequest,
    fulfilment,
)

AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POLICY = RequestPolicy(manager_delegates={"sam": ["tess"]}, financial_approvers=["fiona"])
DANA = Identity(user="dana", manager="sam", slack_user_id="U0DANA")
LAPTOP = {"type": "new_laptop", "model": "standard", "cost": 2400, "justification": "j",
          "deliver_to": "dana"}  # fmt: skip
CRM = {"type": "access_grant", "user": "dana", "system": "crm", "role": "user",
       "justification": "j"}  # fmt: skip
MAILBOX = {"type": "shared_mailbox", "user": "dana", "mailbox": "support@example.com"}

SLACK = Provenance(via=Channel.SLACK, ref="U0APPROVER")


def waiting(
    details: dict[str, object], kind: ApprovalKind, requester: str = "dana"
) -> ServiceRequest:
    submission = RequestSubmission.model_validate({"requester": requester, "details": details})
    return ServiceRequest(
        number="REQ-000001", requester=requester, details=submission.details,
        state=RequestState.AWAITING_APPROVAL, source="test", approvals_required=[kind],
        created_at=AT, updated_at=AT, due_at=AT,
    )  # fmt: skip


def refusal(
    request: ServiceRequest,
    approver: str,
    requester: Identity | None = DANA,
    policy: RequestPolicy = POLICY,
) -> str | None:
    kind = request.pending_approval()
    assert kind is not None
    return fulfilment.approval_refusal(
        request, kind, approver, requester=requester, policy=policy, known=SLACK
    )


# --------------------------------------------------------------------------- four eyes


def test_the_requester_cannot_approve_under_any_spelling() -> None:
    request = waiting(LAPTOP, ApprovalKind.MANAGER)
    for approver in ("dana", " Dana "):
        assert refusal(request, approver) == (
            f"{approver} requested REQ-000001 and cannot approve it (four eyes)"
        )


def test_a_requester_named_by_their_slack_id_cannot_approve_as_their_directory_name() -> None:
    request = waiting(LAPTOP, ApprovalKind.MANAGER, requester="U0DANA")
    assert refusal(request, "dana") == (
        "dana requested REQ-000001 and cannot approve it (four eyes)"
    )


# --------------------------------------------------------------------------- manager


def test_the_requesters_manager_and_their_delegate_may_give_the_manager_approval() -> None:
    request = waiting(LAPTOP, ApprovalKind.MANAGER)
    assert refusal(request, "sam") is None
    assert refusal(request, "tess") is None


@pytest.mark.parametrize("approver", ["carol", "dana.smith", "U0SAM", "Sam"])
def test_nobody_else_may_give_the_manager_approval(approver: str) -> None:
    assert refusal(waiting(LAPTOP, ApprovalKind.MANAGER), approver) == (
        f"{approver} is neither dana's manager (sam) nor a delegate of sam"
    )


def test_a_delegate_of_another_manager_may_not() -> None:
    policy = RequestPolicy(manager_delegates={"gina": ["carol"]})
    assert refusal(waiting(LAPTOP, ApprovalKind.MANAGER), "carol", policy=policy) == (
        "carol is neither dana's manager (sam) nor a delegate of sam"
    )


def test_no_manager_approval_without_the_requesters_manager_in_the_directory() -> None:
    request = waiting(LAPTOP, ApprovalKind.MANAGER)
    assert refusal(request, "sam", requester=None) == (
        "dana is not in the directory, so nobody is known as their manager"
    )
    assert refusal(request, "sam", requester=Identity(user="dana")) == (
        "dana has no manager in the directory"
    )


# --------------------------------------------------------------------------- system owner


@pytest.mark.parametrize(
    ("details", "owner", "system"),
    [(CRM, "sales-ops", "crm"), (MAILBOX, "messaging-team", "mailbox:support@example.com")],
)
def test_only_the_owner_of_the_system_may_give_the_system_owner_approval(
    details: dict[str, object], owner: str, system: str
) -> None:
    request = waiting(details, ApprovalKind.SYSTEM_OWNER)
    assert refusal(request, owner) is None
    assert refusal(request, "sam") == f"sam is not the owner of {system} ({owner})"


def test_a_system_the_policy_does_not_know_has_no_owner_to_approve() -> None:
    request = waiting(CRM | {"system": "erp"}, ApprovalKind.SYSTEM_OWNER)
    assert refusal(request, "sales-ops") == "the request policy names no owner of erp"


# --------------------------------------------------------------------------- financial


def test_only_a_financial_approver_of_the_policy_may_give_the_financial_approval() -> None:
    request = waiting(LAPTOP, ApprovalKind.FINANCIAL)
    assert refusal(request, "fiona") is None
    assert refusal(request, "sam") == "sam is not a financial approver (fiona)"


def test_the_default_financial_approver_is_the_finance_lead() -> None:
    request = waiting(LAPTOP, ApprovalKind.FINANCIAL)
    assert RequestPolicy().financial_approvers == ["finance-lead"]
    assert refusal(request, "finance-lead", policy=RequestPolicy()) is None
    nobody = RequestPolicy(financial_approvers=[])
    assert refusal(request, "fiona", policy=nobody) == (
        "the request policy names no financial approvers"
    )


# --------------------------------------------------------------------------- the record


def test_a_refusal_is_recorded_and_the_approval_asked_again() -> None:
    request = waiting(LAPTOP, ApprovalKind.MANAGER)
    decision = ApprovalDecision(approve=True, approver="carol")
    reason = "carol is neither dana's manager (sam) nor a delegate of sam"
    refused = fulfilment.refuse(request, decision, AT, reason)
    assert refused.request.approval_round == 1 and refused.request.approvals == []
    assert (refused.audit.action, refused.audit.actor, refused.audit.reason) == (
        "approval_refused",
        "carol",
        reason,
    )


# --------------------------------------------------------------------------- the directory


def test_an_identity_carries_slack_id_email_and_phone() -> None:
    sam = Identity(user="sam", slack_user_id="U0123ABCD", email="sam@example.com",
                   phone="+4915112345678")  # fmt: skip
    assert (sam.slack_user_id, sam.email, sam.phone) == (
        "U0123ABCD",
        "sam@example.com",
        "+4915112345678",
    )
    assert Identity(user="kim").slack_user_id is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slack_user_id", "sam"),
        ("slack_user_id", "u0123"),
        ("email", "sam"),
        ("email", "sam@exa mple.com"),
        ("phone", "0151 123"),
    ],
)
def test_malformed_contact_fields_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Identity.model_validate({"user": "sam", field: value})
    assert raised.value.errors()[0]["loc"] == (field,)


# --------------------------------------------------------------------------- verified channel


def test_a_policy_wanting_verified_approvals_refuses_a_name_typed_into_the_form() -> None:
    request = waiting(MAILBOX, ApprovalKind.MANAGER)
    strict = POLICY.model_copy(update={"verified_approvals": True})

    def refused(policy: RequestPolicy, known: Provenance) -> str | None:
        return fulfilment.approval_refusal(
            request, ApprovalKind.MANAGER, "sam", requester=DANA, policy=policy, known=known
        )

    assert refused(strict, FORM) == (
        "the request policy takes approvals only from a verified channel (a Slack button, "
        "the CLI), and sam came as a name typed into a UI form"
    )
    assert refused(POLICY, FORM) is None
    verified = [
        SLACK,
        Provenance(via=Channel.CLI, ref="ops"),
        Provenance(via=Channel.TOKEN, ref="portal"),
    ]
    assert [refused(strict, known) for known in verified] == [None, None, None]
    # A verified channel gives no authority: zoe is still not dana's manager.
    assert (
        fulfilment.approval_refusal(
            request, ApprovalKind.MANAGER, "zoe", requester=DANA, policy=strict, known=SLACK
        )
        == "zoe is neither dana's manager (sam) nor a delegate of sam"
    )
