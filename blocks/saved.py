"""The one document of each serviceops block: the operator's, once saved, else the defaults.

Every block type has one document, `default` (`python -m blocks.register` saves it with the
defaults; operators edit it in the UI). A process that runs before it is saved, or without a
Prefect server (the CLI reading a policy, tests), works on the block type's defaults.
"""

from typing import TYPE_CHECKING, TypeVar

from prefect.blocks.core import Block

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

DOCUMENT = "default"
BlockT = TypeVar("BlockT", bound=Block)


def load_saved(block_type: type[BlockT]) -> BlockT:
    """The saved document, else a block of defaults."""
    try:
        return block_type.load(DOCUMENT)
    except ValueError:  # none saved yet
        return block_type()


async def aload_saved(block_type: type[BlockT], client: "PrefectClient") -> BlockT:
    """load_saved() through the caller's client (and so the Prefect API it is bound to)."""
    try:
        return await block_type.aload(DOCUMENT, client=client)
    except ValueError:
        return block_type()
