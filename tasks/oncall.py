"""On-call tasks: setting an override (one transaction with its audit row), and telling
people at handoffs."""

import logging
from datetime import timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from serviceops.domain.oncall import (
    Override,
    SetOverride,
    check_override,
    handoffs,
    override_set,
)
from serviceops.notify.outbox import Outbox
from serviceops.notify.render import render_message
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import OverrideRepository, PageRepository
from serviceops.store.request import IdentityRepository
from tasks.context import audit, now, sessions

logger = logging.getLogger(__name__)
# A handoff is announced by the sweeps of this long after it (one a minute: several chances).
HANDOFF_WINDOW = timedelta(minutes=10)


@task(cache_policy=NO_CACHE)
def record_override(command: SetOverride) -> Override:
    """Checked against the catalogue's schedules (the group and its layer exist), stored,
    audited with how its actor was known."""
    with sessions().begin() as session:
        schedules = CatalogueRepository(session).catalogue().oncall
        stored = OverrideRepository(session).add(check_override(command, schedules), now())
        audit(session, override_set(stored, now()))
    return stored


@task(cache_policy=NO_CACHE)
def send_handoffs() -> list[str]:
    """Each handoff of the last HANDOFF_WINDOW: the incoming person gets their group's open
    incidents and waiting pages, the outgoing one a confirmation, by Slack direct message;
    once each, however many sweeps see the handoff (its outbox key)."""
    at = now()
    sent = []
    with sessions().begin() as session:
        schedules = CatalogueRepository(session).catalogue().oncall
        overrides = OverrideRepository(session).current(at - HANDOFF_WINDOW)
        directory, outbox = IdentityRepository(session), Outbox(session)
        for handoff in handoffs(schedules, overrides, at - HANDOFF_WINDOW, at):
            incidents = IncidentRepository(session).open_of_group(handoff.group, limit=1000)
            pages = [p for p in PageRepository(session).paging() if p.group == handoff.group]
            context = {"handoff": handoff, "incidents": incidents, "pages": pages}
            posted = False
            for person, side in ((handoff.incoming, "incoming"), (handoff.outgoing, "outgoing")):
                identity = directory.get(person)
                if identity is None or identity.slack_user_id is None:
                    logger.warning("handoff of %s: %s has no Slack user id", handoff.key, person)
                    continue
                message = render_message(f"handoff_{side}", **context)
                posted |= outbox.post(key=f"{handoff.key}:{side}", channel=identity.slack_user_id,
                                      message=message, record=None, at=at)  # fmt: skip
            if posted:  # the first sweep that sees it; the later ones find it queued
                sent.append(f"{handoff.group}/{handoff.layer}: {handoff.outgoing} → "
                            f"{handoff.incoming}")  # fmt: skip
    return sent
