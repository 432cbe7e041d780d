"""Deciding an approval from outside the flow: check, then resume the suspended run.

fulfil-request suspends for each approval (`suspend_flow_run(wait_for_input=ApprovalDecision)`)
and records the decision itself once resumed. The Slack buttons (gateway.slack) and the CLI
(`serviceops request approve/reject`) both come through `decide`, which checks what it can
cheaply before it touches Prefect:

- the request exists;
- four eyes: the requester cannot decide their own request (the flow refuses it too, but the
  run would then have been resumed for nothing and asked again);
- the request is awaiting approval and, when the caller names one (a Slack button does), that
  approval is the pending one: an old financial button must not answer the manager's question;
- the run is PAUSED when it is resumed; otherwise the decision was taken meanwhile.

The outcome says what happened; each caller words it for its own audience.
"""

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

import anyio.to_thread
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.responses import SetStateStatus
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.fulfilment import requested_by
from serviceops.domain.request import (
    ApprovalDecision,
    ApprovalKind,
    RequestState,
    ServiceRequest,
)
from serviceops.gateway.prefect_api import prefect_client
from serviceops.store.repositories import RecordNotFound
from serviceops.store.requests import RequestRepository

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    RESUMED = "resumed"  # the run has the decision and will record it
    NO_REQUEST = "no_request"
    FOUR_EYES = "four_eyes"  # the approver is the requester: nothing was sent
    NOT_PENDING = "not_pending"  # not awaiting approval, or not this approval
    NO_RUN = "no_run"  # awaiting approval, but no flow run is noted on the request
    NOT_PAUSED = "not_paused"  # the run is not waiting for a decision (decided meanwhile)
    REFUSED = "refused"  # Prefect refused the resume (e.g. input failed the schema)
    UNDELIVERED = "undelivered"  # Prefect down, slow, or the run unknown: try again


@dataclass(frozen=True)
class Decided:
    """What `decide` did. `request` is the record as read before the decision (None when
    there is none); `detail` explains REFUSED, UNDELIVERED and NOT_PAUSED (the run's state)."""

    outcome: Outcome
    number: str
    request: ServiceRequest | None = None
    kind: ApprovalKind | None = None
    flow_run_id: UUID | None = None
    detail: str = ""


def precheck(
    request: ServiceRequest, approver: str, kind: ApprovalKind | None = None
) -> Outcome | None:
    """Why the decision cannot be sent at all, or None when it may be."""
    if requested_by(request, approver):
        return Outcome.FOUR_EYES
    pending = request.pending_approval()
    if request.state != RequestState.AWAITING_APPROVAL or pending is None:
        return Outcome.NOT_PENDING
    if kind is not None and pending != kind:
        return Outcome.NOT_PENDING
    return None


async def resume(
    flow_run_id: UUID, decision: ApprovalDecision, api_url: str | None
) -> tuple[Outcome, str]:
    """RESUMED, NOT_PAUSED (detail: the run's state) or REFUSED (detail: why); raises when
    Prefect cannot answer."""
    async with prefect_client(api_url) as client:
        run = await client.read_flow_run(flow_run_id)
        if run.state is None or run.state.type != StateType.PAUSED:
            return Outcome.NOT_PAUSED, "unknown" if run.state is None else str(run.state.name)
        result = await client.resume_flow_run(
            flow_run_id, run_input=decision.model_dump(mode="json")
        )
    if result.status == SetStateStatus.ACCEPT:
        return Outcome.RESUMED, ""
    if result.status == SetStateStatus.ABORT:
        return Outcome.NOT_PAUSED, "no longer paused"
    reason = getattr(result.details, "reason", None) or result.status.value
    return Outcome.REFUSED, str(reason)[:200]


def _load(sessions: sessionmaker[Session], number: str) -> ServiceRequest | None:
    try:
        with sessions.begin() as session:
            return RequestRepository(session).get(number)
    except RecordNotFound:
        return None


async def decide(
    sessions: sessionmaker[Session],
    number: str,
    decision: ApprovalDecision,
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
    record = await anyio.to_thread.run_sync(_load, sessions, number)
    if record is None:
        return Decided(Outcome.NO_REQUEST, number, kind=kind)
    refusal = precheck(record, decision.approver, kind)
    pending = kind or record.pending_approval()
    if refusal is not None:
        return Decided(refusal, number, record, pending, flow_run_id)
    if flow_run_id is None:
        if record.flow_run_id is None:
            return Decided(Outcome.NO_RUN, number, record, pending)
        flow_run_id = UUID(record.flow_run_id)
    try:
        outcome, detail = await asyncio.wait_for(resume(flow_run_id, decision, api_url), timeout_s)
    except TimeoutError:
        outcome, detail = Outcome.UNDELIVERED, f"no answer from Prefect within {timeout_s:g} s"
    except Exception as exc:  # down, unknown run, not configured: the approver can retry
        outcome, detail = Outcome.UNDELIVERED, f"{type(exc).__name__}: {str(exc)[:300]}"
    if outcome == Outcome.UNDELIVERED:
        logger.warning("resume of %s for %s failed: %s", flow_run_id, number, detail)
    elif outcome == Outcome.RESUMED:
        verdict = "approved" if decision.approve else "rejected"
        logger.info("%s: %s approval %s by %s", number, pending, verdict, decision.approver)
    return Decided(outcome, number, record, pending, flow_run_id, detail)
