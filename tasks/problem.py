"""Problem management tasks: one per step of the ITIL procedure (SO 4.4), each its own
transaction with its audit row and its Slack message."""

from collections.abc import Callable
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel
from sqlalchemy.orm import Session

from blocks.incident_policy import load_policy
from blocks.problem_policy import load_problem_policy
from blocks.slack import load_slack
from serviceops.domain import problem as steps
from serviceops.domain.incident import (
    IncidentState,
    ResolutionCode,
)
from serviceops.domain.incident import steps as incident_steps
from serviceops.domain.machine import AuditEntry
from serviceops.domain.problem import (
    CategorizeProblem,
    CloseProblem,
    InvestigateProblem,
    PrioritizeProblem,
    Problem,
    ProblemChange,
    ProblemCommand,
    ProblemDraft,
    ProblemSource,
    RaiseKnownError,
    RecordWorkaround,
    ResolveProblem,
    ReviewProblem,
)
from serviceops.domain.provenance import PROBLEM_ACTOR
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message, render_text
from serviceops.store.audit import AuditRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.problem import KnownErrorRepository, ProblemRepository, TrendRepository
from tasks import messages
from tasks.context import audit, now, sessions


class DetectedProblems(BaseModel):
    """What one detect-problems run did: the problems it opened and those it added to."""

    opened: list[str]
    updated: list[str]


def _tell(session: Session, channel: str, problem: Problem, entry: AuditEntry) -> None:
    """The problem management channel hears every logged problem and every change."""
    Outbox(session).post(
        key=f"{problem.number}:{entry.action}:{entry.at.isoformat()}",
        channel=channel,
        message=render_message("problem_notice", problem=problem, change=entry),
        record=problem.number,
        at=entry.at,
    )


@task(cache_policy=NO_CACHE)
def record_problem(draft: ProblemDraft) -> Problem:
    """Logging by hand: the record exists, with who logged it, before anything else."""
    channel = load_problem_policy().channel
    with sessions().begin() as session:
        problem = ProblemRepository(session).add(draft, ProblemSource.MANUAL, now())
        entry = steps.logged(problem)
        audit(session, entry)
        _tell(session, channel, problem, entry)
    return problem


@task(cache_policy=NO_CACHE)
def detect_problem_trends() -> DetectedProblems:
    """Trend analysis in SQL over the incident history; each trend gets its one problem."""
    policy, at = load_problem_policy(), now()
    rule = policy.trends
    with sessions().begin() as session:
        problems = ProblemRepository(session)
        trends = TrendRepository(session)
        recorded = trends.record(trends.detect(rule, at), rule, at)
        opened = sorted({r.number for r in recorded if r.created})
        updated = sorted({r.number for r in recorded if r.grew} - set(opened))
        for number in opened:
            problem = problems.get(number, with_incidents=False)
            entry = steps.logged(problem)
            audit(session, entry)
            _tell(session, policy.channel, problem, entry)
        for number in updated:
            problem = problems.get(number, with_incidents=False)
            audit(session, steps.trend_grew(problem, PROBLEM_ACTOR, at))
        for joined in (r for r in recorded if r.joined is not None):
            problem = problems.get(joined.number, with_incidents=False)
            audit(session, steps.trend_joined(problem, joined.joined, PROBLEM_ACTOR, at))
    return DetectedProblems(opened=opened, updated=updated)


def _step(command: ProblemCommand, at: datetime) -> Callable[[Problem], ProblemChange]:
    match command:
        case CategorizeProblem():
            return lambda p: steps.categorize(p, command, at)
        case PrioritizeProblem():
            priorities = load_policy().priorities
            return lambda p: steps.prioritize(p, command, at, policy=priorities)
        case InvestigateProblem():
            return lambda p: steps.investigate(p, command, at)
        case RecordWorkaround():
            return lambda p: steps.record_workaround(p, command, at)
        case RaiseKnownError():
            return lambda p: steps.raise_known_error(p, command, at)
        case ResolveProblem():
            return lambda p: steps.resolve(p, command, at)
        case CloseProblem():
            return lambda p: steps.close(p, command, at)
        case ReviewProblem():
            return lambda p: steps.review(p, command, at)
    raise TypeError(f"no step for {type(command).__name__}")


@task(cache_policy=NO_CACHE)
def change_problem(command: ProblemCommand) -> Problem:
    """One step: legality from the transition table, the change, the known error it raises or
    updates, its audit row and its message are committed together or not at all."""
    step, channel = _step(command, now()), load_problem_policy().channel
    with sessions().begin() as session:
        problems, known_errors = ProblemRepository(session), KnownErrorRepository(session)
        change = step(problems.get(command.number, for_update=True))
        if change.known_error is not None:
            change = change.with_known_error(known_errors.add(change.known_error))
        elif isinstance(command, RecordWorkaround) and change.problem.known_error_number:
            known_errors.set_workaround(change.problem.known_error_number, command.workaround)
        saved = problems.save(change.problem)
        audit(session, change.audit)
        _tell(session, channel, saved, change.audit)
    return saved


@task(cache_policy=NO_CACHE)
def resolve_linked_incidents(number: str) -> list[str]:
    """Closure: every linked incident still open is resolved with the problem's resolution
    (and its known error's workaround), and its reporter is told. Returns those resolved.

    An incident still new (never assigned) cannot be resolved by the transition table; it is
    noted instead, for its group to pick up.
    """
    slack = load_slack()
    resolved = []
    with sessions().begin() as session:
        problem = ProblemRepository(session).get(number)
        incidents = IncidentRepository(session)
        for incident_number in problem.incident_numbers:
            incident = incidents.get(incident_number, for_update=True)
            if not incident.is_open:
                continue
            at = now()
            if incident.state is IncidentState.NEW:
                change = incident_steps.note(
                    incident, PROBLEM_ACTOR, at, f"{number} closed; still new here"
                )
                incidents.save(change.incident)
                audit(session, change.audit)
                continue
            notes = _resolution_notes(problem)
            change = incident_steps.resolve(incident, PROBLEM_ACTOR, at, _code(problem), notes)
            saved = incidents.save(change.incident)
            audit(session, change.audit)
            messages.queue_change(session, slack, saved, change.audit)
            Outbox(session).post(
                key=f"{saved.number}:fixed-by:{number}",
                channel=messages.incident_channel(slack, saved),
                message=render_message("problem_fixed", incident=saved, problem=problem),
                record=saved.number,
                at=at,
            )
            resolved.append(saved.number)
    return resolved


@task(cache_policy=NO_CACHE)
def publish_problem_review(number: str) -> str:
    """The major problem review: the markdown report, and its summary queued for Slack."""
    with sessions().begin() as session:
        problem = ProblemRepository(session).get(number)
        incidents = IncidentRepository(session)
        linked = [incidents.get(n) for n in problem.incident_numbers]
        trail = AuditRepository(session).for_record(number)
        Outbox(session).post(
            key=f"{number}:review-summary:{(problem.reviewed_at or now()).isoformat()}",
            channel=load_problem_policy().channel,
            message=render_message("problem_review", problem=problem),
            record=number,
            at=now(),
        )
    return render_text("problem_review", problem=problem, incidents=linked, audit=trail)


def _resolution_notes(problem: Problem) -> str:
    notes = f"Root cause removed by {problem.number}"
    if problem.change_ref:
        notes += f" (change {problem.change_ref})"
    notes += f": {problem.resolution or problem.root_cause or problem.title}"
    if problem.known_error_number:
        notes += f". Known error {problem.known_error_number}."
    return notes


def _code(problem: Problem) -> ResolutionCode:
    return ResolutionCode.FIXED if problem.change_ref else ResolutionCode.WORKAROUND
