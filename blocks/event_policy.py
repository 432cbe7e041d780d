"""The event policy as a block: filters, significance and response rules, correlation window,
runbooks. An operator retunes event management in the Prefect UI without a release."""

from prefect.blocks.core import Block
from pydantic import Field

from blocks.saved import load_saved
from serviceops.domain.event import EventPolicy


class EventPolicyBlock(Block):
    """How serviceops filters, correlates and responds to events."""

    _block_type_name = "ServiceOps Event Policy"
    _block_type_slug = "serviceops-event-policy"
    _description = "Filtering, significance, correlation and response rules for events."

    policy: EventPolicy = Field(
        default_factory=EventPolicy, description="ITIL defaults unless changed."
    )

    def get_policy(self) -> EventPolicy:
        return self.policy


def load_event_policy() -> EventPolicy:
    """The operator's policy block if one is saved, else the defaults."""
    return load_saved(EventPolicyBlock).get_policy()
