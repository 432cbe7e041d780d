"""The service desk board: what is open and who has to act, as one document a person reads
at a glance (the `service-desk` artifact renders it). Per priority the open incidents with the
most urgent first (breached, then least time left), capped so a backlog of thousands stays a
board; the major incidents; the approvals waiting and whose they are; open alerts; open
problems and the known errors added this week. Where a person would act, a link opens the
transition's run form in the Prefect UI with the incident's number filled in."""

import json
from datetime import datetime, timedelta
from urllib.parse import quote

from pydantic import BaseModel, Field

from serviceops.domain.incident import Incident, IncidentState, SlaClock
from serviceops.domain.priority import Priority
from serviceops.domain.request import ApprovalKind
from serviceops.domain.views.incidents import SlaLevel, sla_level
from serviceops.domain.views.oncall import OnCallView

SHOWN_PER_PRIORITY = 20
SHOWN_PER_SECTION = 25


class Link(BaseModel):
    label: str
    url: str


class BoardIncident(BaseModel):
    number: str
    title: str
    priority: Priority | None
    state: IncidentState
    support_group: str | None
    assignee: str | None
    major: bool
    sla: SlaLevel | None = Field(description="The resolution target's level.")
    time_left: timedelta | None = Field(
        description="Until the resolution target (negative: overdue); None: no running clock."
    )
    actions: list[Link] = Field(description="The next legal steps, as run forms.")


class PrioritySection(BaseModel):
    priority: Priority | None
    open: int
    breached: int
    shown: list[BoardIncident]


class BoardApproval(BaseModel):
    number: str
    title: str
    requester: str
    kind: ApprovalKind
    approvers: list[str] = Field(description="Who may give it; empty: nobody can yet.")
    asked_at: datetime | None
    due_at: datetime | None


class BoardAlert(BaseModel):
    number: str
    title: str
    service: str | None
    ci: str | None
    since: datetime
    incident_number: str | None


class BoardProblem(BaseModel):
    number: str
    title: str
    state: str
    priority: Priority | None


class BoardKnownError(BaseModel):
    number: str
    title: str
    created_at: datetime | None


class ServiceDeskBoard(BaseModel):
    at: datetime
    open_incidents: int
    breached: int
    priorities: list[PrioritySection]
    major: list[BoardIncident]
    approvals: list[BoardApproval]
    approvals_waiting: int
    alerts: list[BoardAlert]
    alerts_open: int
    problems: list[BoardProblem]
    problems_open: int
    known_errors: list[BoardKnownError] = Field(description="Added since the week began.")
    on_call: list[OnCallView] = Field(description="Each group's layers: who now, who next.")


def time_left(clock: SlaClock | None, now: datetime) -> timedelta | None:
    """What a running clock has left (negative once due), a paused one's remaining time."""
    if clock is None or clock.stopped_at is not None:
        return None
    if clock.due_at is None:
        return clock.remaining
    return clock.due_at - now


def board_incident(incident: Incident, now: datetime, actions: list[Link]) -> BoardIncident:
    clock = incident.resolution_sla
    return BoardIncident(
        number=incident.number,
        title=incident.title,
        priority=incident.priority,
        state=incident.state,
        support_group=incident.support_group,
        assignee=incident.assignee,
        major=incident.major,
        sla=sla_level(clock, now),
        time_left=time_left(clock, now),
        actions=actions,
    )


def run_form_url(ui_url: str, deployment_id: str, parameters: dict[str, object]) -> str:
    """The deployment's run page in the Prefect UI with its form filled in from `parameters`
    (the UI reads them from the URL)."""
    query = quote(json.dumps(parameters, separators=(",", ":")), safe="")
    return f"{ui_url.rstrip('/')}/deployments/deployment/{deployment_id}/run?parameters={query}"


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of `now`'s week, in `now`'s zone."""
    day = now - timedelta(days=now.weekday())
    return day.replace(hour=0, minute=0, second=0, microsecond=0)
