"""Request-fulfilment tasks: each step one transaction with its audit row, and idempotent, so
a re-run (after a suspend, or the Retry of a failed run) never repeats what already happened."""

import json
from collections.abc import Callable

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from blocks.request_policy import load_request_policy
from blocks.slack import load_slack
from serviceops.domain.provenance import FORM, Provenance
from serviceops.domain.request import (
    AccessRevoke,
    ApprovalDecision,
    ApprovalKind,
    CatalogueItem,
    RequestChange,
    RequestPolicy,
    RequestState,
    RequestSubmission,
    ServiceRequest,
    access_target,
    fulfilment,
    verify_access,
)
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.store.request import IdentityRepository, RequestRepository
from serviceops.store.tickets import TicketRepository, decision_purpose
from tasks.context import audit, current_flow_run_id, now, sessions

UI_SOURCE = "prefect-ui"


def _apply(
    number: str, step: Callable[[Session, ServiceRequest], RequestChange | None]
) -> ServiceRequest:
    """Load under a row lock, apply one step (None: nothing to do), save, audit."""
    with sessions().begin() as session:
        repository = RequestRepository(session)
        request = repository.get(number, for_update=True)
        change = step(session, request)
        if change is None:
            return request
        saved = repository.save(change.request)
        audit(session, change.audit)
    return saved


def _item_of(request: ServiceRequest) -> CatalogueItem:
    return type(request.details).catalogue_item()


def _tell_requester(session: Session, policy: RequestPolicy, request: ServiceRequest) -> None:
    Outbox(session).post(
        key=f"{request.number}:update:{request.state}:{request.updated_at.isoformat()}",
        channel=policy.requests_channel,
        message=render_message("request_update", request=request, item=_item_of(request)),
        record=request.number,
        at=request.updated_at,
    )


@task(cache_policy=NO_CACHE)
def record_request(submission: RequestSubmission, number: str | None) -> ServiceRequest:
    """Identification and logging. The gateway has recorded it already (number given); a
    submission from the Prefect UI is recorded here once, keyed by this flow run."""
    with sessions().begin() as session:
        repository = RequestRepository(session)
        if number is not None:
            request = repository.get(number)
        else:
            key = submission.id or f"flow-run:{current_flow_run_id()}"
            request = repository.find_external(UI_SOURCE, key)
            if request is None:
                keyed = submission.model_copy(update={"id": key})
                request = repository.add(keyed, source=UI_SOURCE, at=now())
                audit(session, fulfilment.submitted(request))
        if request.flow_run_id is None:
            request = repository.save(
                request.model_copy(update={"flow_run_id": current_flow_run_id()})
            )
    return request


@task(cache_policy=NO_CACHE)
def verify_request(number: str) -> ServiceRequest:
    """Validation and, for access, verification (identity, entitlement); then the approvals
    the catalogue asks for. A request that fails verification is rejected."""
    policy = load_request_policy()

    def step(session: Session, request: ServiceRequest) -> RequestChange | None:
        if request.state != RequestState.SUBMITTED:
            return None
        at = now()
        target = access_target(request.details)
        if target is not None and not isinstance(request.details, AccessRevoke):
            user, system, role = target
            identity = IdentityRepository(session).get(user)
            problems = verify_access(identity, policy.access_for(system), role)
            if problems:
                change = fulfilment.reject(request, "serviceops", at, "; ".join(problems))
                _tell_requester(session, policy, change.request)
                return change
        return fulfilment.settle_approvals(request, at)

    return _apply(number, step)


@task(cache_policy=NO_CACHE)
def ask_for_approval(number: str) -> ServiceRequest:
    """Post the approval request with buttons, once per approval and round."""
    policy, slack = load_request_policy(), load_slack()

    def step(session: Session, request: ServiceRequest) -> RequestChange | None:
        kind = request.pending_approval()
        if kind is None:
            return None
        key = f"{request.number}:approval:{kind}:{request.approval_round}"
        button = {"number": request.number, "kind": kind, "flow_run_id": current_flow_run_id()}
        message = render_message(
            "request_approval",
            request=request,
            item=_item_of(request),
            kind=kind,
            details=request.details.model_dump(mode="json"),
            button_value=json.dumps(button),
        )
        channel = policy.approval_channels.get(kind, slack.default_channel)
        posted = Outbox(session).post(
            key=key, channel=channel, message=message, record=request.number, at=now()
        )
        if not posted:
            return None  # asked already in an earlier run of this flow
        return fulfilment.ask_approval(request, now(), policy.approval_window)

    return _apply(number, step)


@task(cache_policy=NO_CACHE)
def record_decision(
    number: str, kind: ApprovalKind, round_: int, decision: ApprovalDecision
) -> ServiceRequest:
    """Authority first (four eyes, and the manager, owner or financial approver the approval
    needs), then approve or reject. The form on the paused run accepts any name, so the rule
    the gateway and the CLI check before resuming is checked here again: a refused decision
    is recorded with why, and the approval is asked again. A decision already recorded (a
    re-run of the flow after a later suspend) is not recorded twice. How the approver was
    known is the ticket the gateway or the CLI wrote before resuming; without one, the name
    was typed into that form."""
    policy = load_request_policy()

    def step(session: Session, request: ServiceRequest) -> RequestChange | None:
        if request.pending_approval() != kind or request.approval_round != round_:
            return None
        if request.state != RequestState.AWAITING_APPROVAL:
            return None
        known = _decision_provenance(session, request, decision)
        requester = IdentityRepository(session).person(request.requester)
        refusal = fulfilment.approval_refusal(
            request, kind, decision.approver, requester=requester, policy=policy, known=known
        )
        if refusal is not None:
            change = fulfilment.refuse(request, decision, now(), refusal)
        else:
            change = fulfilment.decide(request, kind, decision, now())
            if change.request.state == RequestState.REJECTED:
                _tell_requester(session, policy, change.request)
        return change.model_copy(update={"audit": change.audit.known_through(known)})

    return _apply(number, step)


def _decision_provenance(
    session: Session, request: ServiceRequest, decision: ApprovalDecision
) -> Provenance:
    """The channel of the ticket written for this decision, else the form's."""
    run_id = current_flow_run_id()
    if run_id is None:
        return FORM
    purpose = decision_purpose(str(request.pending_approval()), request.approval_round)
    claimed = TicketRepository(session).claim_for(
        request.number, purpose, decision.approver, run_id
    )
    return claimed or FORM


@task(cache_policy=NO_CACHE)
def begin_fulfilment(number: str) -> ServiceRequest:
    def step(_: Session, request: ServiceRequest) -> RequestChange | None:
        if request.state == RequestState.FULFILLING:
            return None
        return fulfilment.start_fulfilment(request, now())

    return _apply(number, step)


@task(cache_policy=NO_CACHE)
def mark_failed(number: str, step_name: str, error: str) -> ServiceRequest:
    policy = load_request_policy()

    def step(session: Session, request: ServiceRequest) -> RequestChange | None:
        change = fulfilment.fail(request, step_name, now(), error)
        _tell_requester(session, policy, change.request)
        return change

    return _apply(number, step)


@task(cache_policy=NO_CACHE)
def close_request(number: str) -> ServiceRequest:
    """Fulfilled, closed, and the requester told: one transaction."""
    policy = load_request_policy()

    def step(session: Session, request: ServiceRequest) -> RequestChange | None:
        if request.state == RequestState.CLOSED:
            return None
        fulfilled = fulfilment.fulfil(request, now())
        audit(session, fulfilled.audit)
        closed = fulfilment.close(fulfilled.request, now())
        _tell_requester(session, policy, closed.request)
        return closed

    return _apply(number, step)
