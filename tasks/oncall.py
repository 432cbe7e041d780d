"""On-call tasks: setting an override, one transaction with its audit row."""

from prefect import task
from prefect.cache_policies import NO_CACHE

from serviceops.domain.oncall import Override, SetOverride, check_override, override_set
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.oncall import OverrideRepository
from tasks.context import audit, now, sessions


@task(cache_policy=NO_CACHE)
def record_override(command: SetOverride) -> Override:
    """Checked against the catalogue's schedules (the group and its layer exist), stored,
    audited with how its actor was known."""
    with sessions().begin() as session:
        schedules = CatalogueRepository(session).catalogue().oncall
        stored = OverrideRepository(session).add(check_override(command, schedules), now())
        audit(session, override_set(stored, now()))
    return stored
