"""Trend detection rules: what counts as a trend (`TrendRule`), and the problem logged for
one (`draft_for`); the store finds the `Trend`s with SQL (serviceops.store.problem.problems)."""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from serviceops.domain.machine import SYSTEM_ACTOR
from serviceops.domain.priority import Impact, Urgency
from serviceops.domain.problem.record import (
    ProblemDraft,
    ProblemSource,
)

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


def coincides(shared: int, incidents: int, linked: int) -> bool:
    """Whether a trend nobody owns has the cause of an open trend problem: `shared` of the
    trend's `incidents` are among the problem's `linked` ones, and they are most of both.

    Six incidents on one service in one category make a service trend and a category trend
    over the same six: one cause, one problem. A category trend across many services shares a
    minority of its incidents with each service's problem and stays a problem of its own; so
    does a narrow trend inside a broad problem, which it would only bury."""
    return 2 * shared > max(incidents, linked)


def joined_note(trend: Trend, shared: int) -> str:
    """What a problem's description and trail say when a coinciding trend joins it."""
    return (
        f"The {trend.dimension} {trend.value} trend joined it: {shared} of its "
        f"{trend.count} incidents were this problem's."
    )


_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def spoken(window: timedelta) -> str:
    """A window as people say it in a description: "7 days", "1 day 12 hours", "90 minutes"
    would read "1 hour 30 minutes" (str(timedelta) gives "7 days, 0:00:00")."""
    rest = int(window.total_seconds())
    parts: list[str] = []
    for unit, seconds in _UNITS:
        amount, rest = divmod(rest, seconds)
        if amount:
            parts.append(f"{amount} {unit}" + ("s" if amount != 1 else ""))
    return " ".join(parts) or "0 seconds"


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
            f"(rule: at least {rule.min_incidents} within {spoken(rule.window)})."
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
