"""Impact x urgency -> priority, and the targets each priority carries (ITIL SO tables 4.1, 4.2).

The policy is data, not code, so an operator can change the matrix or the targets in a block
without a release.
"""

from datetime import timedelta
from enum import IntEnum, StrEnum

from pydantic import BaseModel, Field, model_validator


class Impact(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Priority(IntEnum):
    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4
    PLANNING = 5

    @property
    def label(self) -> str:
        return f"P{self.value} {self.name.title()}"


class PriorityTarget(BaseModel):
    """How fast a priority must be owned (response) and resolved; None means planned work."""

    response: timedelta | None = Field(description="Time to acknowledge (own) the incident.")
    resolution: timedelta | None = Field(description="Time to resolve the incident.")


def _default_matrix() -> dict[Impact, dict[Urgency, Priority]]:
    h, m, lo = Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW
    return {
        Impact.HIGH: {h: Priority(1), m: Priority(2), lo: Priority(3)},
        Impact.MEDIUM: {h: Priority(2), m: Priority(3), lo: Priority(4)},
        Impact.LOW: {h: Priority(3), m: Priority(4), lo: Priority(5)},
    }


def _default_targets() -> dict[Priority, PriorityTarget]:
    hours = [(0.25, 1), (0.5, 8), (2, 24), (4, 48), (8, None)]
    return {
        Priority(level): PriorityTarget(
            response=timedelta(hours=response),
            resolution=None if resolution is None else timedelta(hours=resolution),
        )
        for level, (response, resolution) in enumerate(hours, start=1)
    }


class PriorityPolicy(BaseModel):
    """The priority matrix and per-priority targets; defaults are the ITIL tables."""

    matrix: dict[Impact, dict[Urgency, Priority]] = Field(default_factory=_default_matrix)
    targets: dict[Priority, PriorityTarget] = Field(default_factory=_default_targets)
    vip_reporters: set[str] = Field(
        default_factory=set, description="Reporters whose incidents are raised one priority."
    )
    critical_services: set[str] = Field(
        default_factory=set, description="Services whose incidents are raised one priority."
    )

    @model_validator(mode="after")
    def _complete(self) -> "PriorityPolicy":
        # A custom policy (JSON in a block) with a hole would otherwise fail with a KeyError
        # in the middle of a flow, on the first incident that falls into the hole.
        missing = [
            f"{impact.value}/{urgency.value}"
            for impact in Impact
            for urgency in Urgency
            if urgency not in self.matrix.get(impact, {})
        ]
        if missing:
            raise ValueError(f"priority matrix has no cell for impact/urgency {', '.join(missing)}")
        no_target = [f"P{p.value}" for p in Priority if p not in self.targets]
        if no_target:
            raise ValueError(f"no target for {', '.join(no_target)}")
        return self

    def priority_for(
        self, impact: Impact, urgency: Urgency, *, service: str = "", reporter: str = ""
    ) -> Priority:
        """The matrix cell, raised one level (never above P1) for a VIP or a critical service."""
        priority = self.matrix[impact][urgency]
        if reporter in self.vip_reporters or service in self.critical_services:
            priority = Priority(max(Priority.CRITICAL, priority - 1))
        return priority

    def target_for(self, priority: Priority) -> PriorityTarget:
        return self.targets[priority]
