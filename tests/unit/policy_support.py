"""An operator's request policy on the Prefect test server, for the tests of approval
authority that go through the gateway or the CLI (both load the policy block from Prefect)."""

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.orchestration import get_client

from blocks.request_policy import RequestPolicyBlock
from blocks.saved import DOCUMENT
from serviceops.domain.request import RequestPolicy, SystemAccess

# bob's delegate is dave; olive owns crm; fiona gives financial approvals.
POLICY = RequestPolicy(
    systems=[SystemAccess(system="crm", owner="olive", roles={"user": []})],
    manager_delegates={"bob": ["dave"]},
    financial_approvers=["fiona"],
)


@contextmanager
def saved_request_policy(policy: RequestPolicy = POLICY) -> Iterator[RequestPolicy]:
    """`policy` saved as the operator's block on the current Prefect API, deleted after (the
    test server lives for the whole session; other tests expect the defaults)."""
    block_id = RequestPolicyBlock(policy=policy).save(DOCUMENT, overwrite=True)
    try:
        yield policy
    finally:
        with get_client(sync_client=True) as client:
            client.delete_block_document(block_id)
