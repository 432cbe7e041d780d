"""Problem management through real flow runs: trend detection opens one problem per trend,
the lifecycle raises a known error that diagnoses the next incident, closure resolves the
linked incidents and tells their reporters, and the major review leaves a report."""

from datetime import UTC, datetime
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from sqlalchemy.orm import Session, sessionmaker

from flows.incident.log_incident import log_incident
from flows.problem.detect_problems import detect_problems
from flows.problem.lifecycle import (
    close_problem,
    investigate_problem,
    log_problem,
    prioritize_problem,
    raise_known_error,
    resolve_problem,
    review_major_problem,
)
from serviceops.domain.incident import IncidentDraft, IncidentState, ResolutionCode
from serviceops.domain.machine import IllegalTransition
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.problem import (
    CloseProblem,
    InvestigateProblem,
    PrioritizeProblem,
    ProblemDraft,
    ProblemState,
    RaiseKnownError,
    ResolveProblem,
    ReviewProblem,
)
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import ProblemRepository


def incident(title: str, service: str = "mail", reporter: str = "U0ALICE01") -> IncidentDraft:
    return IncidentDraft(
        title=title,
        description="Messages stay in the outbound queue for an hour",
        service=service,
        ci="mx-1",
        category="software/email",
        impact=Impact.MEDIUM,
        urgency=Urgency.MEDIUM,
        reporter=reporter,
    )


def problems(sessions: sessionmaker[Session]) -> list[Any]:
    with sessions.begin() as session:
        return ProblemRepository(session).list()


def test_six_recurring_incidents_give_one_problem_over_two_detection_runs(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    for n in range(3):
        log_incident(incident(f"Mail delayed {n}"))
    printer = {"ci": "prn-1", "category": "hardware/printer"}
    log_incident(incident("Printer jam", service="printing").model_copy(update=printer))
    first = detect_problems()
    # mail by service, mx-1 by CI, software/email by category: the same three incidents,
    # one cause, one problem with every dimension on it
    (problem,) = problems(sessions)
    assert first.opened == [problem.number] and first.updated == []
    assert (problem.trend_key, problem.service, problem.ci, problem.category) == (
        "service:mail",
        "mail",
        "mx-1",
        "software/email",
    )
    assert problem.frequency == 3
    for n in range(3):
        log_incident(incident(f"Mail delayed again {n}"))
    second = detect_problems()
    assert second.opened == [] and second.updated == [problem.number]
    (again,) = problems(sessions)
    assert (again.number, again.frequency) == (problem.number, 6)
    with sessions.begin() as session:
        trail = [row.reason for row in AuditRepository(session).for_record(problem.number)]
    assert sum("trend joined it" in reason for reason in trail) == 2
    told = [m for m in fake_slack.messages if m["channel"] == "#problem-management"]
    assert len(told) == 1  # the problem logged, nothing for the second run


def test_problem_lifecycle_known_error_diagnosis_and_closure(
    serviceops_env: str, sessions: sessionmaker[Session], fake_slack: Any
) -> None:
    linked = [log_incident(incident(f"Mail delayed {n}")) for n in range(3)]
    number = log_problem(
        ProblemDraft(
            title="Mail queue stalls",
            service="mail",
            ci="mx-1",
            category="software/email",
            reporter="U0PAT0001",
        )
    )
    with sessions.begin() as session:
        ProblemRepository(session).link(number, linked, datetime.now(UTC))
    with pytest.raises(IllegalTransition):
        resolve_problem(
            ResolveProblem(number=number, actor="pat", change_ref="CHG-1", resolution="too early")
        )
    prioritize_problem(
        PrioritizeProblem(number=number, actor="pat", impact="high", urgency="medium")
    )
    investigate_problem(
        InvestigateProblem(
            number=number,
            actor="pat",
            notes="queue grows at 9",
            root_cause="DNS resolver times out",
        )
    )
    assert (
        raise_known_error(
            RaiseKnownError(
                number=number,
                actor="pat",
                title="Mail stalls on DNS timeouts",
                symptom="mail delayed outbound queue",
                root_cause="DNS resolver times out",
                workaround="Restart the resolver on mx-1",
                affected_cis=["mx-1"],
            )
        )
        == ProblemState.KNOWN_ERROR.value
    )

    diagnosed = log_incident(incident("Outbound mail delayed", reporter="U0BOB0001"))
    with sessions.begin() as session:
        later = IncidentRepository(session).get(diagnosed)
        trail = AuditRepository(session).for_record(diagnosed)
    assert later.known_error is not None
    assert later.known_error.workaround == "Restart the resolver on mx-1"
    assert any(e.action == "diagnose" and later.known_error.number in e.reason for e in trail)

    resolve_problem(
        ResolveProblem(
            number=number,
            actor="pat",
            change_ref="CHG-42",
            resolution="Resolver moved to a local cache",
        )
    )
    assert close_problem(CloseProblem(number=number, actor="pat")) == "closed"
    with sessions.begin() as session:
        closed = [IncidentRepository(session).get(n) for n in linked]
        trails = [AuditRepository(session).for_record(n) for n in linked]
    assert all(i.state is IncidentState.RESOLVED for i in closed)
    assert all(i.resolution_code is ResolutionCode.FIXED for i in closed)
    assert all("CHG-42" in (i.resolution_notes or "") for i in closed)
    assert all(t[-1].action == "resolve" and t[-1].actor == "problem-management" for t in trails)
    fixed = [m for m in fake_slack.messages if "resolved by" in m["text"]]
    assert sorted(m["text"].split()[0] for m in fixed) == sorted(linked)
    assert all("<@U0ALICE01>" in str(m["blocks"]) for m in fixed)

    review_major_problem(
        ReviewProblem(
            number=number,
            actor="pat",
            summary="Three days of delayed mail",
            lessons="Monitor resolver latency",
        )
    )
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"problem-review-{number.lower()}"])
            )
        )
    assert "Monitor resolver latency" in str(artifact.data)
    assert all(n in str(artifact.data) for n in linked)
    assert any("Major problem review" in m["text"] for m in fake_slack.messages)
