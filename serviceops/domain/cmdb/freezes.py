"""Freeze periods: times the catalogue declares no normal change may fall in (month end, a
launch, the holidays), checked by the schedule of change."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class FreezePeriod(BaseModel):
    """A time no normal change may fall in (month end, a launch), on the CIs it names and
    what is related to them, or on everything when it names none."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, max_length=100, description="e.g. year-end")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field("", max_length=500)
    cis: list[str] = Field(default_factory=list, description="Empty: every CI.")

    @model_validator(mode="after")
    def _ordered(self) -> "FreezePeriod":
        if self.ends_at <= self.starts_at:
            raise ValueError(f"freeze {self.name}: ends_at must be later than starts_at")
        return self
