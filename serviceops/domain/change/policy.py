"""The change policy an operator tunes: who manages change, who sits on the advisory board,
who may approve an emergency, what each risk needs, and the standard changes pre-approved."""

from pydantic import BaseModel, Field

from serviceops.domain.change.record import NAME_PATTERN, ChangeApprovalKind, Risk


class StandardChange(BaseModel):
    """A template of routine work, approved once for every change that follows it."""

    name: str = Field(pattern=NAME_PATTERN, max_length=100, description="e.g. patch-linux")
    title: str = Field(min_length=3, max_length=200)
    max_risk: Risk = Field(Risk.LOW, description="A change riskier than this is not standard.")


def _default_standard() -> list[StandardChange]:
    return [
        StandardChange(name="patch-linux", title="Monthly OS patches on a Linux server"),
        StandardChange(name="renew-certificate", title="Renew a TLS certificate"),
        StandardChange(name="restart-service", title="Restart an application service"),
    ]


def _default_approvals() -> dict[Risk, list[ChangeApprovalKind]]:
    kinds = ChangeApprovalKind
    return {
        Risk.LOW: [kinds.CHANGE_MANAGER],
        Risk.MEDIUM: [kinds.CI_OWNER, kinds.CHANGE_MANAGER],
        Risk.HIGH: [kinds.CI_OWNER, kinds.CHANGE_MANAGER, kinds.CAB],
    }


class ChangePolicy(BaseModel):
    change_managers: list[str] = Field(
        default_factory=lambda: ["change-manager"],
        description="Directory users who give change manager approvals.",
    )
    cab: list[str] = Field(
        default_factory=lambda: ["cab-chair"],
        description="Directory users of the change advisory board: one of them approves for it.",
    )
    emergency_approvers: list[str] = Field(
        default_factory=list,
        description="Who may approve an emergency change alone (the emergency CAB); empty: "
        "the change managers.",
    )
    approvals_by_risk: dict[Risk, list[ChangeApprovalKind]] = Field(
        default_factory=_default_approvals,
        description="What a normal change of each risk needs, in order; ci_owner is one "
        "approval per owner group of the CIs affected (from the catalogue).",
    )
    standard_changes: list[StandardChange] = Field(
        default_factory=_default_standard,
        description="The pre-approved templates a standard change may follow.",
    )
    verified_approvals: bool = Field(
        False,
        description="Take approvals only from a verified channel (the CLI), never from a name "
        "typed into the form on a paused run.",
    )
    channel: str = Field(
        "#change-management", description="Where approvals are asked and changes told."
    )
    recent_hours: int = Field(
        72,
        ge=1,
        le=24 * 30,
        description="How far back initial diagnosis of an incident looks for changes.",
    )

    def template(self, name: str) -> StandardChange | None:
        return next((t for t in self.standard_changes if t.name == name), None)

    def emergency_deciders(self) -> list[str]:
        return list(self.emergency_approvers or self.change_managers)
