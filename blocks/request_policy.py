"""The request-fulfilment policy as a block, tuned by operators in the Prefect UI."""

from typing import TYPE_CHECKING

from prefect.blocks.core import Block
from pydantic import Field

from blocks.saved import aload_saved, load_saved
from serviceops.domain.request import RequestPolicy

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient


class RequestPolicyBlock(Block):
    """Systems and entitlements, who may approve (manager delegates, financial approvers),
    approval channels and window, work-order teams."""

    _block_type_name = "ServiceOps Request Policy"
    _block_type_slug = "serviceops-request-policy"
    _description = "How serviceops verifies, approves and fulfils service requests."

    policy: RequestPolicy = Field(default_factory=RequestPolicy)

    def get_policy(self) -> RequestPolicy:
        return self.policy


def load_request_policy() -> RequestPolicy:
    """The operator's block if one is saved, else the defaults."""
    return load_saved(RequestPolicyBlock).get_policy()


async def aload_request_policy(client: "PrefectClient") -> RequestPolicy:
    """The same, read through the caller's client: the gateway checks approval authority
    against the policy the flow will check it against, on the Prefect API it is bound to."""
    return (await aload_saved(RequestPolicyBlock, client)).get_policy()
