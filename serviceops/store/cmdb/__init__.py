"""The catalogue (CMDB) as loaded into the database, and the history of check results.

The file is the source of truth and the database its last loaded copy: flows, the gateway
and the CLI read the copy, so they agree on one catalogue however many hosts they run on, and
nobody needs the file at hand."""

from serviceops.store.cmdb.catalogue import CatalogueRepository
from serviceops.store.cmdb.check_runs import CheckRunRepository

__all__ = ["CatalogueRepository", "CheckRunRepository"]
