"""review-access: no right outlives its reason. (Starting requests accepted while Prefect was
away and chasing overdue approvals are parts of the every-minute housekeeping.)"""

from prefect import flow

from serviceops import deployment_names as names
from serviceops.domain.request import ReviewFinding
from tasks.notifications import deliver_notifications
from tasks.request_upkeep import review_access_grants


@flow(name=names.REVIEW_ACCESS)
def review_access() -> list[ReviewFinding]:
    """Remove expired and leavers' grants, flag movers' grants for review."""
    findings = review_access_grants()
    deliver_notifications()
    return findings
