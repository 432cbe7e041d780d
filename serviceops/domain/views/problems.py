"""The public JSON of problems and known errors: what `GET /api/v1/problems`,
`GET /api/v1/known-errors` and `serviceops problem|kedb ... --json` return.

As with the incident views, these documents are a contract with scripts and dashboards,
kept apart from the domain models on purpose: problem management may rename or regroup its
internals without breaking anybody who reads them. Enumerations are plain strings here.

A problem's linked incidents are in its document (`ProblemDocument.incidents`), not in
`ProblemView`: a trend's problem may link thousands of incidents, so pages of problems carry
the count (`frequency`) only, and a view field that is sometimes filled and sometimes empty
would mislead whoever reads a page. Pure pydantic, no I/O.
"""

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field

from serviceops.domain.machine import AuditEntry
from serviceops.domain.problem import KnownError, Problem
from serviceops.domain.views.audit import AuditView

__all__ = [
    "DetectionDocument",
    "KnownErrorDocView",
    "KnownErrorDocument",
    "KnownErrorList",
    "ProblemDocument",
    "ProblemList",
    "ProblemRunDocument",
    "ProblemView",
]


class ProblemView(BaseModel):
    """A problem as the read API and `serviceops problem ... --json` show it."""

    number: str = Field(description="PRB-000123")
    title: str
    description: str
    state: str = Field(description="new, investigating, known_error, resolved or closed")
    source: str = Field(description="How it was detected: trend, major_incident or manual")
    trend_key: str | None = Field(
        description='The trend it owns while not closed, e.g. "service:mail"; null if none'
    )
    service: str | None
    ci: str | None = Field(description="The configuration item suspected at fault, if known")
    category: str | None
    impact: str
    urgency: str
    priority: int | None = Field(description="1 (critical) .. 5 (planning); null before rating")
    priority_label: str | None = Field(description='e.g. "P2 High"')
    frequency: int = Field(description="How many incidents are linked (the document lists them)")
    major: bool = Field(description="Opened for a major incident: reviewed once resolved")
    reporter: str
    root_cause: str | None
    investigation_notes: str | None
    workaround: str | None
    known_error_number: str | None = Field(description="The KEDB record raised (KE-000123)")
    change_ref: str | None = Field(description="The change that removed the root cause")
    resolution: str | None
    review_summary: str | None
    review_lessons: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, problem: Problem) -> "ProblemView":
        return cls(
            number=problem.number,
            title=problem.title,
            description=problem.description,
            state=problem.state.value,
            source=problem.source.value,
            trend_key=problem.trend_key,
            service=problem.service,
            ci=problem.ci,
            category=problem.category,
            impact=problem.impact.value,
            urgency=problem.urgency.value,
            priority=None if problem.priority is None else int(problem.priority),
            priority_label=None if problem.priority is None else problem.priority.label,
            frequency=problem.frequency,
            major=problem.major,
            reporter=problem.reporter,
            root_cause=problem.root_cause,
            investigation_notes=problem.investigation_notes,
            workaround=problem.workaround,
            known_error_number=problem.known_error_number,
            change_ref=problem.change_ref,
            resolution=problem.resolution,
            review_summary=problem.review_summary,
            review_lessons=problem.review_lessons,
            created_at=problem.created_at,
            updated_at=problem.updated_at,
            resolved_at=problem.resolved_at,
            closed_at=problem.closed_at,
            reviewed_at=problem.reviewed_at,
        )


class ProblemList(BaseModel):
    """`{"problems": [...], "count": n, "limit", "offset"}`: one page, newest first."""

    problems: list[ProblemView]
    count: int = Field(description="How many problems this page holds.")
    limit: int
    offset: int


class ProblemDocument(BaseModel):
    """`{"problem": {...}, "incidents": [...], "audit": [...]}`: one problem, the incidents
    linked to it (in link order) and its history (oldest first).

    The same document comes from `GET /api/v1/problems/{number}` and `problem show --json`.
    """

    problem: ProblemView
    incidents: list[str] = Field(description="Linked incident numbers, in the order linked")
    audit: list[AuditView]

    @classmethod
    def of(cls, problem: Problem, audit: Iterable[AuditEntry]) -> "ProblemDocument":
        """The document of a problem loaded with its links (ProblemRepository.get)."""
        return cls(
            problem=ProblemView.of(problem),
            incidents=list(problem.incident_numbers),
            audit=[AuditView.of(entry) for entry in audit],
        )


class ProblemRunDocument(BaseModel):
    """`{"problem": {...}, "flow_run_id": "..."}`: what a `serviceops problem` command that ran
    a flow prints, the problem as it stands after the run."""

    problem: ProblemView
    flow_run_id: str


class DetectionDocument(BaseModel):
    """What `serviceops problem detect --json` prints: the problems the detect-problems run
    opened, and the open problems it linked new incidents to."""

    flow_run_id: str
    opened: list[ProblemView]
    updated: list[ProblemView] = Field(
        description="Problems that owned a trend already and got new incidents in this run"
    )


class KnownErrorDocView(BaseModel):
    """A known error database (KEDB) record in full: scope, symptom, root cause, workaround.

    (serviceops.domain.views.incidents.KnownErrorView is the short form an incident carries.)
    """

    number: str = Field(description="KE-000123")
    title: str
    service: str | None = Field(description="The service it affects; null: any service")
    ci: str | None = Field(description="The configuration item at fault, if one")
    affected_cis: list[str] = Field(description="Other CIs showing the symptom")
    category: str | None = Field(description="Category (or prefix) it belongs to; null: any")
    symptom: str = Field(description="What users and monitoring see: what incidents match on")
    root_cause: str
    workaround: str
    problem_number: str | None = Field(description="The problem it was raised from")
    active: bool = Field(description="False once retired: diagnosis no longer offers it")
    created_at: datetime | None

    @classmethod
    def of(cls, known_error: KnownError, *, active: bool = True) -> "KnownErrorDocView":
        """`active`: the store's flag (KnownErrorRepository.is_active); the domain model does
        not carry it because matching only ever sees active known errors."""
        return cls(**known_error.model_dump(), active=active)


class KnownErrorDocument(BaseModel):
    """`{"known_error": {...}}`: one KEDB record, from `GET /api/v1/known-errors/{number}` and
    `serviceops kedb show --json`."""

    known_error: KnownErrorDocView


class KnownErrorList(BaseModel):
    """`{"known_errors": [...], "count": n, "limit", "offset"}`: one page of the KEDB, newest
    first, or the best matches first for a search."""

    known_errors: list[KnownErrorDocView]
    count: int = Field(description="How many known errors this page holds.")
    limit: int
    offset: int
