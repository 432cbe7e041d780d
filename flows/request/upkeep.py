"""Scheduled request-fulfilment flows: nothing accepted is lost, no approval waits forever,
no right outlives its reason."""

from prefect import flow

from serviceops.domain.access import ReviewFinding
from tasks.notifications import deliver_notifications
from tasks.request_upkeep import (
    chase_overdue_approvals,
    review_access_grants,
    start_unsubmitted_requests,
)


@flow(name="submit-pending-requests")
def submit_pending_requests() -> list[str]:
    """Start fulfil-request for requests recorded while the Prefect API was down."""
    return start_unsubmitted_requests()


@flow(name="chase-approvals")
def chase_approvals() -> list[str]:
    """Escalate approvals that waited longer than the policy's window."""
    chased = chase_overdue_approvals()
    deliver_notifications()
    return chased


@flow(name="review-access")
def review_access() -> list[ReviewFinding]:
    """Remove expired and leavers' grants, flag movers' grants for review."""
    findings = review_access_grants()
    deliver_notifications()
    return findings
