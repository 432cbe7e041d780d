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

EVERY_MINUTE = timedelta(minutes=1)

ON_DEMAND: tuple[Flow, ...] = (log_incident, *TRANSITION_FLOWS)
SCHEDULED: tuple[Flow, ...] = (sla_sweep, post_major_updates, deliver_notifications)


def deployment_name(flow: Flow) -> str:
    return f"{flow.name}/{flow.name}"


def runner_deployments() -> list[RunnerDeployment]:
    on_demand = [
        flow.to_deployment(name=flow.name, tags=["serviceops", "incident"]) for flow in ON_DEMAND
    ]
    scheduled = [
        flow.to_deployment(name=flow.name, interval=EVERY_MINUTE, tags=["serviceops", "schedule"])
        for flow in SCHEDULED
    ]
    return on_demand + scheduled
