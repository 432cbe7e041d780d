"""The schedule of change as the store sees it: a window checked against the planned changes
that overlap it and the catalogue's freeze periods, with the CMDB saying which CIs relate."""

from datetime import datetime

from sqlalchemy.orm import Session

from serviceops.domain.change import Conflict, conflicts
from serviceops.store.change.changes import ChangeRepository
from serviceops.store.cmdb import CatalogueRepository


def window_conflicts(
    session: Session, number: str, cis: list[str], start: datetime, end: datetime
) -> list[Conflict]:
    """Every collision of change `number`'s window `start`-`end` on `cis`."""
    catalogue = CatalogueRepository(session)
    others = ChangeRepository(session).overlapping(start, end)
    graph = catalogue.dependencies()
    return conflicts(number, cis, start, end, others, catalogue.freezes(), graph.related)
