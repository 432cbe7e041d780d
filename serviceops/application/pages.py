"""Answering a page from outside its runs (a Slack button, the CLI): the same check the
acknowledge-page flow makes, made first, so someone who may not answer is told at once and
nothing is started."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from serviceops.domain.machine import IllegalTransition
from serviceops.domain.oncall import NotPaged, acknowledge, members
from serviceops.store.base import RecordNotFound
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.oncall import PageRepository


def acknowledge_refusal(session: Session, number: str, person: str) -> str | None:
    """Why `person` may not acknowledge page `number` (unknown, ended, neither paged nor in
    its group), None when they may."""
    try:
        page = PageRepository(session).get(number)
    except RecordNotFound:
        return f"There is no page {number}."
    schedule = CatalogueRepository(session).catalogue().schedule(page.group)
    group = members(schedule) if schedule is not None else set()
    try:
        acknowledge(page, person, group, datetime.now(UTC))
    except (NotPaged, IllegalTransition) as refused:
        return str(refused)
    return None
