"""The problem record, its states and actions, and its lifecycle (PROBLEMS, run by the shared
machine)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from serviceops.domain.categories import CategoryFilter, ServiceFilter
from serviceops.domain.machine import (
    SYSTEM_ACTOR,
    Lifecycle,
)
from serviceops.domain.priority import Impact, Priority, Urgency


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
