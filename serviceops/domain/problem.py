"""Problem management (ITIL SO 4.4): the problem record and its lifecycle, trend detection
rules, and the known error database (KEDB) that initial diagnosis matches incidents against.

Three parts, each usable on its own:

- KEDB: `KnownError`, `match_known_errors` (one incident, any list) and `KnownErrorIndex`
  (built once from a large KEDB, then many incidents matched against it).
- Lifecycle: `PROBLEM_TRANSITIONS` decides which action is legal in which state, and each step
  (`categorize`, `prioritize`, `investigate`, `record_workaround`, `raise_known_error`,
  `resolve`, `close`, `review`) is a pure function: problem + command form + instant in, a
  `ProblemChange` (new problem, audit entry) out. Nothing here reads a clock or a database.
- Trends: a `TrendRule` says what counts as a trend; the store finds `Trend`s with SQL
  (serviceops.store.problems) and `draft_for` turns one into the problem to log.
"""

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from serviceops.domain.categories import CategoryFilter, ServiceFilter, clean_category, in_category
from serviceops.domain.machine import (
    SYSTEM_ACTOR,
    AuditEntry,
    Lifecycle,
    change_entry,
    first_entry,
    note_entry,
)
from serviceops.domain.priority import Impact, Priority, PriorityPolicy, Urgency

__all__ = [
    "FREQUENT_INCIDENTS",
    "NEW_KNOWN_ERROR",
    "OPEN_PROBLEM_STATES",
    "PROBLEMS",
    "PROBLEM_TRANSITIONS",
    "CategorizeProblem",
    "CloseProblem",
    "InvestigateProblem",
    "KnownError",
    "KnownErrorIndex",
    "PrioritizeProblem",
    "Problem",
    "ProblemAction",
    "ProblemChange",
    "ProblemCommand",
    "ProblemDraft",
    "ProblemSource",
    "ProblemState",
    "RaiseKnownError",
    "RecordWorkaround",
    "ResolveProblem",
    "ReviewProblem",
    "Trend",
    "TrendDimension",
    "TrendRule",
    "categorize",
    "close",
    "draft_for",
    "investigate",
    "logged",
    "match_known_errors",
    "prioritize",
    "problem_priority",
    "raise_known_error",
    "record_workaround",
    "resolve",
    "review",
    "symptom_words",
    "title_for",
    "trend_grew",
    "trend_key",
]

# =============================================================================================
# The known error database (KEDB)
# =============================================================================================

# Letters and digits of any script ("échec", "réseau"), three or more.
_WORD = re.compile(r"[^\W_]{3,}")

# What raise_known_error puts in the number of the known error it returns: the store numbers
# known errors itself (KnownErrorRepository.add ignores the incoming number).
NEW_KNOWN_ERROR = "KE-NEW"


def symptom_words(text: str) -> frozenset[str]:
    """The words matching compares: lower-cased, three letters or more, each counted once."""
    return frozenset(_WORD.findall(text.lower()))


class KnownError(BaseModel):
    """A diagnosed fault with a workaround: symptom, root cause, workaround (ITIL SO 4.4).

    Its scope is a service and/or configuration items: `ci` (the CI at fault) and
    `affected_cis` (other CIs that show the symptom, e.g. every host behind a shared storage
    array). A known error without service and CIs applies everywhere.
    """

    number: str
    title: str
    service: ServiceFilter = Field(None, description="Service (CI) it affects; None: any.")
    ci: ServiceFilter = Field(None, description="The configuration item at fault, if one.")
    affected_cis: list[str] = Field(
        default_factory=list, description="Other CIs showing the symptom (incidents on them fit)."
    )
    category: CategoryFilter = Field(None, description="Category (or prefix) it belongs to.")
    symptom: str = ""
    root_cause: str = ""
    workaround: str
    problem_number: str | None = Field(None, description="The problem it was raised from.")
    created_at: datetime | None = None

    @field_validator("affected_cis")
    @classmethod
    def _clean_cis(cls, value: list[str]) -> list[str]:
        return _clean_names(value)

    @property
    def cis(self) -> frozenset[str]:
        """Every CI in its scope: `ci` and `affected_cis`."""
        return frozenset(self.affected_cis) | ({self.ci} if self.ci else frozenset())


def _clean_names(names: Iterable[str]) -> list[str]:
    """Trimmed, no blanks, no repeats, in the given order (a form sends '' for an empty row)."""
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


def _in_scope(ke: KnownError, cis: frozenset[str], service: str, ci: str | None) -> bool:
    """Service unset or equal, or the incident's CI among the known error's CIs; a known
    error naming CIs but no service applies to those CIs only."""
    if ke.service is None and not cis:
        return True
    return ke.service == service or (ci is not None and ci in cis)


def _rank(
    ke: KnownError, cis: frozenset[str], words: frozenset[str], service: str, ci: str | None
) -> tuple[bool, bool, int, int]:
    """Exact CI, then exact service, then category depth, then symptom words in common."""
    return (
        ci is not None and ci in cis,
        ke.service is not None and ke.service == service,
        (ke.category or "").count("/") + bool(ke.category),
        len(words),
    )


def match_known_errors(
    known_errors: Sequence[KnownError],
    *,
    service: str,
    category: str,
    text: str,
    ci: str | None = None,
) -> list[KnownError]:
    """Known errors that fit the incident, best first (ties keep the KEDB order).

    A known error fits when it is in scope (its service unset or the incident's, or the
    incident's CI among its `ci`/`affected_cis`) and its category is unset or a prefix of the
    incident's. Ranking: exact CI match, then exact service, then category depth, then how
    many symptom words appear in the text.

    One pass over the list, symptom words computed only for the known errors that fit: the
    simple entry point for one incident. To match many incidents against one large KEDB,
    build a `KnownErrorIndex` once.
    """
    text_words = symptom_words(text)
    ranked = []
    for ke in known_errors:
        cis = ke.cis
        if not _in_scope(ke, cis, service, ci):
            continue
        if ke.category is not None and not in_category(category, ke.category):
            continue
        common = symptom_words(ke.symptom) & text_words
        ranked.append((_rank(ke, cis, common, service, ci), ke))
    # sorted() is stable with reverse=True too: equal ranks keep the KEDB order.
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [ke for _, ke in ranked]


class KnownErrorIndex:
    """A KEDB prepared for matching many incidents: built once, then `match` per incident.

    Known errors are indexed by service and by CI, and their symptom words are computed up
    front, so one match looks only at the known errors in scope (those of the incident's
    service and CI, and those that apply anywhere) instead of the whole KEDB. Results are the
    same as `match_known_errors` over the list it was built from, in the same order.
    """

    def __init__(self, known_errors: Iterable[KnownError]) -> None:
        self._known_errors = list(known_errors)
        self._cis = [ke.cis for ke in self._known_errors]
        self._words = [symptom_words(ke.symptom) for ke in self._known_errors]
        self._by_service: dict[str, list[int]] = {}
        self._by_ci: dict[str, list[int]] = {}
        self._anywhere: list[int] = []
        for position, ke in enumerate(self._known_errors):
            cis = self._cis[position]
            if ke.service is None and not cis:
                self._anywhere.append(position)
                continue
            if ke.service is not None:
                self._by_service.setdefault(ke.service, []).append(position)
            for name in cis:
                self._by_ci.setdefault(name, []).append(position)

    def __len__(self) -> int:
        return len(self._known_errors)

    def match(
        self, *, service: str, category: str, text: str, ci: str | None = None
    ) -> list[KnownError]:
        """Known errors that fit the incident, best first (see `match_known_errors`)."""
        positions = set(self._anywhere)
        positions.update(self._by_service.get(service, ()))
        if ci is not None:
            positions.update(self._by_ci.get(ci, ()))
        text_words = symptom_words(text)
        ranked = []
        for position in sorted(positions):
            ke = self._known_errors[position]
            if ke.category is not None and not in_category(category, ke.category):
                continue
            common = self._words[position] & text_words
            ranked.append((_rank(ke, self._cis[position], common, service, ci), ke))
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        return [ke for _, ke in ranked]


# =============================================================================================
# The problem record and its lifecycle
# =============================================================================================


class ProblemState(StrEnum):
    NEW = "new"
    INVESTIGATING = "investigating"
    KNOWN_ERROR = "known_error"
    RESOLVED = "resolved"
    CLOSED = "closed"


# A problem owns its trend (no second problem is opened for it) until it is closed.
OPEN_PROBLEM_STATES = frozenset(
    {ProblemState.NEW, ProblemState.INVESTIGATING, ProblemState.KNOWN_ERROR, ProblemState.RESOLVED}
)


class ProblemAction(StrEnum):
    CATEGORIZE = "categorize"
    PRIORITIZE = "prioritize"
    INVESTIGATE = "investigate"
    RECORD_WORKAROUND = "record_workaround"
    RAISE_KNOWN_ERROR = "raise_known_error"
    RESOLVE = "resolve"
    CLOSE = "close"
    REVIEW = "review"


class ProblemSource(StrEnum):
    """How the problem was detected (ITIL SO 4.4.5.1)."""

    TREND = "trend"
    MAJOR_INCIDENT = "major_incident"
    MANUAL = "manual"


S, A = ProblemState, ProblemAction
PROBLEM_TRANSITIONS: dict[tuple[ProblemState, ProblemAction], ProblemState] = {
    (S.NEW, A.CATEGORIZE): S.NEW,
    (S.INVESTIGATING, A.CATEGORIZE): S.INVESTIGATING,
    (S.NEW, A.PRIORITIZE): S.NEW,
    (S.INVESTIGATING, A.PRIORITIZE): S.INVESTIGATING,
    (S.NEW, A.INVESTIGATE): S.INVESTIGATING,
    (S.INVESTIGATING, A.INVESTIGATE): S.INVESTIGATING,
    (S.INVESTIGATING, A.RECORD_WORKAROUND): S.INVESTIGATING,
    (S.KNOWN_ERROR, A.RECORD_WORKAROUND): S.KNOWN_ERROR,
    (S.INVESTIGATING, A.RAISE_KNOWN_ERROR): S.KNOWN_ERROR,
    (S.INVESTIGATING, A.RESOLVE): S.RESOLVED,
    (S.KNOWN_ERROR, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REVIEW): S.RESOLVED,
    (S.CLOSED, A.REVIEW): S.CLOSED,
}
del S, A
PROBLEMS = Lifecycle("problem", PROBLEM_TRANSITIONS)


class Problem(BaseModel):
    """A problem as problem management sees it; numbers are PRB-000123.

    `frequency` and `incident_numbers` belong to the store: linking incidents updates them,
    and saving a problem never overwrites them (a concurrent link would be lost).
    """

    number: str
    title: str
    description: str = ""
    state: ProblemState
    source: ProblemSource
    trend_key: str | None = Field(
        None, description="The trend it was opened for (service:mail), while it owns it."
    )
    service: str | None = None
    ci: str | None = None
    category: str | None = None
    impact: Impact
    urgency: Urgency
    priority: Priority | None = None
    frequency: int = Field(0, description="How many incidents are linked to it.")
    major: bool = False
    reporter: str = SYSTEM_ACTOR
    root_cause: str | None = None
    investigation_notes: str | None = None
    workaround: str | None = None
    known_error_number: str | None = None
    change_ref: str | None = None
    resolution: str | None = None
    review_summary: str | None = None
    review_lessons: str | None = None
    incident_numbers: list[str] = Field(
        default_factory=list, description="The linked incidents, in the order they were linked."
    )
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reviewed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROBLEM_STATES


class ProblemDraft(BaseModel):
    """The log-problem form: what is known when a problem is detected, before any rule."""

    title: str = Field(min_length=3, max_length=200, title="Title", description="One line.")
    description: str = Field(
        "",
        max_length=20_000,
        title="Description",
        description="What is seen: the incidents' symptoms, since when, how often.",
    )
    service: ServiceFilter = Field(
        None, max_length=100, title="Service (CI)", description="Affected service, when one."
    )
    ci: ServiceFilter = Field(
        None,
        max_length=100,
        title="Configuration item",
        description="The CI suspected at fault, when known (e.g. a host or a database).",
    )
    category: CategoryFilter = Field(
        None,
        max_length=100,
        title="Category",
        description="Multi-level, e.g. network/vpn; may be set later by categorization.",
    )
    impact: Impact = Field(
        Impact.MEDIUM, title="Impact", description="How much of the business the incidents hit."
    )
    urgency: Urgency = Field(
        Urgency.MEDIUM, title="Urgency", description="How fast the root cause must be removed."
    )
    reporter: str = Field(
        SYSTEM_ACTOR,
        min_length=1,
        max_length=200,
        title="Reporter",
        description="Who logged it (serviceops for detected trends).",
    )


# --------------------------------------------------------------------------- command forms

# From this many linked incidents a problem's urgency is high, whatever was given.
FREQUENT_INCIDENTS = 10


class ProblemCommand(BaseModel):
    """What every problem form asks: which problem, and who acts."""

    flow_name: ClassVar[str]  # the flow (and deployment) that carries it out

    number: str = Field(
        pattern=r"^PRB-\d{6,}$", title="Problem number", description="e.g. PRB-000042"
    )
    actor: str = Field(min_length=1, max_length=200, title="Actor", description="Who acts.")


class CategorizeProblem(ProblemCommand):
    """File the problem under a category (incidents and the KEDB use the same ones)."""

    flow_name: ClassVar[str] = "categorize-problem"

    category: str = Field(
        min_length=1,
        max_length=100,
        title="Category",
        description="Multi-level, e.g. network/vpn; normalised to lower case.",
    )


class PrioritizeProblem(ProblemCommand):
    """Impact x urgency, as for incidents; many linked incidents raise the urgency."""

    flow_name: ClassVar[str] = "prioritize-problem"

    impact: Impact = Field(title="Impact", description="How much of the business is affected.")
    urgency: Urgency = Field(
        title="Urgency",
        description=(
            f"How fast it must be solved; high anyway from {FREQUENT_INCIDENTS} linked incidents."
        ),
    )


class InvestigateProblem(ProblemCommand):
    """Investigation and diagnosis: findings so far, and the root cause once found."""

    flow_name: ClassVar[str] = "investigate-problem"

    notes: str = Field(
        min_length=3,
        max_length=20_000,
        title="Findings",
        description="What was looked at and found; added to the investigation notes.",
    )
    root_cause: str | None = Field(
        None,
        min_length=3,
        max_length=20_000,
        title="Root cause",
        description="The underlying cause, once diagnosed (replaces an earlier one).",
    )


class RecordWorkaround(ProblemCommand):
    """A way to restore service while the root cause stays: offered to new incidents."""

    flow_name: ClassVar[str] = "record-workaround"

    workaround: str = Field(
        min_length=3,
        max_length=20_000,
        title="Workaround",
        description="Steps the service desk can give users, until the fix is in.",
    )


class RaiseKnownError(ProblemCommand):
    """Diagnosed: record it in the KEDB so initial diagnosis offers the workaround."""

    flow_name: ClassVar[str] = "raise-known-error"

    title: str = Field(
        min_length=3, max_length=200, title="Title", description="The known error, in one line."
    )
    symptom: str = Field(
        min_length=3,
        max_length=20_000,
        title="Symptom",
        description="What users and monitoring see: the words incidents are matched on.",
    )
    root_cause: str = Field(
        min_length=3, max_length=20_000, title="Root cause", description="The underlying cause."
    )
    workaround: str = Field(
        min_length=3,
        max_length=20_000,
        title="Workaround",
        description="What restores service until the root cause is removed.",
    )
    affected_cis: list[str] = Field(
        default_factory=list,
        title="Affected CIs",
        description="CIs showing the symptom besides the problem's own (incidents on them fit).",
    )

    @field_validator("affected_cis")
    @classmethod
    def _clean_cis(cls, value: list[str]) -> list[str]:
        return _clean_names(value)


class ResolveProblem(ProblemCommand):
    """The root cause is removed, through a change."""

    flow_name: ClassVar[str] = "resolve-problem"

    change_ref: str = Field(
        min_length=1,
        max_length=100,
        title="Change",
        description="The change that removed the root cause, e.g. CHG-000123.",
    )
    resolution: str = Field(
        min_length=3, max_length=20_000, title="Resolution", description="What was changed."
    )


class CloseProblem(ProblemCommand):
    """The fix is confirmed; the linked incidents still open are resolved with it."""

    flow_name: ClassVar[str] = "close-problem"

    note: str = Field("", max_length=2000, title="Closing note", description="e.g. how verified.")


class ReviewProblem(ProblemCommand):
    """Major problem review: what went well, what went badly, what to do differently."""

    flow_name: ClassVar[str] = "review-major-problem"

    summary: str = Field(
        min_length=3,
        max_length=20_000,
        title="Summary",
        description="What went well and what went badly.",
    )
    lessons: str = Field(
        "",
        max_length=20_000,
        title="Lessons",
        description="What to do differently next time; how to prevent a recurrence.",
    )


# --------------------------------------------------------------------------- steps


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


# =============================================================================================
# Trends: detection rules
# =============================================================================================

TrendDimension = Literal["service", "ci", "category"]


def _all_dimensions() -> list[TrendDimension]:
    return ["service", "ci", "category"]


class TrendRule(BaseModel):
    """What counts as a trend: at least `min_incidents` incidents within `window` sharing a
    service, a CI or a category (each dimension on its own); every major incident in the
    window is a problem of its own when `include_major`."""

    min_incidents: int = Field(
        3, ge=2, title="Minimum incidents", description="Incidents in the window that make one."
    )
    window: timedelta = Field(
        timedelta(days=7), title="Window", description="How far back incidents are counted."
    )
    dimensions: list[TrendDimension] = Field(
        default_factory=_all_dimensions,
        title="Dimensions",
        description="What incidents must share to form a trend: service, ci, category.",
    )
    include_major: bool = Field(
        True, title="Major incidents", description="Open a problem for every major incident."
    )

    @field_validator("window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the window must be positive")
        return value

    @field_validator("dimensions")
    @classmethod
    def _unique(cls, value: list[TrendDimension]) -> list[TrendDimension]:
        return list(dict.fromkeys(value))


class Trend(BaseModel):
    """Incidents that share a dimension's value within the window, or one major incident
    (dimension "major", value its number). For a major incident `incident_numbers`, `summary`
    and service/ci/category are the incident's; for the other dimensions the store links the
    incidents itself and `incident_numbers` stays empty."""

    dimension: Literal["service", "ci", "category", "major"]
    value: str
    count: int
    first_at: datetime
    last_at: datetime
    incident_numbers: list[str] = Field(default_factory=list)
    summary: str | None = None
    service: str | None = None
    ci: str | None = None
    category: str | None = None

    @property
    def key(self) -> str:
        return trend_key(self.dimension, self.value)

    @property
    def source(self) -> ProblemSource:
        return ProblemSource.MAJOR_INCIDENT if self.dimension == "major" else ProblemSource.TREND


def trend_key(dimension: str, value: str) -> str:
    """The key a problem owns its trend by: "service:mail", "major:INC-000042"."""
    return f"{dimension}:{value}"


_TITLES = {
    "service": "Recurring incidents on service {value}",
    "ci": "Recurring incidents on CI {value}",
    "category": "Recurring incidents in category {value}",
}


def title_for(trend: Trend) -> str:
    """A problem title for the trend (200 characters at most, the record's limit). No counts:
    they change as incidents keep being linked, the record's frequency has the number."""
    if trend.dimension == "major":
        title = f"Major incident {trend.value}"
        if trend.summary:
            title += f": {trend.summary}"
    else:
        title = _TITLES[trend.dimension].format(value=trend.value)
    return title if len(title) <= 200 else title[:199] + "…"


def draft_for(trend: Trend, rule: TrendRule) -> ProblemDraft:
    """The problem to log for a trend nobody owns yet. Trends start at medium impact and
    urgency (prioritization re-rates them with their frequency); a major incident's problem
    starts high/high, as the major incident did."""
    if trend.dimension == "major":
        scope = {"service": trend.service, "ci": trend.ci, "category": trend.category}
        description = f"Major incident {trend.value} at {trend.first_at:%Y-%m-%d %H:%M %Z}."
        impact, urgency = Impact.HIGH, Urgency.HIGH
    else:
        scope = {trend.dimension: trend.value}
        description = (
            f"{trend.count} incidents with {trend.dimension} {trend.value} between "
            f"{trend.first_at:%Y-%m-%d %H:%M} and {trend.last_at:%Y-%m-%d %H:%M %Z} "
            f"(rule: at least {rule.min_incidents} within {rule.window})."
        )
        impact, urgency = Impact.MEDIUM, Urgency.MEDIUM
    return ProblemDraft(
        title=title_for(trend),
        description=description,
        impact=impact,
        urgency=urgency,
        reporter=SYSTEM_ACTOR,
        **{name: value[:100] if value else None for name, value in scope.items()},
    )
