"""The service desk board: the `service-desk` markdown artifact, refreshed by housekeeping
every minute and by every flow that changes what it shows (incidents, requests, problems).
An artifact with a fixed key keeps its history, so the UI shows the latest board and what it
was. Reading it costs a handful of queries whatever the backlog (counts, then the few most
urgent per priority): bench/board_refresh.py measures it over 10,000 open incidents."""

from dataclasses import dataclass
from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.settings import get_current_settings
from sqlalchemy.orm import Session

from blocks.request_policy import load_request_policy
from serviceops.domain.event import AlertState
from serviceops.domain.incident import Incident
from serviceops.domain.incident.steps import STEPS, next_steps
from serviceops.domain.problem import OPEN_PROBLEM_STATES
from serviceops.domain.request import RequestPolicy, RequestState, approvers_for
from serviceops.domain.views import OnCallView, on_call_document
from serviceops.domain.views.board import (
    SHOWN_PER_PRIORITY,
    SHOWN_PER_SECTION,
    BoardAlert,
    BoardApproval,
    BoardKnownError,
    BoardProblem,
    Link,
    PrioritySection,
    ServiceDeskBoard,
    board_incident,
    run_form_url,
    week_start,
)
from serviceops.notify.render import render_text
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event import AlertRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import OverrideRepository
from serviceops.store.problem import KnownErrorRepository, ProblemRepository
from serviceops.store.request import IdentityRepository, RequestRepository
from tasks.context import now, sessions

BOARD_KEY = "service-desk"


@dataclass(frozen=True)
class TransitionForms:
    """Where each transition's run form is in the Prefect UI (deployment ids by flow name),
    so the board links every incident's next steps."""

    ids: dict[str, str]
    ui_url: str

    @classmethod
    def from_prefect(cls) -> "TransitionForms":
        """One lookup of the transitions' deployments on the configured Prefect server."""
        names = [command.flow_name for command in STEPS]
        with get_client(sync_client=True) as client:
            found = client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=names))
            )
        ids = {deployment.name: str(deployment.id) for deployment in found}
        return cls(ids=ids, ui_url=get_current_settings().ui_url or "")

    def links(self, incident: Incident) -> list[Link]:
        """The incident's next legal steps, each its form with the number filled in."""
        return [
            Link(
                label=command.label,
                url=run_form_url(
                    self.ui_url,
                    self.ids[command.flow_name],
                    {"command": {"number": incident.number}},
                ),
            )
            for command in next_steps(incident)
            if command.flow_name in self.ids and self.ui_url
        ]


def build_board(
    session: Session, policy: RequestPolicy, forms: TransitionForms, at: datetime
) -> ServiceDeskBoard:
    incidents = IncidentRepository(session)
    counts = incidents.open_by_priority(at)
    priorities = [
        PrioritySection(
            priority=priority,
            open=total,
            breached=late,
            shown=[
                board_incident(incident, at, forms.links(incident))
                for incident in incidents.most_urgent(priority, SHOWN_PER_PRIORITY)
            ],
        )
        for priority, (total, late) in sorted(counts.items(), key=lambda kv: kv[0] or 99)
    ]
    return ServiceDeskBoard(
        at=at,
        open_incidents=sum(total for total, _ in counts.values()),
        breached=sum(late for _, late in counts.values()),
        priorities=priorities,
        major=[board_incident(i, at, forms.links(i)) for i in incidents.open_major()],
        **_approvals(session, policy),
        **_alerts(session),
        **_problems(session, at),
        on_call=_on_call(session, at),
    )


def _on_call(session: Session, at: datetime) -> list[OnCallView]:
    schedules = CatalogueRepository(session).catalogue().oncall
    return on_call_document(schedules, OverrideRepository(session).current(at), at).oncall


def _approvals(session: Session, policy: RequestPolicy) -> dict[str, object]:
    requests = RequestRepository(session)
    waiting = requests.list(state=RequestState.AWAITING_APPROVAL, limit=SHOWN_PER_SECTION)
    identities = IdentityRepository(session)
    approvals = []
    for request in waiting:
        kind = request.pending_approval()
        if kind is None:
            continue
        requester = identities.get(request.requester)
        approvals.append(
            BoardApproval(
                number=request.number,
                title=type(request.details).title,
                requester=request.requester,
                kind=kind,
                approvers=approvers_for(request, kind, requester=requester, policy=policy),
                asked_at=request.approval_requested_at,
                due_at=request.approval_due_at,
            )
        )
    count = requests.count(state=RequestState.AWAITING_APPROVAL)
    return {"approvals": approvals, "approvals_waiting": count}


def _alerts(session: Session) -> dict[str, object]:
    alerts = AlertRepository(session)
    shown = alerts.list(state=AlertState.OPEN, limit=SHOWN_PER_SECTION)
    return {
        "alerts": [
            BoardAlert(
                number=alert.number or "",
                title=alert.title,
                service=alert.service,
                ci=alert.ci,
                since=alert.first_event_at,
                incident_number=alert.incident_number,
            )
            for alert in shown
        ],
        "alerts_open": alerts.count(state=AlertState.OPEN),
    }


def _problems(session: Session, at: datetime) -> dict[str, object]:
    problems = ProblemRepository(session)
    open_problems = [
        problem
        for state in sorted(OPEN_PROBLEM_STATES)
        for problem in problems.list(state=state, limit=SHOWN_PER_SECTION)
    ]
    since = week_start(at)
    added = [
        known
        for known in KnownErrorRepository(session).list(limit=SHOWN_PER_SECTION)
        if known.created_at is not None and known.created_at >= since
    ]
    return {
        "problems": [
            BoardProblem(number=p.number, title=p.title, state=p.state.value, priority=p.priority)
            for p in open_problems[:SHOWN_PER_SECTION]
        ],
        "problems_open": problems.count(states=OPEN_PROBLEM_STATES),
        "known_errors": [
            BoardKnownError(number=k.number, title=k.title, created_at=k.created_at) for k in added
        ],
    }


@task(cache_policy=NO_CACHE)
def publish_board(forms: TransitionForms | None = None) -> int:
    """Publish the board; returns the open incidents it counted. `forms`: the transitions'
    forms when the caller has looked them up already."""
    policy, at = load_request_policy(), now()
    forms = forms or TransitionForms.from_prefect()
    with sessions().begin() as session:
        board = build_board(session, policy, forms, at)
    create_markdown_artifact(
        key=BOARD_KEY,
        markdown=render_text("service_desk", board=board),
        description=f"The service desk at {at:%Y-%m-%d %H:%M} UTC",
    )
    return board.open_incidents
