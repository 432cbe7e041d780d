"""Escalation policies: whom each level of a support group's ladder pages, and how long it
waits for an acknowledgement before the next."""

import re
from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator


class TargetKind(StrEnum):
    LAYER = "layer"  # whoever is on that layer of the group's schedule at the time
    PERSON = "person"
    MANAGER = "manager"  # the schedule's manager
    SLACK_GROUP = "slack_group"  # a Slack user group, mentioned in the incident's channel


SLACK_USER_GROUP = r"^S[A-Z0-9]{2,31}$"


class Target(BaseModel):
    """Whom a level pages: `"primary"` (a layer), `"person:sam"`, `"manager"`,
    `"slack-group:S0123ABCD"` (a Slack user group's id)."""

    model_config = ConfigDict(frozen=True)

    kind: TargetKind
    name: str = ""

    @model_validator(mode="after")
    def _a_user_group_id(self) -> "Target":
        if self.kind is TargetKind.SLACK_GROUP and not re.match(SLACK_USER_GROUP, self.name):
            raise ValueError(f"{self.name!r} is not a Slack user group id (S0123ABCD)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if value == "manager":
            return {"kind": TargetKind.MANAGER}
        if value.startswith("person:"):
            return {"kind": TargetKind.PERSON, "name": value.removeprefix("person:")}
        if value.startswith("slack-group:"):
            return {"kind": TargetKind.SLACK_GROUP, "name": value.removeprefix("slack-group:")}
        return {"kind": TargetKind.LAYER, "name": value}


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[Target] = Field(min_length=1)
    wait: timedelta = Field(
        timedelta(minutes=5), description="How long without an acknowledgement before the next."
    )


class EscalationPolicy(BaseModel):
    """A group's ladder: its levels in order, walked `repeat` more times if nobody answers,
    then management is told."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: list[Level] = Field(min_length=1)
    repeat: NonNegativeInt = 0

    @property
    def steps(self) -> int:
        return len(self.levels) * (self.repeat + 1)

    def level(self, step: int) -> Level | None:
        """The level paged at `step` (0-based across repeats); None past the last."""
        return self.levels[step % len(self.levels)] if 0 <= step < self.steps else None
