"""Paging: the escalation ladder of a support group, and the page record that walks it.

A page (PGE-000001) is opened for an incident and pages the ladder's first level; each level
names whom to page (a layer of the group's schedule, a person, the manager) and how long to
wait for an acknowledgement before the next level is paged. The ladder can be walked again
`repeat` times; when it is exhausted, management is told. Acknowledging (the paged person or
a member of the group) ends the page; so does the incident's resolution. The steps are
numbered, so a step already paged is never paged again (a retried or restarted run).
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from serviceops.domain.machine import SYSTEM_ACTOR, AuditEntry, Lifecycle, change_entry
from serviceops.domain.oncall.escalation import EscalationPolicy, Level, Target, TargetKind
from serviceops.domain.oncall.schedule import Override, Schedule, on_call
from serviceops.domain.provenance import PersonName


def ladder(schedule: Schedule) -> EscalationPolicy:
    """The group's escalation policy; without one, each layer in turn, five minutes each,
    then the manager."""
    if schedule.escalation is not None:
        return schedule.escalation
    levels = [Level(targets=[Target(kind=TargetKind.LAYER, name=n)]) for n in schedule.layer_names]
    return EscalationPolicy(levels=[*levels, Level(targets=[Target(kind=TargetKind.MANAGER)])])


class PageState(StrEnum):
    PAGING = "paging"
    ACKNOWLEDGED = "acknowledged"
    STOPPED = "stopped"  # the incident was resolved first
    EXHAUSTED = "exhausted"  # nobody answered: management told


class PageAction(StrEnum):
    ESCALATE = "escalate"
    ACKNOWLEDGE = "acknowledge"
    STOP = "stop"
    EXHAUST = "exhaust"


PAGES = Lifecycle(
    "page",
    {
        (PageState.PAGING, PageAction.ESCALATE): PageState.PAGING,
        (PageState.PAGING, PageAction.ACKNOWLEDGE): PageState.ACKNOWLEDGED,
        (PageState.PAGING, PageAction.STOP): PageState.STOPPED,
        (PageState.PAGING, PageAction.EXHAUST): PageState.EXHAUSTED,
    },
)


class Paged(BaseModel):
    """Whom one step paged, and when: people, and Slack user groups (their ids)."""

    step: int
    persons: list[str]
    at: datetime
    slack_groups: list[str] = Field(default_factory=list)


class Page(BaseModel):
    number: str
    incident: str
    group: str
    state: PageState
    step: int = 0
    opened_at: datetime
    updated_at: datetime
    paged: list[Paged] = Field(default_factory=list)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    def paged_at(self, step: int) -> Paged | None:
        return next((p for p in self.paged if p.step == step), None)


class PageChange(BaseModel):
    page: Page
    audit: AuditEntry


PAGE_NUMBER = r"^PGE-\d{6,}$"


class AcknowledgePage(BaseModel):
    """The form (and what the Slack button and the CLI send): who answers which page."""

    number: str = Field(pattern=PAGE_NUMBER, title="Page number", description="e.g. PGE-000001")
    actor: PersonName = Field(
        title="Actor", description="Who answers: someone the page paged, or in its group."
    )


class NotPaged(ValueError):
    """The person may not acknowledge this page: neither paged by it nor in its group."""


def persons_to_page(
    level: Level, schedule: Schedule, overrides: list[Override], at: datetime
) -> list[str]:
    """The people `level` pages at `at`, each once, in the order its targets name them."""
    found: list[str] = []
    for target in level.targets:
        match target.kind:
            case TargetKind.LAYER:
                person = on_call(schedule, overrides, target.name, at).person
            case TargetKind.PERSON:
                person = target.name
            case TargetKind.MANAGER:
                person = schedule.manager
            case TargetKind.SLACK_GROUP:
                continue  # no one person: slack_groups_to_page
        if person not in found:
            found.append(person)
    return found


def slack_groups_to_page(level: Level) -> list[str]:
    """The Slack user groups `level` pages (their ids), in the order it names them."""
    return [t.name for t in level.targets if t.kind is TargetKind.SLACK_GROUP]


def page_step(
    page: Page, persons: list[str], at: datetime, slack_groups: list[str] | None = None
) -> PageChange | None:
    """Record that the current step paged `persons` (and `slack_groups`); None when it was
    paged already (a retried run) or the page has ended."""
    if page.state is not PageState.PAGING or page.paged_at(page.step) is not None:
        return None
    groups = slack_groups or []
    paged = Paged(step=page.step, persons=persons, at=at, slack_groups=groups)
    after = page.model_copy(update={"paged": [*page.paged, paged]})
    whom = [*persons, *(f"Slack group {g}" for g in groups)]
    reason = f"step {page.step + 1}: paged {', '.join(whom)}"
    return _change(page, after, "page", SYSTEM_ACTOR, at, reason)


def next_due(page: Page, policy: EscalationPolicy) -> datetime | None:
    """When the next step is due: the current step's paging plus its level's wait; None once
    the page has ended or before the current step was paged."""
    paged, level = page.paged_at(page.step), policy.level(page.step)
    if page.state is not PageState.PAGING or paged is None or level is None:
        return None
    return paged.at + level.wait


def escalate(page: Page, policy: EscalationPolicy, to_step: int, at: datetime) -> PageChange | None:
    """Move to `to_step` when nobody answered the step before (None if the page is past it
    or has ended); past the ladder's last step the page is exhausted."""
    if page.state is not PageState.PAGING or page.step >= to_step:
        return None
    if policy.level(to_step) is None:
        state = PAGES.next_state(page.number, page.state, PageAction.EXHAUST)
        after = page.model_copy(update={"state": state, "updated_at": at})
        return _change(page, after, PageAction.EXHAUST, SYSTEM_ACTOR, at, "nobody answered")
    PAGES.next_state(page.number, page.state, PageAction.ESCALATE)
    after = page.model_copy(update={"step": to_step, "updated_at": at})
    reason = f"no acknowledgement: step {to_step + 1}"
    return _change(page, after, PageAction.ESCALATE, SYSTEM_ACTOR, at, reason)


def acknowledge(page: Page, person: str, group: set[str], at: datetime) -> PageChange:
    """`person` answers: someone the page paged, or a member of its group (`group`: everyone
    in the group's schedule and its manager). NotPaged otherwise; IllegalTransition when it
    has ended."""
    state = PAGES.next_state(page.number, page.state, PageAction.ACKNOWLEDGE)
    paged = {p for step in page.paged for p in step.persons}
    if person not in paged and person not in group:
        raise NotPaged(
            f"{page.number}: {person} was not paged and is not in {page.group}; nothing changed"
        )
    after = page.model_copy(
        update={"state": state, "acknowledged_by": person, "acknowledged_at": at, "updated_at": at}
    )
    return _change(page, after, PageAction.ACKNOWLEDGE, person, at, f"by {person}")


def stop(page: Page, reason: str, at: datetime) -> PageChange | None:
    """The incident no longer needs anyone woken (resolved meanwhile); None if it ended."""
    if page.state is not PageState.PAGING:
        return None
    state = PAGES.next_state(page.number, page.state, PageAction.STOP)
    after = page.model_copy(update={"state": state, "updated_at": at})
    return _change(page, after, PageAction.STOP, SYSTEM_ACTOR, at, reason)


def members(schedule: Schedule) -> set[str]:
    """Who belongs to the group as far as paging is concerned: its layers' members and its
    manager."""
    return {m for layer in schedule.layers for m in layer.members} | {schedule.manager}


def _change(
    before: Page, after: Page, action: str, actor: str, at: datetime, reason: str
) -> PageChange:
    return PageChange(page=after, audit=change_entry(before, after, action, actor, at, reason))
