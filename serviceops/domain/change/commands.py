"""What each change transition asks for: one command model per step, each naming its flow.
Approvals are not commands: they are the decision a paused log-change run waits for."""

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from serviceops.domain.change.record import CHANGE_PATTERN
from serviceops.domain.provenance import PersonName


class ChangeCommand(BaseModel):
    """What every change form asks: which change, and who acts."""

    flow_name: ClassVar[str]  # the flow (and deployment) that carries it out

    number: str = Field(pattern=CHANGE_PATTERN, title="Change number", description="CHG-000042")
    actor: PersonName = Field(title="Actor", description="Who acts.")


class ScheduleChange(ChangeCommand):
    """Put an approved change on the schedule, in its planned window or a new one; a normal
    change is refused over another change on a related CI or in a freeze."""

    flow_name: ClassVar[str] = "schedule-change"

    planned_start: AwareDatetime | None = Field(
        None, title="Planned start", description="A new start; empty keeps the planned one."
    )
    planned_end: AwareDatetime | None = Field(
        None, title="Planned end", description="A new end; empty keeps the planned one."
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> "ScheduleChange":
        if (self.planned_start is None) != (self.planned_end is None):
            raise ValueError("a new window has a planned start and a planned end")
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValueError("the planned end must be later than the planned start")
        return self


class ImplementChange(ChangeCommand):
    """The work starts: its CIs and what depends on them make no noise until it ends."""

    flow_name: ClassVar[str] = "implement-change"

    note: str = Field("", max_length=2000, title="Note", description="e.g. who is on it.")


class CompleteChange(ChangeCommand):
    """The work is done and verified."""

    flow_name: ClassVar[str] = "complete-change"

    outcome: str = Field(
        min_length=3, max_length=20_000, title="Outcome", description="What was done, checked."
    )


class FailChange(ChangeCommand):
    """The work failed and could not be undone as planned."""

    flow_name: ClassVar[str] = "fail-change"

    reason: str = Field(min_length=3, max_length=20_000, title="What failed")


class BackOutChange(ChangeCommand):
    """The work went wrong and was undone by the back-out plan."""

    flow_name: ClassVar[str] = "back-out-change"

    reason: str = Field(min_length=3, max_length=20_000, title="Why it was backed out")


class ReviewChange(ChangeCommand):
    """Post-implementation review: did it do what was asked, what to keep or change. An
    emergency change is reviewed before it may close."""

    flow_name: ClassVar[str] = "review-change"

    summary: str = Field(min_length=3, max_length=20_000, title="Review")


class CloseChange(ChangeCommand):
    flow_name: ClassVar[str] = "close-change"

    note: str = Field("", max_length=2000, title="Closing note")


class CancelChange(ChangeCommand):
    """Withdrawn before it started."""

    flow_name: ClassVar[str] = "cancel-change"

    reason: str = Field(min_length=3, max_length=2000, title="Why it is cancelled")


class ChangeApprovalDecision(BaseModel):
    """The form on a paused log-change run, and what the CLI sends."""

    approve: bool = Field(title="Approve", description="On: approve. Off: reject.")
    approver: PersonName = Field(
        title="Approver",
        description="Who decides, as the directory names them: a change manager, a member of "
        "the CI's owner group, the advisory board, an emergency approver; never the requester.",
    )
    comment: str = Field("", max_length=2000, title="Comment", description="Kept on the record.")


CHANGE_COMMANDS: tuple[type[ChangeCommand], ...] = (
    ScheduleChange,
    ImplementChange,
    CompleteChange,
    FailChange,
    BackOutChange,
    ReviewChange,
    CloseChange,
    CancelChange,
)
