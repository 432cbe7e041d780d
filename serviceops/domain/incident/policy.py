"""The incident policy an operator tunes: priorities, calendar, routing, reopen window, cadence."""

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from serviceops.domain.categories import clean_category
from serviceops.domain.incident.record import IncidentAction
from serviceops.domain.incident.routing import Route
from serviceops.domain.incident.sla import BusinessCalendar
from serviceops.domain.priority import Priority, PriorityPolicy


class IncidentPolicy(BaseModel):
    priorities: PriorityPolicy = Field(default_factory=PriorityPolicy)
    calendar: BusinessCalendar = Field(default_factory=BusinessCalendar)
    round_the_clock: set[Priority] = Field(
        default_factory=lambda: {Priority.CRITICAL},
        description="Priorities whose SLA clock runs 24x7 instead of on business hours.",
    )
    categories: list[str] = Field(
        default_factory=lambda: [
            "hardware",
            "hardware/laptop",
            "hardware/printer",
            "software",
            "software/email",
            "software/web",
            "network",
            "network/vpn",
            "network/wifi",
            "database",
            "access",
            "access/password",
            "security",
            "other",
        ],
        description="The categories log-incident's form offers, 'top' or 'top/sub/...'; "
        "their top levels are the known ones.",
    )
    group_routes: list[Route] = Field(default_factory=list)
    default_group: str = "service-desk"
    page_any_hour: set[Priority] = Field(
        default_factory=lambda: {Priority.CRITICAL, Priority.HIGH},
        description="Priorities that page the support group's on-call at any hour.",
    )
    page_in_business_hours: bool = Field(
        True, description="Other priorities page within business hours (the calendar) only."
    )
    verified_only: set[IncidentAction] = Field(
        default_factory=set,
        description="Steps taken only by an actor a verified channel vouches for (Slack, the "
        "CLI, a signed gateway request), never by a name typed into a UI form; e.g. resolve "
        "and close.",
    )
    reopen_window: timedelta = timedelta(days=7)
    major_update_cadence: timedelta = Field(
        timedelta(minutes=30), description="How often a major incident posts a status update."
    )

    def pages(self, priority: Priority | None, at: datetime) -> bool:
        """Whether an incident of `priority` logged at `at` pages whoever is on call."""
        if priority in self.page_any_hour:
            return True
        return priority is not None and self.page_in_business_hours and self.calendar.is_open(at)

    def calendar_for(self, priority: Priority) -> BusinessCalendar:
        if priority in self.round_the_clock:
            return self.calendar.model_copy(update={"always_open": True})
        return self.calendar

    def normalise_category(self, category: str) -> tuple[str, bool]:
        """Lower-case, trimmed 'a/b/c'; (category, True) when its top level is not known,
        in which case it becomes 'other/<given>' so nothing typed by a person is lost."""
        clean = clean_category(category)
        if not clean:
            return "other", True
        known = {clean_category(c).split("/")[0] for c in self.categories}
        if not known or clean.split("/")[0] in known:
            return clean, False
        return f"other/{clean}", True
