"""The incident policy as a block, so an operator can retune priorities, calendar and routing
in the Prefect UI without a release."""

from prefect.blocks.core import Block
from pydantic import Field

from blocks.saved import load_saved
from serviceops.domain.incident import IncidentPolicy


class IncidentPolicyBlock(Block):
    """Priority matrix and targets, business calendar, support-group routing, reopen window."""

    _block_type_name = "ServiceOps Incident Policy"
    _block_type_slug = "serviceops-incident-policy"
    _description = "How serviceops prioritizes, times and routes incidents."

    policy: IncidentPolicy = Field(
        default_factory=IncidentPolicy, description="The ITIL default tables unless changed."
    )

    def get_policy(self) -> IncidentPolicy:
        return self.policy


def load_policy() -> IncidentPolicy:
    """The operator's policy block if one is saved, else the ITIL defaults."""
    return load_saved(IncidentPolicyBlock).get_policy()
