"""fulfil-request: validation, approvals (financial first), fulfilment, closure, requester told.

Waiting for an approver suspends the run: no process is held while people decide. A resume
(the form on the paused run in the Prefect UI, or a Slack button through the gateway) runs the
flow again from the top; every task is idempotent against the request record, and each
suspend has a key per approval and round, so the re-run walks past what is done and picks up
the decision it was given.
"""

from prefect import flow, suspend_flow_run
from prefect.states import Failed, State

from serviceops import deployment_names as names
from serviceops.domain.request import (
    ApprovalDecision,
    RequestState,
    RequestSubmission,
    ServiceRequest,
)
from tasks.board import publish_board
from tasks.fulfilment_steps import STEPS
from tasks.notifications import deliver_notifications
from tasks.request import (
    ask_for_approval,
    begin_fulfilment,
    close_request,
    mark_failed,
    record_decision,
    record_request,
    verify_request,
)


@flow(name=names.FULFIL_REQUEST, persist_result=True)
def fulfil_request(request: RequestSubmission, number: str | None = None) -> str | State:
    """Fulfil one service request from the catalogue (portal, chat bot, CLI; a person in the
    Prefect UI has a form per item: the request-<item> deployments).

    Args:
        request: The submission: requester and a catalogue item with its fields.
        number: Set by the gateway, which has recorded the request already; leave empty
            when submitting from this form.
    """
    return fulfil(request, number)


def fulfil(submission: RequestSubmission, number: str | None) -> str | State:
    """The procedure, for fulfil-request and each item's own deployment alike. The board is
    published when an approval starts waiting and when the request ends."""
    record = record_request(submission, number)
    record = verify_request(record.number)
    while record.state == RequestState.AWAITING_APPROVAL:
        kind = record.pending_approval()
        record = ask_for_approval(record.number)
        deliver_notifications()
        publish_board()
        decision = suspend_flow_run(wait_for_input=ApprovalDecision, key=_pause_key(record))
        record = record_decision(record.number, kind, record.approval_round, decision)
    if record.state == RequestState.REJECTED:
        return _finish(record.state.value)
    record = begin_fulfilment(record.number)
    for name in type(record.details).fulfilment:
        outcome = STEPS[name](record.number, return_state=True)
        if outcome.is_failed():
            mark_failed(record.number, name, outcome.message or "failed")
            return _finish(
                Failed(message=f"{record.number}: step {name} failed: {outcome.message}")
            )
    record = close_request(record.number)
    return _finish(record.state.value)


def _finish(result: str | State) -> str | State:
    deliver_notifications()
    publish_board()
    return result


def _pause_key(request: ServiceRequest) -> str:
    """One suspension per approval and round; Prefect keys allow lowercase, digits, dashes."""
    kind = str(request.pending_approval()).replace("_", "-")
    return f"{kind}-approval-{request.approval_round}"
