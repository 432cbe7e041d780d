"""What each problem transition asks for: one command model per step, each naming its flow."""

from typing import ClassVar

from pydantic import BaseModel, Field, field_validator

from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.problem.kedb import _clean_names
from serviceops.domain.provenance import PersonName

# From this many linked incidents a problem's urgency is high, whatever was given.
FREQUENT_INCIDENTS = 10


class ProblemCommand(BaseModel):
    """What every problem form asks: which problem, and who acts."""

    flow_name: ClassVar[str]  # the flow (and deployment) that carries it out

    number: str = Field(
        pattern=r"^PRB-\d{6,}$", title="Problem number", description="e.g. PRB-000042"
    )
    actor: PersonName = Field(title="Actor", description="Who acts.")


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
