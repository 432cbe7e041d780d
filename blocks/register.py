"""`python -m blocks.register`: register serviceops's block types and save their default
documents (only where none exists, so an operator's edits in the UI survive `make up`)."""

import logging

from blocks.event_policy import EventPolicyBlock
from blocks.incident_policy import IncidentPolicyBlock
from blocks.problem_policy import ProblemPolicyBlock
from blocks.request_policy import RequestPolicyBlock
from blocks.saved import DOCUMENT
from blocks.slack import SlackBlock

logger = logging.getLogger(__name__)

BLOCKS = (
    IncidentPolicyBlock,
    RequestPolicyBlock,
    EventPolicyBlock,
    ProblemPolicyBlock,
    SlackBlock,
)


def register_blocks() -> list[str]:
    created = []
    for block_class in BLOCKS:
        block_class.register_type_and_schema()
        try:
            block_class.load(DOCUMENT)
        except ValueError:
            block_class().save(DOCUMENT)
            created.append(block_class.get_block_type_slug())
    return created


if __name__ == "__main__":
    logging.basicConfig(format="  %(message)s")  # root stays at WARNING: no httpx chatter
    logger.setLevel(logging.INFO)
    made = register_blocks()
    logger.info("blocks registered; default documents created: %s", ", ".join(made) or "none")
