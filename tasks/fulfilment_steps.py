"""Fulfilment steps: reusable tasks with retries, named in the catalogue.

Each step does its work and records itself as completed in the same transaction, so a re-run
skips it: rights go through the Provisioner (a SQL table of grants here), the manual steps
(hardware, software, passwords) become work orders for the team that carries them out.
"""

from collections.abc import Callable
from datetime import datetime

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from blocks.request_policy import load_request_policy
from blocks.slack import load_slack
from serviceops.domain.machine import AuditEntry
from serviceops.domain.request import FulfilmentStep, ServiceRequest, access_target, fulfilment
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.store.request import RequestRepository, SqlProvisioner
from tasks.context import audit, now, sessions

PROVISIONER = "serviceops"


def grant_record(grant_id: int) -> str:
    """Grants are audited under their own record number, ACC-000042."""
    return f"ACC-{grant_id:06d}"


def _run_step(
    name: str, work: Callable[[Session, ServiceRequest, datetime], str]
) -> Callable[[str], ServiceRequest]:
    def run(number: str) -> ServiceRequest:
        with sessions().begin() as session:
            repository = RequestRepository(session)
            request = repository.get(number, for_update=True)
            if name in request.completed_steps:
                return request
            at = now()
            note = work(session, request, at)
            change = fulfilment.complete_step(request, name, at, note)
            saved = repository.save(change.request)
            audit(session, change.audit)
        return saved

    return run


def _provide(session: Session, request: ServiceRequest, at: datetime) -> str:
    target = access_target(request.details)
    if target is None:
        raise ValueError(f"{request.number} is not an access request")
    user, system, role = target
    grant = SqlProvisioner(session).grant(
        user=user, system=system, role=role, expires_on=request.details.expires_on(),
        by=PROVISIONER, request=request.number, at=at,
    )  # fmt: skip
    audit(session, _grant_audit(grant.id, "grant", at, f"{system}/{role} to {user}", request))
    return f"granted {system}/{role} to {user} ({grant_record(grant.id)})"


def _remove(session: Session, request: ServiceRequest, at: datetime) -> str:
    target = access_target(request.details)
    if target is None:
        raise ValueError(f"{request.number} is not an access request")
    user, system, role = target
    provisioner = SqlProvisioner(session)
    held = [g for g in provisioner.grants(user=user) if (g.system, g.role) == (system, role)]
    for grant in held:
        provisioner.revoke(grant.id, by=PROVISIONER, reason=request.number, at=at)
        audit(session, _grant_audit(grant.id, "revoke", at, f"{system}/{role} of {user}", request))
    return f"revoked {len(held)} grant(s) of {system}/{role} from {user}"


def _grant_audit(
    grant_id: int, action: str, at: datetime, what: str, request: ServiceRequest
) -> AuditEntry:
    return AuditEntry(
        record=grant_record(grant_id),
        action=action,
        actor=PROVISIONER,
        at=at,
        from_state=None if action == "grant" else "active",
        to_state="active" if action == "grant" else "revoked",
        reason=f"{what} for {request.number}",
    )


def _work_order(step: str) -> Callable[[Session, ServiceRequest, datetime], str]:
    def work(session: Session, request: ServiceRequest, at: datetime) -> str:
        channel = load_request_policy().work_order_channels.get(step, load_slack().default_channel)
        Outbox(session).post(
            key=f"{request.number}:work-order:{step}",
            channel=channel,
            message=render_message(
                "work_order",
                request=request,
                item=type(request.details).catalogue_item(),
                step=step,
                details=request.details.model_dump(mode="json"),
            ),
            record=request.number,
            at=at,
        )
        return f"work order sent to {channel}"

    return work


def _step_task(name: str, work: Callable[[Session, ServiceRequest, datetime], str]) -> Task:
    return task(
        _run_step(str(name), work),
        name=str(name),
        cache_policy=NO_CACHE,
        retries=2,
        retry_delay_seconds=5,
    )


# The steps people carry out: each is a work order to the team the request policy names.
WORK_ORDERS = (
    FulfilmentStep.ORDER_HARDWARE,
    FulfilmentStep.HAND_OVER_HARDWARE,
    FulfilmentStep.INSTALL_SOFTWARE,
    FulfilmentStep.RESET_PASSWORD,
)
STEPS: dict[FulfilmentStep, Task] = {
    FulfilmentStep.PROVIDE_ACCESS: _step_task(FulfilmentStep.PROVIDE_ACCESS, _provide),
    FulfilmentStep.REMOVE_ACCESS: _step_task(FulfilmentStep.REMOVE_ACCESS, _remove),
    **{step: _step_task(step, _work_order(step)) for step in WORK_ORDERS},
}
