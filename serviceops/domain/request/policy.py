"""The request-fulfilment policy an operator tunes: systems and entitlements, who besides the
directory's managers and the systems' owners may approve, where approvals and work orders go,
how long an approval may wait before it is chased."""

from datetime import timedelta

from pydantic import BaseModel, Field

from serviceops.domain.request.access import SystemAccess
from serviceops.domain.request.catalogue import ApprovalKind, FulfilmentStep


def _default_systems() -> list[SystemAccess]:
    return [
        SystemAccess(system="vpn", owner="it-security", roles={"user": []}),
        SystemAccess(
            system="payroll",
            owner="finance-lead",
            roles={"viewer": ["finance"], "admin": ["finance-admins"]},
        ),
        SystemAccess(system="crm", owner="sales-ops", roles={"user": ["sales", "support"]}),
        SystemAccess(
            system="mailbox:*",
            owner="messaging-team",
            roles={"read": [], "send_as": [], "full": []},
        ),
    ]


class RequestPolicy(BaseModel):
    systems: list[SystemAccess] = Field(
        default_factory=_default_systems,
        description="Systems, their owners and the groups entitled to each role. An empty "
        "group list means everyone in the directory; a name ending in * covers every system "
        "it starts (mailbox:* for all shared mailboxes).",
    )
    manager_delegates: dict[str, list[str]] = Field(
        default_factory=dict,
        description="manager -> directory users who may give that manager's approvals "
        "(an assistant, a deputy while they are away).",
    )
    financial_approvers: list[str] = Field(
        default_factory=lambda: ["finance-lead"],
        description="Directory users who may give financial approvals. Default: finance-lead, "
        "the owner of payroll in the default systems; empty: nobody can, so requests above a "
        "financial threshold wait until someone is named.",
    )
    approval_window: timedelta = Field(
        timedelta(hours=24), description="How long an approval may wait before it is chased."
    )
    approval_channels: dict[ApprovalKind, str] = Field(
        default_factory=lambda: {
            ApprovalKind.FINANCIAL: "#finance-approvals",
            ApprovalKind.MANAGER: "#approvals",
            ApprovalKind.SYSTEM_OWNER: "#approvals",
        },
        description="Where each kind of approval is asked for (with buttons).",
    )
    verified_approvals: bool = Field(
        False,
        description="Take approvals only from a verified channel (a Slack button, the CLI), "
        "never from a name typed into the form on a paused run.",
    )
    escalation_channel: str = Field(
        "#service-desk-leads", description="Where overdue approvals are chased."
    )
    requests_channel: str = Field(
        "#service-requests", description="Where requesters hear about their requests."
    )
    work_order_channels: dict[str, str] = Field(
        default_factory=lambda: {
            FulfilmentStep.ORDER_HARDWARE: "#it-logistics",
            FulfilmentStep.HAND_OVER_HARDWARE: "#it-logistics",
            FulfilmentStep.INSTALL_SOFTWARE: "#desktop-support",
            FulfilmentStep.RESET_PASSWORD: "#service-desk",
        },
        description="Teams that carry out the manual fulfilment steps.",
    )
    access_review_channel: str = Field(
        "#access-reviews", description="Where review-access reports removals and flags."
    )

    def access_for(self, system: str) -> SystemAccess | None:
        """The system's entry: its own, else the longest `prefix*` entry that covers it."""
        for entry in self.systems:
            if entry.system == system:
                return entry
        covering = [
            entry
            for entry in self.systems
            if entry.system.endswith("*") and system.startswith(entry.system[:-1])
        ]
        return max(covering, key=lambda entry: len(entry.system), default=None)
