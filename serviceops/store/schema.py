"""The whole schema: every process's tables on one metadata, for Alembic and the schema test.

A table module registers its classes on `Base.metadata` when imported; this imports them all,
so the metadata compared with the migrated database is never missing a table.
"""

# Imported for what importing does: each module adds its tables to Base.metadata.
from serviceops.store import audit, locks, notifications, tickets  # noqa: F401
from serviceops.store.base import Base
from serviceops.store.change import tables as change_tables  # noqa: F401
from serviceops.store.cmdb import tables as cmdb_tables  # noqa: F401
from serviceops.store.event import tables as event_tables  # noqa: F401
from serviceops.store.incident import tables as incident_tables  # noqa: F401
from serviceops.store.oncall import tables as oncall_tables  # noqa: F401
from serviceops.store.problem import tables as problem_tables  # noqa: F401
from serviceops.store.request import tables as request_tables  # noqa: F401

metadata = Base.metadata
