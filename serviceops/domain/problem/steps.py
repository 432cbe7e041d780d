"""Each problem step as a pure function: problem + command + instant in, a `ProblemChange`
(the new problem, its audit entry, the known error raised) out. Nothing here reads a clock or
a database."""

from datetime import datetime

from pydantic import BaseModel

from serviceops.domain.categories import clean_category
from serviceops.domain.machine import (
    AuditEntry,
    change_entry,
    first_entry,
    note_entry,
)
from serviceops.domain.priority import Impact, Priority, PriorityPolicy, Urgency
from serviceops.domain.problem.commands import (
    FREQUENT_INCIDENTS,
    CategorizeProblem,
    CloseProblem,
    InvestigateProblem,
    PrioritizeProblem,
    ProblemCommand,
    RaiseKnownError,
    RecordWorkaround,
    ResolveProblem,
    ReviewProblem,
)
from serviceops.domain.problem.kedb import (
    NEW_KNOWN_ERROR,
    KnownError,
)
from serviceops.domain.problem.record import (
    PROBLEMS,
    Problem,
    ProblemAction,
    ProblemState,
)


class ProblemChange(BaseModel):
    """What a step did: the new problem, the audit entry that explains it, and for
    raise_known_error the known error to store (numbered by the store, see
    `with_known_error`)."""

    problem: Problem
    audit: AuditEntry
    known_error: KnownError | None = None

    def with_known_error(self, stored: KnownError) -> "ProblemChange":
        """The change once the store has numbered its known error: the problem and the audit
        entry name it. Usage::

            change = problem.raise_known_error(prb, command, at)
            stored = KnownErrorRepository(session).add(change.known_error)
            change = change.with_known_error(stored)
            ProblemRepository(session).save(change.problem)
            AuditRepository(session).add(change.audit)
        """
        after = self.problem.model_copy(update={"known_error_number": stored.number})
        audit = self.audit.model_copy(update={"reason": f"{stored.number}: {stored.title}"})
        return self.model_copy(update={"problem": after, "audit": audit, "known_error": stored})


def _change(
    before: Problem,
    after: Problem,
    action: str,
    actor: str,
    at: datetime,
    reason: str = "",
    known_error: KnownError | None = None,
) -> ProblemChange:
    after = after.model_copy(update={"updated_at": at})
    entry = change_entry(before, after, action, actor, at, reason)
    return ProblemChange(problem=after, audit=entry, known_error=known_error)


def _check(problem: Problem, command: ProblemCommand, action: ProblemAction) -> ProblemState:
    """The command is for this problem, and the action is legal now: the next state."""
    if command.number != problem.number:
        raise ValueError(f"a command for {command.number} applied to {problem.number}")
    return PROBLEMS.next_state(problem.number, problem.state, action)


def logged(problem: Problem) -> AuditEntry:
    """The first audit row of every problem: where it came from and who logged it."""
    reason = f"logged from {problem.source.value}"
    if problem.trend_key:
        reason += f" ({problem.trend_key})"
    return first_entry(problem, "log", problem.reporter, problem.created_at, reason)


def trend_grew(problem: Problem, actor: str, at: datetime) -> AuditEntry:
    """The audit row of a trend's problem that more incidents joined (no state changes)."""
    reason = f"trend went on: {problem.frequency} incident(s) linked now"
    return note_entry(problem, "link", actor, at, reason)


def trend_joined(problem: Problem, note: str, actor: str, at: datetime) -> AuditEntry:
    """The audit row of a trend's problem that a coinciding trend joined (trends.joined_note)."""
    return note_entry(problem, "link", actor, at, note)


def categorize(problem: Problem, command: CategorizeProblem, at: datetime) -> ProblemChange:
    state = _check(problem, command, ProblemAction.CATEGORIZE)
    category = clean_category(command.category)
    if not category:
        raise ValueError(f"{problem.number}: category {command.category!r} is empty")
    after = problem.model_copy(update={"state": state, "category": category})
    reason = f"category {category}"
    if problem.category and problem.category != category:
        reason += f" (was {problem.category})"
    return _change(problem, after, ProblemAction.CATEGORIZE, command.actor, at, reason)


def problem_priority(
    impact: Impact,
    urgency: Urgency,
    frequency: int,
    *,
    service: str | None = None,
    policy: PriorityPolicy | None = None,
    frequent: int = FREQUENT_INCIDENTS,
) -> tuple[Urgency, Priority]:
    """ITIL prioritizes problems by frequency and impact: the incidents' priority matrix,
    with the urgency raised to high once `frequent` incidents are linked (a fault that keeps
    recurring costs more every day it stays). Returns the urgency used and the priority."""
    if frequency >= frequent:
        urgency = Urgency.HIGH
    policy = policy or PriorityPolicy()
    return urgency, policy.priority_for(impact, urgency, service=service or "")


def prioritize(
    problem: Problem,
    command: PrioritizeProblem,
    at: datetime,
    *,
    policy: PriorityPolicy | None = None,
    frequent: int = FREQUENT_INCIDENTS,
) -> ProblemChange:
    """Set impact, urgency and priority (see `problem_priority`). The urgency stored is the one
    used, so the record explains its priority; call again after linking to re-rate it."""
    state = _check(problem, command, ProblemAction.PRIORITIZE)
    urgency, priority = problem_priority(
        command.impact,
        command.urgency,
        problem.frequency,
        service=problem.service,
        policy=policy,
        frequent=frequent,
    )
    after = problem.model_copy(
        update={
            "state": state,
            "impact": command.impact,
            "urgency": urgency,
            "priority": priority,
        }
    )
    reason = f"{command.impact.value} impact x {urgency.value} urgency -> {priority.label}"
    if urgency != command.urgency:
        reason += f" (urgency {command.urgency.value} raised: {problem.frequency} incidents)"
    return _change(problem, after, ProblemAction.PRIORITIZE, command.actor, at, reason)


def investigate(problem: Problem, command: InvestigateProblem, at: datetime) -> ProblemChange:
    """Findings are appended (dated, signed) to the notes; a given root cause replaces the
    previous one."""
    state = _check(problem, command, ProblemAction.INVESTIGATE)
    entry = f"[{at:%Y-%m-%d %H:%M %Z} {command.actor}] {command.notes}"
    notes = f"{problem.investigation_notes}\n\n{entry}" if problem.investigation_notes else entry
    update: dict[str, object] = {"state": state, "investigation_notes": notes}
    if command.root_cause is not None:
        update["root_cause"] = command.root_cause
    after = problem.model_copy(update=update)
    reason = command.notes if command.root_cause is None else f"root cause: {command.root_cause}"
    return _change(problem, after, ProblemAction.INVESTIGATE, command.actor, at, reason)


def record_workaround(problem: Problem, command: RecordWorkaround, at: datetime) -> ProblemChange:
    """Record (or replace) the workaround. When the problem already has a known error, the
    caller updates the KEDB too (KnownErrorRepository.set_workaround), so that new incidents
    are offered the new workaround."""
    state = _check(problem, command, ProblemAction.RECORD_WORKAROUND)
    after = problem.model_copy(update={"state": state, "workaround": command.workaround})
    return _change(
        problem, after, ProblemAction.RECORD_WORKAROUND, command.actor, at, command.workaround
    )


def raise_known_error(problem: Problem, command: RaiseKnownError, at: datetime) -> ProblemChange:
    """Diagnosed with a workaround: the problem becomes a known error and the change carries
    the KEDB entry to store, scoped to the problem's service, CI and category plus the
    affected CIs given. The store numbers it: see `ProblemChange.with_known_error`."""
    state = _check(problem, command, ProblemAction.RAISE_KNOWN_ERROR)
    known_error = KnownError(
        number=NEW_KNOWN_ERROR,
        title=command.title,
        service=problem.service,
        ci=problem.ci,
        affected_cis=command.affected_cis,
        category=problem.category,
        symptom=command.symptom,
        root_cause=command.root_cause,
        workaround=command.workaround,
        problem_number=problem.number,
        created_at=at,
    )
    after = problem.model_copy(
        update={
            "state": state,
            "root_cause": command.root_cause,
            "workaround": command.workaround,
        }
    )
    return _change(
        problem,
        after,
        ProblemAction.RAISE_KNOWN_ERROR,
        command.actor,
        at,
        f"known error raised: {command.title}",
        known_error=known_error,
    )


def resolve(problem: Problem, command: ResolveProblem, at: datetime) -> ProblemChange:
    state = _check(problem, command, ProblemAction.RESOLVE)
    after = problem.model_copy(
        update={
            "state": state,
            "change_ref": command.change_ref,
            "resolution": command.resolution,
            "resolved_at": at,
        }
    )
    reason = f"{command.change_ref}: {command.resolution}"
    return _change(problem, after, ProblemAction.RESOLVE, command.actor, at, reason)


def close(problem: Problem, command: CloseProblem, at: datetime) -> ProblemChange:
    """Close a resolved problem. Closing frees its trend: the same trend recurring later opens
    a new problem. The caller resolves the linked incidents still open (ITIL SO 4.4.5.9)."""
    state = _check(problem, command, ProblemAction.CLOSE)
    after = problem.model_copy(update={"state": state, "closed_at": at})
    return _change(problem, after, ProblemAction.CLOSE, command.actor, at, command.note)


def review(problem: Problem, command: ReviewProblem, at: datetime) -> ProblemChange:
    """Major problem review, once resolved: kept on the record (a later review replaces it)."""
    state = _check(problem, command, ProblemAction.REVIEW)
    after = problem.model_copy(
        update={
            "state": state,
            "review_summary": command.summary,
            "review_lessons": command.lessons or None,
            "reviewed_at": at,
        }
    )
    return _change(problem, after, ProblemAction.REVIEW, command.actor, at, command.summary)
