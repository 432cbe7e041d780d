"""Which approvals a change needs and who may give them: the rules of change authority.

A standard change needs none (its template was approved once). A normal change needs what its
risk requires under the policy, one approval per owner group of its CIs where the CIs' owners
are asked. An emergency change needs one emergency approver. Whoever decides, the requester
never approves their own change (four eyes), and a policy that wants verified approvals takes
none typed into a form.
"""

from collections.abc import Mapping

from serviceops.domain.change.policy import ChangePolicy
from serviceops.domain.change.record import (
    Change,
    ChangeApprovalKind,
    ChangeDraft,
    ChangeKind,
    RequiredApproval,
    Risk,
)
from serviceops.domain.provenance import Provenance


class ChangeRefused(ValueError):
    """The change cannot be what it asks (an unknown template, a riskier standard change,
    closing an emergency change unreviewed); nothing was changed."""


def required_approvals(
    change: ChangeDraft, owner_groups: Mapping[str, str], policy: ChangePolicy
) -> list[RequiredApproval]:
    """What `change` needs, in order; `owner_groups`: each of its CIs' owner group (from the
    catalogue). ChangeRefused for a standard change its template does not cover."""
    if change.kind is ChangeKind.STANDARD:
        template = policy.template(change.template or "")
        if template is None:
            known = ", ".join(t.name for t in policy.standard_changes) or "none"
            raise ChangeRefused(f"no standard change template {change.template} (known: {known})")
        if _rank(change.risk) > _rank(template.max_risk):
            raise ChangeRefused(
                f"template {template.name} covers {template.max_risk} risk at most, "
                f"not {change.risk}: log it as a normal change"
            )
        return []
    if change.kind is ChangeKind.EMERGENCY:
        return [RequiredApproval(kind=ChangeApprovalKind.EMERGENCY)]
    required: list[RequiredApproval] = []
    for kind in policy.approvals_by_risk.get(change.risk, []):
        if kind is ChangeApprovalKind.CI_OWNER:
            groups = dict.fromkeys(owner_groups[ci] for ci in change.cis if ci in owner_groups)
            required += [RequiredApproval(kind=kind, group=group) for group in groups]
        else:
            required.append(RequiredApproval(kind=kind))
    return list(dict.fromkeys(required))


def _rank(risk: Risk) -> int:
    return list(Risk).index(risk)


def _same_name(name: str) -> str:
    return name.strip().casefold()


def requested_by(change: Change, person: str) -> bool:
    """Four eyes: whether `person` is the requester (names compared without case or edges)."""
    return _same_name(person) == _same_name(change.requester)


def approvers_for(required: RequiredApproval, policy: ChangePolicy) -> list[str]:
    """Who may give `required` by name; an owner group's approval is any of its members'."""
    match required.kind:
        case ChangeApprovalKind.CHANGE_MANAGER:
            return list(policy.change_managers)
        case ChangeApprovalKind.CAB:
            return list(policy.cab)
        case ChangeApprovalKind.EMERGENCY:
            return policy.emergency_deciders()
    return []


def approval_refusal(
    change: Change,
    required: RequiredApproval,
    approver: str,
    *,
    approver_groups: list[str],
    policy: ChangePolicy,
    known: Provenance,
) -> str | None:
    """Why `approver` (a directory user in `approver_groups`, `known` through that channel)
    may not give `required`, None when they may: the one rule for the CLI and the form on
    the paused run alike."""
    if requested_by(change, approver):
        return f"{approver} requested {change.number} and cannot approve it (four eyes)"
    if policy.verified_approvals and not known.verified:
        return (
            f"the change policy takes approvals only from a verified channel (the CLI), and "
            f"{approver} came as {known.describe()}"
        )
    if required.kind is ChangeApprovalKind.CI_OWNER:
        if required.group in approver_groups:
            return None
        return f"{approver} is not in {required.group}, the owner group of a CI it changes"
    allowed = approvers_for(required, policy)
    if approver in allowed:
        return None
    names = ", ".join(allowed) or "nobody: the change policy names none"
    return f"{approver} may not give the {required.kind} approval ({names})"
