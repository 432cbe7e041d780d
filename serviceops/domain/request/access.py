"""Access management (ITIL SO 4.5): identities, entitlements, grants and their review.

Rights are provided through a `Provisioner`; serviceops ships one over a SQL table of grants
(serviceops.store.request.access). An LDAP group or an identity provider is another implementation
of the same three methods.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field


class IdentityStatus(StrEnum):
    ACTIVE = "active"
    MOVER = "mover"  # changed role or department: rights are reviewed
    LEAVER = "leaver"  # left: rights are removed


SLACK_USER_ID = r"^[UW][A-Z0-9]{2,31}$"


class Identity(BaseModel):
    """A person as the directory (HR feed, LDAP, identity provider) knows them.

    `user` is who they are to serviceops (requests, approvals, audit rows). The contact
    fields say how a channel recognises them: a Slack button press carries only the Slack
    user id, so it is the id, mapped here, that says who pressed, never a display name.
    """

    user: str
    status: IdentityStatus = IdentityStatus.ACTIVE
    manager: str | None = None
    groups: list[str] = Field(default_factory=list)
    slack_user_id: str | None = Field(
        None, pattern=SLACK_USER_ID, description="Slack user id, e.g. U0123ABCD (unique)."
    )
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(
        None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, e.g. +4915112345678 (paging)."
    )


class SystemAccess(BaseModel):
    """Who owns a system and which groups are entitled to each of its roles."""

    system: str
    owner: str = Field(description="Approves access as system owner.")
    roles: dict[str, list[str]] = Field(
        default_factory=dict, description="role -> groups whose members may hold it."
    )


class Grant(BaseModel):
    id: int
    user: str
    system: str
    role: str
    granted_at: datetime
    granted_by: str
    request: str | None = None
    expires_on: date | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    flagged_at: datetime | None = None
    flag_reason: str | None = None


class Provisioner(Protocol):
    """Where rights really live. Every method is idempotent: granting a held role returns
    the existing grant, revoking a revoked grant changes nothing."""

    def grant(
        self,
        *,
        user: str,
        system: str,
        role: str,
        expires_on: date | None,
        by: str,
        request: str | None,
        at: datetime,
    ) -> Grant: ...

    def revoke(self, grant_id: int, *, by: str, reason: str, at: datetime) -> Grant: ...

    def grants(self, *, user: str | None = None, active_only: bool = True) -> list[Grant]: ...


def verify_access(identity: Identity | None, access: SystemAccess | None, role: str) -> list[str]:
    """Problems that make an access request illegitimate (empty: verified). `access` is the
    system's entry in the policy (None: the system is not known)."""
    if identity is None:
        return ["unknown user: not in the directory"]
    problems = []
    if identity.status is IdentityStatus.LEAVER:
        problems.append(f"{identity.user} has left")
    if access is None:
        return [*problems, "unknown system"]
    entitled = access.roles.get(role)
    if entitled is None:
        problems.append(f"{access.system} has no role {role}")
    elif entitled and not set(entitled) & set(identity.groups):
        problems.append(
            f"{identity.user} is in none of the groups entitled to {access.system}/{role}"
        )
    return problems


class ReviewAction(StrEnum):
    REVOKE = "revoke"
    FLAG = "flag"


class ReviewFinding(BaseModel):
    grant: Grant
    action: ReviewAction
    reason: str


def review_grants(
    grants: list[Grant], identities: dict[str, Identity], today: date
) -> list[ReviewFinding]:
    """Expired grants and leavers' grants are removed; movers' grants are flagged once."""
    findings = []
    for grant in grants:
        if grant.revoked_at is not None:
            continue
        identity = identities.get(grant.user)
        if grant.expires_on is not None and grant.expires_on < today:
            findings.append(
                ReviewFinding(grant=grant, action=ReviewAction.REVOKE, reason="expired")
            )
        elif identity is None or identity.status is IdentityStatus.LEAVER:
            reason = "leaver" if identity else "not in the directory"
            findings.append(ReviewFinding(grant=grant, action=ReviewAction.REVOKE, reason=reason))
        elif identity.status is IdentityStatus.MOVER and grant.flagged_at is None:
            findings.append(
                ReviewFinding(grant=grant, action=ReviewAction.FLAG, reason="mover: review")
            )
    return findings
