"""The problem policy as a block: what counts as a trend, and where problem management talks.
An operator retunes trend detection (how many incidents, in what window) in the Prefect UI."""

from prefect.blocks.core import Block
from pydantic import BaseModel, Field

from blocks.saved import load_saved
from serviceops.domain.problem import TrendRule


class ProblemPolicy(BaseModel):
    trends: TrendRule = Field(default_factory=TrendRule, description="What makes a trend.")
    channel: str = Field(
        "#problem-management", description="Where new problems and major reviews are told."
    )


class ProblemPolicyBlock(Block):
    """Trend detection and the problem management channel."""

    _block_type_name = "ServiceOps Problem Policy"
    _block_type_slug = "serviceops-problem-policy"
    _description = "Trend detection rules and the channel of problem management."

    policy: ProblemPolicy = Field(default_factory=ProblemPolicy, description="The defaults.")

    def get_policy(self) -> ProblemPolicy:
        return self.policy


def load_problem_policy() -> ProblemPolicy:
    """The operator's policy block if one is saved, else the defaults."""
    return load_saved(ProblemPolicyBlock).get_policy()
