"""Routing rules: the first rule that matches a record's service, category and priority wins.

The same rule shape routes incidents to support groups and messages to Slack channels.
"""

from pydantic import BaseModel, Field

from serviceops.domain.categories import CategoryFilter, ServiceFilter, in_category
from serviceops.domain.priority import Priority


class Route(BaseModel):
    """Match on any of service, category prefix and worst priority; empty fields match all."""

    target: str = Field(description="Support group or Slack channel this rule sends to.")
    service: ServiceFilter = Field(None, description="Exact service (CI) name.")
    category: CategoryFilter = Field(None, description="Category or category prefix, e.g. network.")
    max_priority: Priority | None = Field(
        None, description="Match only priorities at least this urgent (1 is the most urgent)."
    )

    def matches(self, service: str, category: str, priority: Priority) -> bool:
        if self.service is not None and self.service != service:
            return False
        if self.category is not None and not in_category(category, self.category):
            return False
        return self.max_priority is None or priority <= self.max_priority


def route(
    routes: list[Route], default: str, *, service: str, category: str, priority: Priority
) -> str:
    for rule in routes:
        if rule.matches(service, category, priority):
            return rule.target
    return default
