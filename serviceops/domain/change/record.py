"""The change record (CHG-000001), its states and actions, and its lifecycle (CHANGES, run by
the shared machine).

ITIL's change enablement in the shape operation needs: a change says what will be done to
which configuration items, when, how it is undone, and who agreed. Its planned window is what
the schedule of change checks for conflicts (schedule.py), and while it is implementing its
CIs make no noise (the event correlator holds their alerts, marked with its number).
"""

import re
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from serviceops.domain.machine import Lifecycle
from serviceops.domain.provenance import PersonName

CHANGE_PATTERN = r"^CHG-\d{6,}$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class ChangeKind(StrEnum):
    STANDARD = "standard"  # pre-approved by its template: routine, low risk, well known
    NORMAL = "normal"  # assessed and approved as its risk requires
    EMERGENCY = "emergency"  # one approver now, a review afterwards


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ChangeState(StrEnum):
    NEW = "new"
    ASSESSMENT = "assessment"
    APPROVAL = "approval"
    SCHEDULED = "scheduled"
    IMPLEMENTING = "implementing"
    IMPLEMENTED = "implemented"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    FAILED = "failed"
    BACKED_OUT = "backed_out"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# Changes whose window the schedule of change counts: what another change may collide with.
PLANNED_STATES = frozenset(
    {ChangeState.ASSESSMENT, ChangeState.APPROVAL, ChangeState.SCHEDULED, ChangeState.IMPLEMENTING}
)
ENDED_STATES = frozenset(
    {
        ChangeState.CLOSED,
        ChangeState.FAILED,
        ChangeState.BACKED_OUT,
        ChangeState.REJECTED,
        ChangeState.CANCELLED,
    }
)


class ChangeAction(StrEnum):
    ASSESS = "assess"
    AWAIT_APPROVAL = "await_approval"
    APPROVE = "approve"
    REJECT = "reject"
    SCHEDULE = "schedule"
    IMPLEMENT = "implement"
    COMPLETE = "complete"
    FAIL = "fail"
    BACK_OUT = "back_out"
    REVIEW = "review"
    CLOSE = "close"
    CANCEL = "cancel"


S, A = ChangeState, ChangeAction
CHANGE_TRANSITIONS: dict[tuple[ChangeState, ChangeAction], ChangeState] = {
    (S.NEW, A.ASSESS): S.ASSESSMENT,
    (S.ASSESSMENT, A.AWAIT_APPROVAL): S.APPROVAL,
    (S.APPROVAL, A.APPROVE): S.APPROVAL,  # one approval; scheduling needs them all
    (S.APPROVAL, A.REJECT): S.REJECTED,
    (S.ASSESSMENT, A.SCHEDULE): S.SCHEDULED,  # standard: approved by its template
    (S.APPROVAL, A.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, A.SCHEDULE): S.SCHEDULED,  # a new window, checked again
    (S.SCHEDULED, A.IMPLEMENT): S.IMPLEMENTING,
    (S.IMPLEMENTING, A.COMPLETE): S.IMPLEMENTED,
    (S.IMPLEMENTING, A.FAIL): S.FAILED,
    (S.IMPLEMENTING, A.BACK_OUT): S.BACKED_OUT,
    (S.IMPLEMENTED, A.REVIEW): S.REVIEWED,
    (S.REVIEWED, A.REVIEW): S.REVIEWED,
    (S.FAILED, A.REVIEW): S.FAILED,  # what went wrong is reviewed too; it stays failed
    (S.BACKED_OUT, A.REVIEW): S.BACKED_OUT,
    (S.IMPLEMENTED, A.CLOSE): S.CLOSED,  # not an emergency change: that one is reviewed first
    (S.REVIEWED, A.CLOSE): S.CLOSED,
    (S.NEW, A.CANCEL): S.CANCELLED,
    (S.ASSESSMENT, A.CANCEL): S.CANCELLED,
    (S.APPROVAL, A.CANCEL): S.CANCELLED,
    (S.SCHEDULED, A.CANCEL): S.CANCELLED,
}
del S, A
CHANGES = Lifecycle("change", CHANGE_TRANSITIONS)


class ChangeApprovalKind(StrEnum):
    """Who must agree: the change manager, the owner group of an affected CI, the change
    advisory board (high risk), or one emergency approver (emergency changes)."""

    CHANGE_MANAGER = "change_manager"
    CI_OWNER = "ci_owner"
    CAB = "cab"
    EMERGENCY = "emergency"


class RequiredApproval(BaseModel, frozen=True):
    """One approval a change needs; `group` names the owner group of a CI_OWNER approval."""

    kind: ChangeApprovalKind
    group: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind} {self.group}" if self.group else str(self.kind)

    @property
    def key(self) -> str:
        """For pause keys and tickets: lowercase, digits and dashes."""
        return self.label.replace("_", "-").replace(" ", "-").replace(".", "-")


class ChangeApproval(BaseModel):
    """One decision of one approver on one required approval."""

    required: RequiredApproval
    approver: str
    approved: bool
    comment: str = ""
    at: datetime


class ChangeDraft(BaseModel):
    """The log-change form: what will be done to which CIs, when, how it is undone."""

    title: str = Field(min_length=3, max_length=200, title="Title", description="One line.")
    description: str = Field(
        "", max_length=20_000, title="Description", description="What changes, and why."
    )
    cis: list[str] = Field(
        min_length=1,
        max_length=50,
        title="CIs affected",
        description="The configuration items it touches, as the catalogue names them.",
    )
    kind: ChangeKind = Field(
        ChangeKind.NORMAL,
        title="Kind",
        description="standard: pre-approved by its template; normal: approved as its risk "
        "requires; emergency: one approver now, a review afterwards.",
    )
    template: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        max_length=100,
        title="Standard change template",
        description="Required for a standard change: the pre-approved template it follows.",
    )
    risk: Risk = Field(Risk.MEDIUM, title="Risk", description="Decides the approvals needed.")
    planned_start: AwareDatetime = Field(title="Planned start", description="With its zone.")
    planned_end: AwareDatetime = Field(title="Planned end", description="Later than the start.")
    implementation_plan: str = Field(
        min_length=3, max_length=20_000, title="Implementation plan", description="The steps."
    )
    backout_plan: str = Field(
        min_length=3,
        max_length=20_000,
        title="Back-out plan",
        description="How it is undone if it goes wrong.",
    )
    requester: PersonName = Field(
        title="Requester", description="Who asks for it (cannot approve it)."
    )

    @field_validator("cis")
    @classmethod
    def _named(cls, cis: list[str]) -> list[str]:
        names = list(dict.fromkeys(ci.strip().lower() for ci in cis))
        wrong = [name for name in names if not _is_name(name)]
        if wrong:
            raise ValueError(f"not CI names: {', '.join(wrong)}")
        return names

    @model_validator(mode="after")
    def _window_and_template(self) -> "ChangeDraft":
        if self.planned_end <= self.planned_start:
            raise ValueError("the planned end must be later than the planned start")
        if self.kind is ChangeKind.STANDARD and not self.template:
            raise ValueError("a standard change names the template that pre-approves it")
        if self.kind is not ChangeKind.STANDARD and self.template:
            raise ValueError("only a standard change follows a template")
        return self


def _is_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None and len(name) <= 100


class Change(ChangeDraft):
    """A change as change management sees it."""

    number: str
    state: ChangeState
    approvals_required: list[RequiredApproval] = Field(default_factory=list)
    approvals: list[ChangeApproval] = Field(default_factory=list)
    approval_round: int = Field(0, description="Decisions refused so far (four eyes, authority).")
    conflicts: list[str] = Field(
        default_factory=list,
        description="Conflicts an emergency change went ahead despite (for the review).",
    )
    flow_run_id: str | None = None
    started_at: datetime | None = None
    implemented_at: datetime | None = None
    outcome: str | None = Field(None, description="How implementation went, in words.")
    review_summary: str | None = None
    reviewed_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    def pending_approval(self) -> RequiredApproval | None:
        """The next approval still to be given, in the order required; None when all are."""
        given = {a.required for a in self.approvals if a.approved}
        return next((r for r in self.approvals_required if r not in given), None)

    @property
    def approved(self) -> bool:
        """Every approval it needs is given (a standard change needs none)."""
        return self.state is not ChangeState.REJECTED and self.pending_approval() is None

    @property
    def needs_review(self) -> bool:
        """An emergency change is reviewed before it may close."""
        return self.kind is ChangeKind.EMERGENCY and self.reviewed_at is None

    @property
    def run_key(self) -> str:
        """Prefect idempotency key of this change's log-change run (see ServiceRequest's)."""
        return f"log-change:{self.number}:{self.created_at.timestamp():.6f}"
