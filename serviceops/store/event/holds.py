"""What holds alerts back now: the active silences and the maintenance windows of the changes
implementing (domain.change.windows), in one index for the correlator.

Every correlation batch asks, and reading a thousand silences cost a batch more than deciding
its events: they are read again only when a silence was added, changed or lifted, a change
started or stopped implementing, or the catalogue was loaded since (aggregate queries over the
active ones say), or the first silence reached its end.
"""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from serviceops.domain.change import maintenance_windows
from serviceops.domain.event import SilenceIndex
from serviceops.store.change import ChangeRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.event.silences import SilenceRepository

_Version = tuple[object, ...]
# The holds as last read, per database: (version, valid until, index).
_INDEXES: dict[str, tuple[_Version, datetime, SilenceIndex]] = {}
_NEVER = datetime.max.replace(tzinfo=UTC)


def hold_index(session: Session, at: datetime) -> SilenceIndex:
    """The silences in force at `at` and the windows of the changes implementing, indexed."""
    silences, changes = SilenceRepository(session), ChangeRepository(session)
    catalogue = CatalogueRepository(session)
    version = (silences.active_version(), changes.implementing_version(), catalogue.loaded())
    database = session.get_bind().url.render_as_string()
    cached = _INDEXES.get(database)
    if cached is not None and cached[0] == version and at < cached[1]:
        return cached[2]
    active = silences.active(at)
    implementing = changes.implementing()
    dependencies = catalogue.dependencies()
    windows = [w for change in implementing for w in maintenance_windows(change, dependencies)]
    index = SilenceIndex([*windows, *active])
    _INDEXES[database] = (version, min((s.ends_at for s in active), default=_NEVER), index)
    return index
