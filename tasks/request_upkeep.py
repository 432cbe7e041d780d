"""The scheduled side of request fulfilment: start what the gateway could not, chase overdue
approvals, review access rights."""

from datetime import timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from sqlalchemy.orm import Session

from blocks.request_policy import load_request_policy
from serviceops.domain.machine import AuditEntry
from serviceops.domain.request import (
    ApprovalKind,
    ReviewAction,
    ReviewFinding,
    ServiceRequest,
    fulfilment,
    review_grants,
)
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.store.request import IdentityRepository, RequestRepository, SqlProvisioner
from tasks.context import audit, now, sessions
from tasks.fulfilment_steps import PROVISIONER, grant_record

FULFIL_REQUEST = "fulfil-request/fulfil-request"
# The gateway starts a run itself; only what it could not start is picked up, after a grace.
GRACE = timedelta(seconds=30)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def start_unsubmitted_requests() -> list[str]:
    """Requests recorded while the Prefect API was away get their fulfil-request run now.

    The idempotency key is the one the gateway uses, so a run the gateway did create (and
    failed to note) is found, not duplicated.
    """
    with sessions().begin() as session:
        waiting = RequestRepository(session).unsubmitted(now() - GRACE)
    started = []
    for request in waiting:
        run = run_deployment(
            FULFIL_REQUEST,
            parameters={"request": _submission(request), "number": request.number},
            timeout=0,
            idempotency_key=request.run_key,
            as_subflow=False,
        )
        with sessions().begin() as session:
            repository = RequestRepository(session)
            current = repository.get(request.number, for_update=True)
            if current.flow_run_id is None:
                repository.save(current.model_copy(update={"flow_run_id": str(run.id)}))
        started.append(request.number)
    return started


def _submission(request: ServiceRequest) -> dict[str, object]:
    return {
        "requester": request.requester,
        "details": request.details.model_dump(mode="json"),
        "id": request.external_id,
    }


@task(cache_policy=NO_CACHE)
def chase_overdue_approvals() -> list[str]:
    """An approval past the window is escalated to the approver's manager or group, once."""
    policy = load_request_policy()
    at = now()
    chased = []
    with sessions().begin() as session:
        repository = RequestRepository(session)
        for request in repository.approvals_overdue(at):
            kind = request.pending_approval()
            if kind is None:
                continue
            to = _chaser(session, request, kind)
            change = fulfilment.escalate_approval(request, at, to)
            repository.save(change.request)
            audit(session, change.audit)
            Outbox(session).post(
                key=f"{request.number}:approval-escalated:{kind}:{request.approval_round}",
                channel=policy.escalation_channel,
                message=render_message(
                    "approval_escalation",
                    request=change.request,
                    item=type(request.details).catalogue_item(),
                    kind=kind,
                    to=to,
                ),
                record=request.number,
                at=at,
            )
            chased.append(request.number)
    return chased


def _chaser(session: Session, request: ServiceRequest, kind: ApprovalKind) -> str:
    """Who chases: the requester's manager's manager for a manager approval, else the
    approvers' group (the channel's audience)."""
    if kind is ApprovalKind.MANAGER:
        identity = IdentityRepository(session).get(request.requester)
        manager = identity and identity.manager
        boss = manager and IdentityRepository(session).get(manager)
        if boss and boss.manager:
            return boss.manager
    return load_request_policy().approval_channels.get(kind, "the approvers")


@task(cache_policy=NO_CACHE)
def review_access_grants() -> list[ReviewFinding]:
    """Expired grants and leavers' rights are removed, movers' rights flagged; all audited."""
    policy = load_request_policy()
    at = now()
    with sessions().begin() as session:
        provisioner = SqlProvisioner(session)
        findings = review_grants(
            provisioner.grants(active_only=True), IdentityRepository(session).all(), at.date()
        )
        for finding in findings:
            grant = finding.grant
            if finding.action is ReviewAction.REVOKE:
                provisioner.revoke(grant.id, by=PROVISIONER, reason=finding.reason, at=at)
            else:
                provisioner.flag(grant.id, finding.reason, at)
            audit(
                session,
                AuditEntry(
                    record=grant_record(grant.id),
                    action=f"review_{finding.action}",
                    actor="review-access",
                    at=at,
                    from_state="active",
                    to_state="revoked" if finding.action is ReviewAction.REVOKE else "flagged",
                    reason=f"{grant.user} {grant.system}/{grant.role}: {finding.reason}",
                ),
            )
        if findings:
            Outbox(session).post(
                key=f"access-review:{at.isoformat()}",
                channel=policy.access_review_channel,
                message=render_message("access_review", findings=findings),
                record=None,
                at=at,
            )
    return findings
