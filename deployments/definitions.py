"""Deployment definitions: names, schedules, tags. A deployment is named after its flow so the
UI, the CLI and prefect.yaml all say `log-incident/log-incident`."""

from datetime import timedelta

from prefect import Flow
from prefect.deployments.runner import RunnerDeployment

from flows.incident.log_incident import log_incident
from flows.incident.major_incident import post_major_updates
from flows.incident.sla_sweep import sla_sweep
from flows.incident.transitions import TRANSITION_FLOWS
from flows.operations.deliver_notifications import deliver_notifications
from flows.request.fulfil_request import fulfil_request
from flows.request.upkeep import chase_approvals, review_access, submit_pending_requests

EVERY_MINUTE = timedelta(minutes=1)
DAILY_AT_SIX = "0 6 * * *"

ON_DEMAND: tuple[Flow, ...] = (log_incident, *TRANSITION_FLOWS, fulfil_request)
EVERY_MINUTE_FLOWS: tuple[Flow, ...] = (
    sla_sweep,
    post_major_updates,
    deliver_notifications,
    submit_pending_requests,
    chase_approvals,
)
DAILY_FLOWS: tuple[Flow, ...] = (review_access,)
SCHEDULED: tuple[Flow, ...] = EVERY_MINUTE_FLOWS + DAILY_FLOWS


def deployment_name(flow: Flow) -> str:
    return f"{flow.name}/{flow.name}"


def runner_deployments() -> list[RunnerDeployment]:
    on_demand = [flow.to_deployment(name=flow.name, tags=["serviceops"]) for flow in ON_DEMAND]
    minutely = [
        flow.to_deployment(name=flow.name, interval=EVERY_MINUTE, tags=["serviceops", "schedule"])
        for flow in EVERY_MINUTE_FLOWS
    ]
    daily = [
        flow.to_deployment(name=flow.name, cron=DAILY_AT_SIX, tags=["serviceops", "schedule"])
        for flow in DAILY_FLOWS
    ]
    return on_demand + minutely + daily
