"""Deciding an approval from outside the flow: check, then resume the suspended run.

fulfil-request suspends for each approval (`suspend_flow_run(wait_for_input=ApprovalDecision)`)
and records the decision itself once resumed. The Slack buttons (gateway.slack) and the CLI
(`serviceops request approve/reject`) both come through `decide`, which checks before it
resumes anything, so a refused decision changes nothing:

- the request exists;
- four eyes: the requester cannot decide their own request, also when the request names
  them by their Slack id;
- the request is awaiting approval and, when the caller names one (a Slack button does), that
  approval is the pending one: an old financial button must not answer the manager's question;
- authority, by the domain's rule (fulfilment.approval_refusal) under the operator's request
  policy, read from Prefect like the flow reads it: the requester's manager or a delegate,
  the system's owner, a financial approver. The flow checks the same rule again when it
  records the decision (the form on the paused run reaches it without passing here);
- the run is PAUSED when it is resumed; otherwise the decision was taken meanwhile.

`decision.approver` is a directory user name: the CLI takes it as given, a Slack press has
it from the directory entry of the presser's Slack user id (`directory_user`). How the caller
knew them (`known`) goes to the run as a ticket written before the resume, so the decision's
audit row says it and a policy that wants verified approvals accepts it; the form on the
paused run writes none.

The outcome says what happened; each caller words it for its own audience.
"""

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

import anyio.to_thread
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import SetStateStatus
from sqlalchemy.orm import Session, sessionmaker

from blocks.request_policy import aload_request_policy
from serviceops.application import tickets
from serviceops.application.prefect_api import prefect_client
from serviceops.domain.provenance import Provenance
from serviceops.domain.request import (
    ApprovalDecision,
    ApprovalKind,
    Identity,
    ServiceRequest,
    approval_refusal,
    undecidable,
)
from serviceops.store.base import RecordNotFound
from serviceops.store.request import IdentityRepository, RequestRepository
from serviceops.store.tickets import decision_purpose

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    RESUMED = "resumed"  # the run has the decision and will record it
    NO_REQUEST = "no_request"
    # The two the record alone refuses, as fulfilment.Undecidable names them:
    FOUR_EYES = "four_eyes"  # the approver is the requester: nothing was sent
    NOT_PENDING = "not_pending"  # not awaiting approval, or not this approval
    NO_AUTHORITY = "no_authority"  # the approver may not give this approval: nothing was sent
    NO_RUN = "no_run"  # awaiting approval, but no flow run is noted on the request
    NOT_PAUSED = "not_paused"  # the run is not waiting for a decision (decided meanwhile)
    REFUSED = "refused"  # Prefect refused the resume (e.g. input failed the schema)
    UNDELIVERED = "undelivered"  # Prefect down, slow, or the run unknown: try again


@dataclass(frozen=True)
class Decided:
    """What `decide` did. `request` is the record as read before the decision (None when
    there is none); `detail` explains NO_AUTHORITY, REFUSED, UNDELIVERED and NOT_PAUSED (the
    run's state)."""

    outcome: Outcome
    number: str
    request: ServiceRequest | None = None
    kind: ApprovalKind | None = None
    flow_run_id: UUID | None = None
    detail: str = ""


async def resume(
    client: "PrefectClient", flow_run_id: UUID, decision: ApprovalDecision
) -> tuple[Outcome, str]:
    """RESUMED, NOT_PAUSED (detail: the run's state) or REFUSED (detail: why); raises when
    Prefect cannot answer."""
    run = await client.read_flow_run(flow_run_id)
    if run.state is None or run.state.type != StateType.PAUSED:
        return Outcome.NOT_PAUSED, "unknown" if run.state is None else str(run.state.name)
    result = await client.resume_flow_run(flow_run_id, run_input=decision.model_dump(mode="json"))
    if result.status == SetStateStatus.ACCEPT:
        return Outcome.RESUMED, ""
    if result.status == SetStateStatus.ABORT:
        return Outcome.NOT_PAUSED, "no longer paused"
    reason = getattr(result.details, "reason", None) or result.status.value
    return Outcome.REFUSED, str(reason)[:200]


async def _authorise_and_resume(
    request: ServiceRequest,
    requester: Identity | None,
    kind: ApprovalKind,
    flow_run_id: UUID,
    decision: ApprovalDecision,
    known: Provenance,
    api_url: str | None,
) -> tuple[Outcome, str]:
    """NO_AUTHORITY (detail: why) under the operator's request policy, else what `resume`
    says; one client for both, so both count against the caller's time limit."""
    async with prefect_client(api_url) as client:
        policy = await aload_request_policy(client)
        refusal = approval_refusal(
            request, kind, decision.approver, requester=requester, policy=policy, known=known
        )
        if refusal is not None:
            return Outcome.NO_AUTHORITY, refusal
        return await resume(client, flow_run_id, decision)


def _load(
    sessions: sessionmaker[Session], number: str
) -> tuple[ServiceRequest, Identity | None] | None:
    """The request and its requester's directory entry; None when there is no such request."""
    try:
        with sessions.begin() as session:
            request = RequestRepository(session).get(number)
            return request, IdentityRepository(session).person(request.requester)
    except RecordNotFound:
        return None


def _slack_user(sessions: sessionmaker[Session], slack_user_id: str) -> str | None:
    with sessions.begin() as session:
        identity = IdentityRepository(session).by_slack_id(slack_user_id)
    return None if identity is None else identity.user


async def directory_user(sessions: sessionmaker[Session], slack_user_id: str) -> str | None:
    """The directory user name of a Slack user id, None when nobody in the directory has it:
    who pressed a button is known from this mapping only, never from Slack's display names."""
    return await anyio.to_thread.run_sync(_slack_user, sessions, slack_user_id)


async def decide(
    sessions: sessionmaker[Session],
    number: str,
    decision: ApprovalDecision,
    known: Provenance,
    *,
    kind: ApprovalKind | None = None,
    flow_run_id: UUID | None = None,
    api_url: str | None = None,
    timeout_s: float,
) -> Decided:
    """Check, then resume the run with `decision`, within `timeout_s` for the Prefect part.

    `kind`: the approval the caller means (None: whichever is pending). `flow_run_id`: the run
    to resume (None: the one noted on the request). Prefect failures are UNDELIVERED, logged,
    never raised: the approver can simply try again.
    """
    loaded = await anyio.to_thread.run_sync(_load, sessions, number)
    if loaded is None:
        return Decided(Outcome.NO_REQUEST, number, kind=kind)
    record, requester = loaded
    refusal = undecidable(record, decision.approver, kind, requester)
    pending = kind or record.pending_approval()
    if refusal is not None:
        return Decided(Outcome(refusal.value), number, record, pending, flow_run_id)
    assert pending is not None, "undecidable lets through only a request with a pending approval"
    if flow_run_id is None:
        if record.flow_run_id is None:
            return Decided(Outcome.NO_RUN, number, record, pending)
        flow_run_id = UUID(record.flow_run_id)
    purpose = decision_purpose(pending, record.approval_round)
    ticket = await tickets.issue(sessions, known, decision.approver, number, purpose)
    checked = _authorise_and_resume(
        record, requester, pending, flow_run_id, decision, known, api_url
    )
    try:
        outcome, detail = await asyncio.wait_for(checked, timeout_s)
    except TimeoutError:
        outcome, detail = Outcome.UNDELIVERED, f"no answer from Prefect within {timeout_s:g} s"
    except Exception as exc:  # down, unknown run, not configured: the approver can retry
        outcome, detail = Outcome.UNDELIVERED, f"{type(exc).__name__}: {str(exc)[:300]}"
    if outcome not in (Outcome.RESUMED, Outcome.UNDELIVERED):  # undelivered may have resumed
        await tickets.withdraw(sessions, ticket)
    if outcome == Outcome.UNDELIVERED:
        logger.warning("resume of %s for %s failed: %s", flow_run_id, number, detail)
    elif outcome == Outcome.RESUMED:
        verdict = "approved" if decision.approve else "rejected"
        logger.info("%s: %s approval %s by %s", number, pending, verdict, decision.approver)
    return Decided(outcome, number, record, pending, flow_run_id, detail)
