"""Who is on call: the document the read API and `serviceops oncall who` both return, from
the catalogue's schedules and the overrides recorded."""

from datetime import datetime

from sqlalchemy.orm import Session

from serviceops.domain.views import OnCallDocument, on_call_document
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.oncall import OverrideRepository


def on_call(session: Session, at: datetime, group: str | None = None) -> OnCallDocument:
    """Every layer of every group (or of `group`) at `at`, now and next; UnknownSchedule
    names the groups there are."""
    schedules = CatalogueRepository(session).catalogue().oncall
    overrides = OverrideRepository(session).current(at, group)
    return on_call_document(schedules, overrides, at, group)
