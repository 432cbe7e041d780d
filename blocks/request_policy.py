"""The request-fulfilment policy as a block, tuned by operators in the Prefect UI."""

from prefect.blocks.core import Block
from pydantic import Field

from serviceops.domain.request_policy import RequestPolicy

DOCUMENT = "default"


class RequestPolicyBlock(Block):
    """Systems and entitlements, approval channels and window, work-order teams."""

    _block_type_name = "ServiceOps Request Policy"
    _block_type_slug = "serviceops-request-policy"
    _description = "How serviceops verifies, approves and fulfils service requests."

    policy: RequestPolicy = Field(default_factory=RequestPolicy)

    def get_policy(self) -> RequestPolicy:
        return self.policy


def load_request_policy() -> RequestPolicy:
    """The operator's block if one is saved, else the defaults."""
    try:
        return RequestPolicyBlock.load(DOCUMENT).get_policy()
    except ValueError:
        return RequestPolicy()
