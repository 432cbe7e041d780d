"""Request fulfilment through served deployments: the suspend/resume approvals (UI input),
four eyes and approval authority, rejection, verification, a failed step retried, and the
scheduled upkeep flows."""

import asyncio
import getpass
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.exceptions import PrefectHTTPStatusError
from prefect.states import Scheduled
from sqlalchemy import text

from blocks.request_policy import RequestPolicyBlock
from blocks.saved import DOCUMENT
from flows.operations.housekeeping import housekeeping
from flows.request.upkeep import review_access
from serviceops import deployment_names as names
from serviceops.application import approvals
from serviceops.application.approvals import Decided, Outcome
from serviceops.domain.provenance import Channel, Provenance
from serviceops.domain.request import (
    ApprovalDecision,
    Identity,
    IdentityStatus,
    RequestPolicy,
    RequestState,
    RequestSubmission,
    ServiceRequest,
)
from serviceops.store.audit import AuditRepository
from serviceops.store.request import IdentityRepository, RequestRepository, SqlProvisioner
from tests.flows.conftest import ServedStack
from tests.flows.run_support import FINAL, wait


def submit(stack: ServedStack, requester: str, details: dict[str, Any]) -> str:
    """A run of fulfil-request as a chat bot or the CLI starts it (no number: recorded by it)."""
    parameters = {"request": {"requester": requester, "details": details}}
    return _start("fulfil-request/fulfil-request", parameters)


def submit_on_item_form(stack: ServedStack, requester: str, details: dict[str, Any]) -> str:
    """A run of the item's own deployment, as its form in the Prefect UI starts it."""
    flow = names.request_item_flow(details["type"])
    return _start(names.deployment(flow), {"requester": requester, "details": details})


def _start(deployment_name: str, parameters: dict[str, Any]) -> str:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(deployment_name)
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
    return str(run.id)


def decide(run_id: str, approver: str, approve: bool = True, comment: str = "") -> None:
    """What the form on the paused run sends. A run shows PAUSED a moment before its input
    form is saved; the server refuses a resume in that moment, so it is tried again."""
    wait(run_id, {"PAUSED"})
    decision = {"approve": approve, "approver": approver, "comment": comment}
    with get_client(sync_client=True) as client:
        for _ in range(20):
            try:
                result = client.resume_flow_run(run_id, run_input=decision)
            except PrefectHTTPStatusError:  # the test server's SQLite busy for a moment
                time.sleep(0.25)
                continue
            if result.status.value == "ACCEPT":
                return
            time.sleep(0.25)
    raise AssertionError(f"resume refused: {result}")


def request_of(stack: ServedStack, run_id: str) -> ServiceRequest:
    with stack.sessions.begin() as session:
        records = AuditRepository(session).records_of_flow_run(run_id)
        (number,) = [r for r in records if r.startswith("REQ-")]
        return RequestRepository(session).get(number)


def laptop(cost: int) -> dict[str, Any]:
    return {
        "type": "new_laptop",
        "model": "developer",
        "cost": cost,
        "justification": "new starter",
        "deliver_to": "dana",
    }


def test_laptop_over_threshold_needs_financial_then_manager(served: ServedStack) -> None:
    """Requested on the laptop's own form: suspended, approved and fulfilled as any other."""
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="dana", manager="mark"))
    run_id = submit_on_item_form(served, "dana", laptop(2400))
    wait(run_id, {"PAUSED"})
    waiting = request_of(served, run_id)
    assert waiting.state == RequestState.AWAITING_APPROVAL
    assert waiting.approvals_required == ["financial", "manager"]
    assert waiting.pending_approval() == "financial"
    asked = [m for m in served.slack.messages if m["channel"] == "#finance-approvals"]
    assert len(asked) == 1 and waiting.number in asked[0]["text"]
    buttons = next(b for b in asked[0]["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["approve", "reject"]

    decide(run_id, "finance-lead", comment="budgeted")  # the default financial approver
    decide(run_id, "mark")
    wait(run_id, FINAL)
    done = request_of(served, run_id)
    assert done.state == RequestState.CLOSED
    assert [(a.kind, a.approver) for a in done.approvals] == [
        ("financial", "finance-lead"),
        ("manager", "mark"),
    ]
    assert done.completed_steps == ["order_hardware", "hand_over_hardware"]
    orders = [m for m in served.slack.messages if m["channel"] == "#it-logistics"]
    assert len(orders) == 2
    told = [m for m in served.slack.messages if m["channel"] == "#service-requests"]
    assert any("closed" in m["text"] and done.number in m["text"] for m in told)


def test_requester_and_people_without_authority_cannot_approve(served: ServedStack) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="erin", groups=["sales"], manager="sam"))
    details = {
        "type": "access_grant",
        "user": "erin",
        "system": "crm",
        "role": "user",
        "justification": "joins the sales team",
    }
    run_id = submit(served, "erin", details)
    decide(run_id, "erin")  # four eyes: refused, asked again
    decide(run_id, "zoe")  # not erin's manager: refused, asked again
    wait(run_id, {"PAUSED"})
    refused = request_of(served, run_id)
    assert refused.state == RequestState.AWAITING_APPROVAL
    assert refused.approval_round == 2 and refused.approvals == []
    decide(run_id, "sam")  # manager
    decide(run_id, "sales-ops")  # system owner
    wait(run_id, FINAL)
    done = request_of(served, run_id)
    assert done.state == RequestState.CLOSED
    with served.sessions.begin() as session:
        grants = SqlProvisioner(session).grants(user="erin")
        trail = AuditRepository(session).for_record(done.number)
    assert [(g.system, g.role, g.request) for g in grants] == [("crm", "user", done.number)]
    assert [(e.actor, e.reason) for e in trail if e.action == "approval_refused"] == [
        ("erin", f"erin requested {done.number} and cannot approve it (four eyes)"),
        ("zoe", "zoe is neither erin's manager (sam) nor a delegate of sam"),
    ]


@pytest.fixture
def verified_approvals() -> Iterator[None]:
    """A request policy that takes approvals from a verified channel only; the defaults
    again afterwards (the test server is shared by the module's tests)."""
    RequestPolicyBlock(policy=RequestPolicy(verified_approvals=True)).save(DOCUMENT, overwrite=True)
    yield
    RequestPolicyBlock().save(DOCUMENT, overwrite=True)


def test_a_verified_only_policy_refuses_the_forms_approval_and_takes_the_clis(
    served: ServedStack, verified_approvals: None
) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="hana", manager="ivan"))
    run_id = submit(served, "hana", laptop(900))  # under the threshold: the manager only
    decide(run_id, "ivan")  # the form on the paused run: a name anyone could type
    wait(run_id, {"PAUSED"})
    refused = request_of(served, run_id)
    assert refused.state == RequestState.AWAITING_APPROVAL and refused.approvals == []

    cli = Provenance(via=Channel.CLI, ref=getpass.getuser())
    decision = ApprovalDecision(approve=True, approver="ivan", comment="")
    decided = _until_resumed(served, refused.number, decision, cli)
    assert decided.outcome == Outcome.RESUMED
    wait(run_id, FINAL)
    done = request_of(served, run_id)
    assert done.state == RequestState.CLOSED
    with served.sessions.begin() as session:
        trail = AuditRepository(session).for_record(done.number)
    refusal = next(e for e in trail if e.action == "approval_refused")
    assert (refusal.actor, refusal.known_as) == ("ivan", "form")
    assert refusal.reason == (
        "the request policy takes approvals only from a verified channel (a Slack button, "
        "the CLI), and ivan came as a name typed into a UI form"
    )
    approval = next(e for e in trail if e.action == "approve")
    assert (approval.actor, approval.known_as) == ("ivan", f"cli {getpass.getuser()}")


def _until_resumed(
    served: ServedStack, number: str, decision: ApprovalDecision, known: Provenance
) -> Decided:
    """approvals.decide as the CLI calls it, again while the run is between its suspends."""
    deadline = time.monotonic() + 60
    while True:
        decided = asyncio.run(
            approvals.decide(served.sessions, number, decision, known, timeout_s=10)
        )
        if decided.outcome != Outcome.NOT_PAUSED or time.monotonic() > deadline:
            return decided
        time.sleep(0.5)


def test_rejection_ends_the_request_and_tells_the_requester(served: ServedStack) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="frank", manager="gina"))
    run_id = submit(served, "frank", {"type": "vpn_access", "user": "frank"})
    decide(run_id, "gina", approve=False, comment="use the office network")
    run = wait(run_id, FINAL)
    assert run.state is not None and run.state.type.value == "COMPLETED"
    rejected = request_of(served, run_id)
    assert rejected.state == RequestState.REJECTED
    assert rejected.rejection_reason == "use the office network"
    told = [m for m in served.slack.messages if rejected.number in m["text"]]
    assert any("use the office network" in m["text"] for m in told)


def test_unentitled_access_is_rejected_at_verification(served: ServedStack) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="hugo", groups=["sales"]))
    details = {
        "type": "access_grant",
        "user": "hugo",
        "system": "payroll",
        "role": "admin",
        "justification": "curious",
    }
    run_id = submit(served, "hugo", details)
    wait(run_id, FINAL)
    rejected = request_of(served, run_id)
    assert rejected.state == RequestState.REJECTED
    assert "entitled" in (rejected.rejection_reason or "")
    assert rejected.approvals_required == []


def test_failed_step_is_visible_and_a_retry_skips_what_succeeded(served: ServedStack) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="ivan", manager="mark"))
        for statement in served.block_hand_over:
            session.execute(text(statement))
    run_id = submit(served, "ivan", laptop(900))
    decide(run_id, "mark")
    failed = wait(run_id, FINAL)
    assert failed.state is not None and failed.state.type.value == "FAILED"
    broken = request_of(served, run_id)
    assert broken.state == RequestState.FAILED
    assert broken.error is not None and broken.error.startswith("hand_over_hardware")
    assert broken.completed_steps == ["order_hardware"]

    with served.sessions.begin() as session:
        session.execute(text(served.unblock_hand_over))
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(run_id, Scheduled(), force=True)
    wait(run_id, {"COMPLETED"})
    fixed = request_of(served, run_id)
    assert fixed.state == RequestState.CLOSED
    assert fixed.completed_steps == ["order_hardware", "hand_over_hardware"]
    with served.sessions.begin() as session:
        actions = [e.action for e in AuditRepository(session).for_record(fixed.number)]
    assert actions.count("step:order_hardware") == 1
    assert actions.count("submit") == 1


def test_overdue_approval_is_chased_once(served: ServedStack) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="judy", manager="gina"))
    run_id = submit(served, "judy", {"type": "vpn_access", "user": "judy"})
    wait(run_id, {"PAUSED"})
    waiting = request_of(served, run_id)
    with served.sessions.begin() as session:
        repository = RequestRepository(session)
        late = datetime.now(UTC) - timedelta(minutes=1)
        repository.save(waiting.model_copy(update={"approval_due_at": late}))
    assert housekeeping().approvals_chased == [waiting.number]
    assert housekeeping().approvals_chased == []
    chased = [m for m in served.slack.messages if m["channel"] == "#service-desk-leads"]
    assert [waiting.number in m["text"] for m in chased] == [True]
    decide(run_id, "gina")
    wait(run_id, FINAL)


def test_review_access_removes_expired_and_leavers_and_flags_movers(served: ServedStack) -> None:
    now = datetime.now(UTC)
    with served.sessions.begin() as session:
        directory = IdentityRepository(session)
        directory.upsert(Identity(user="kim", status=IdentityStatus.ACTIVE))
        directory.upsert(Identity(user="lou", status=IdentityStatus.LEAVER))
        directory.upsert(Identity(user="max", status=IdentityStatus.MOVER))
        provisioner = SqlProvisioner(session)
        grant = {"by": "test", "request": None, "at": now}
        expired = provisioner.grant(
            user="kim", system="crm", role="user", expires_on=date(2020, 1, 1), **grant
        )
        current = provisioner.grant(user="kim", system="vpn", role="user", expires_on=None, **grant)
        leaver = provisioner.grant(user="lou", system="crm", role="user", expires_on=None, **grant)
        mover = provisioner.grant(user="max", system="crm", role="user", expires_on=None, **grant)
    findings = review_access()
    assert sorted((f.grant.id, f.action.value) for f in findings) == sorted(
        [(expired.id, "revoke"), (leaver.id, "revoke"), (mover.id, "flag")]
    )
    assert review_access() == [], "a second review finds nothing new"
    with served.sessions.begin() as session:
        provisioner = SqlProvisioner(session)
        assert provisioner.get(current.id).revoked_at is None
        assert provisioner.get(expired.id).revoked_at is not None
        assert provisioner.get(mover.id).flagged_at is not None
        trail = AuditRepository(session).for_record(f"ACC-{leaver.id:06d}")
    assert [e.action for e in trail] == ["review_revoke"]


@pytest.fixture(autouse=True)
def _fresh_slack(served: ServedStack) -> None:
    served.slack.reset()


def test_requests_accepted_while_prefect_was_down_are_started_later(served: ServedStack) -> None:
    """The gateway recorded the request but could not start its run; the upkeep flow does."""
    submission = RequestSubmission.model_validate(
        {"requester": "nora", "details": {"type": "password_reset", "account": "nora"}}
    )
    with served.sessions.begin() as session:
        recorded = RequestRepository(session).add(submission, source="portal", at=datetime.now(UTC))
        session.execute(
            text("UPDATE service_requests SET created_at = :at WHERE number = :number"),
            {"at": datetime.now(UTC) - timedelta(minutes=5), "number": recorded.number},
        )
    assert housekeeping().requests_started == [recorded.number]
    with served.sessions.begin() as session:
        started = RequestRepository(session).get(recorded.number)
    assert started.flow_run_id is not None
    wait(started.flow_run_id, {"COMPLETED"})
    assert housekeeping().requests_started == [], "a started request is not started twice"
    with served.sessions.begin() as session:
        assert RequestRepository(session).get(recorded.number).state == RequestState.CLOSED


def test_revoke_request_removes_the_grant_and_audits_it(served: ServedStack) -> None:
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="olga", groups=["sales"]))
        held = SqlProvisioner(session).grant(
            user="olga", system="crm", role="user", expires_on=None, by="test", request=None,
            at=datetime.now(UTC),
        )  # fmt: skip
    details = {"type": "access_revoke", "user": "olga", "system": "crm", "role": "user",
               "reason": "moved to finance"}  # fmt: skip
    run_id = submit(served, "olga-manager", details)
    assert wait(run_id, FINAL).state.type.value == "COMPLETED"  # type: ignore[union-attr]
    done = request_of(served, run_id)
    assert done.state == RequestState.CLOSED and done.approvals_required == []
    with served.sessions.begin() as session:
        assert SqlProvisioner(session).get(held.id).revoked_at is not None
        trail = AuditRepository(session).for_record(f"ACC-{held.id:06d}")
    assert [(e.action, e.to_state) for e in trail] == [("revoke", "revoked")]
