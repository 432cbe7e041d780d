"""Deployment definitions: names, schedules, tags, parameters. A deployment is named after its
flow (`log-incident/log-incident`) except the routine checks: one flow, run-checks, deployed
once per kind of check (`run-checks/http-checks`), each on the catalogue's schedule; and the
ops report: one flow, ops-report, deployed daily and weekly (`ops-report/daily-report`).
Each deployment is tagged with its ITIL process, so the Deployments page filters by process."""

import json
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from prefect import Flow
from prefect.deployments.runner import RunnerDeployment

from flows.event.process_events import process_events
from flows.event.record_missed_check import record_missed_check
from flows.event.silences import SILENCE_FLOWS
from flows.incident.log_incident import log_incident
from flows.incident.transitions import TRANSITION_FLOWS
from flows.oncall.paging import acknowledge_page_flow, page_on_call
from flows.oncall.set_override import set_oncall_override
from flows.operations.housekeeping import housekeeping
from flows.operations.ops_report import ops_report
from flows.operations.run_checks import run_checks
from flows.problem.detect_problems import detect_problems
from flows.problem.lifecycle import PROBLEM_FLOWS, log_problem
from flows.request.fulfil_request import fulfil_request
from flows.request.request_items import REQUEST_ITEM_FLOWS
from flows.request.upkeep import review_access
from serviceops import deployment_names as names
from serviceops.domain.cmdb import DEFAULT_SCHEDULES, CheckKind
from serviceops.domain.report import ReportKind
from serviceops.domain.request import ACCESS_TYPES

EVERY_MINUTE = timedelta(minutes=1)
EVERY_HOUR = timedelta(hours=1)
DAILY_AT_SIX = "0 6 * * *"
MONDAYS_AT_SIX = "0 6 * * 1"
TAGS = ["serviceops"]


class Process(StrEnum):
    """The ITIL Service Operation process a deployment belongs to: its tag."""

    INCIDENT = "incident"
    REQUEST = "request"
    ACCESS = "access"
    EVENT = "event"
    PROBLEM = "problem"
    ONCALL = "oncall"
    OPERATIONS = "operations"


ON_DEMAND: tuple[Flow, ...] = (
    log_incident,
    *TRANSITION_FLOWS,
    fulfil_request,
    *REQUEST_ITEM_FLOWS,
    record_missed_check,
    *SILENCE_FLOWS,
    log_problem,
    *PROBLEM_FLOWS,
    set_oncall_override,
    page_on_call,
    acknowledge_page_flow,
)
EVERY_MINUTE_FLOWS: tuple[Flow, ...] = (housekeeping,)
# Event management is a watch: each run watches longer than the minute between two starts, so
# one is always watching (see flows/event/process_events.py).
EVENT_FLOW: Flow = process_events
EVENT_WATCH_S = 90
HOURLY_FLOWS: tuple[Flow, ...] = (detect_problems,)
DAILY_FLOWS: tuple[Flow, ...] = (review_access,)
CHECK_FLOW: Flow = run_checks
REPORT_FLOW: Flow = ops_report
REPORT_SCHEDULES: dict[ReportKind, str] = {
    ReportKind.DAILY: DAILY_AT_SIX,
    ReportKind.WEEKLY: MONDAYS_AT_SIX,
}
SCHEDULED: tuple[Flow, ...] = (
    *EVERY_MINUTE_FLOWS,
    EVENT_FLOW,
    *HOURLY_FLOWS,
    *DAILY_FLOWS,
    REPORT_FLOW,
    CHECK_FLOW,
)
_ACCESS_ITEMS = {names.request_item_flow(item.type_name()) for item in ACCESS_TYPES}
PROCESSES: dict[str, Process] = {
    **{flow.name: Process.INCIDENT for flow in (log_incident, *TRANSITION_FLOWS)},
    **{
        flow.name: Process.ACCESS if flow.name in _ACCESS_ITEMS else Process.REQUEST
        for flow in (fulfil_request, *REQUEST_ITEM_FLOWS)
    },
    review_access.name: Process.ACCESS,
    **{
        flow.name: Process.EVENT
        for flow in (EVENT_FLOW, record_missed_check, *SILENCE_FLOWS, CHECK_FLOW)
    },
    **{flow.name: Process.PROBLEM for flow in (log_problem, *PROBLEM_FLOWS, *HOURLY_FLOWS)},
    **{f.name: Process.ONCALL for f in (set_oncall_override, page_on_call, acknowledge_page_flow)},
    **{flow.name: Process.OPERATIONS for flow in (*EVERY_MINUTE_FLOWS, REPORT_FLOW)},
}


@dataclass(frozen=True)
class Definition:
    flow: Flow
    name: str
    interval: timedelta | None = None
    cron: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    process: Process | None = None  # None: the flow's own, from PROCESSES

    @property
    def full_name(self) -> str:
        return f"{self.flow.name}/{self.name}"

    @property
    def scheduled(self) -> bool:
        return self.interval is not None or self.cron is not None

    @property
    def itil_process(self) -> Process:
        return self.process or PROCESSES[self.flow.name]

    @property
    def tags(self) -> list[str]:
        tags = [*TAGS, self.itil_process.value]
        return [*tags, "schedule"] if self.scheduled else tags

    def to_deployment(self) -> RunnerDeployment:
        return self.flow.to_deployment(
            name=self.name,
            interval=self.interval,
            cron=self.cron,
            parameters=self.parameters,
            tags=self.tags,
        )


def definitions(check_schedules: dict[CheckKind, int] | None = None) -> list[Definition]:
    """Every deployment; `check_schedules` (seconds per kind, from the service catalogue)
    override the default intervals of the routine checks."""
    schedules = DEFAULT_SCHEDULES | (check_schedules or {})
    return [
        *(Definition(flow, flow.name) for flow in ON_DEMAND),
        *(Definition(flow, flow.name, interval=EVERY_MINUTE) for flow in EVERY_MINUTE_FLOWS),
        Definition(
            EVENT_FLOW,
            EVENT_FLOW.name,
            interval=EVERY_MINUTE,
            parameters={"watch_seconds": EVENT_WATCH_S},
        ),
        *(Definition(flow, flow.name, interval=EVERY_HOUR) for flow in HOURLY_FLOWS),
        *(Definition(flow, flow.name, cron=DAILY_AT_SIX) for flow in DAILY_FLOWS),
        *(
            Definition(
                REPORT_FLOW,
                names.report_deployment(kind.value),
                cron=cron,
                parameters={"kind": kind.value},
            )
            for kind, cron in REPORT_SCHEDULES.items()
        ),
        *(
            Definition(
                CHECK_FLOW,
                names.check_deployment(kind.value),
                interval=timedelta(seconds=schedules[kind]),
                parameters={"kind": kind.value},
            )
            for kind in CheckKind
        ),
    ]


def main() -> None:
    """Print the deployment names as JSON, on demand (serve) and scheduled (the routine
    runner): what `serviceops up` waits for before it calls each process ready."""
    listed = definitions()
    names_by_kind = {
        "on_demand": [d.name for d in listed if not d.scheduled],
        "scheduled": [d.name for d in listed if d.scheduled],
    }
    print(json.dumps(names_by_kind))


if __name__ == "__main__":
    main()
