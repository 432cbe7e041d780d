"""`python -m deployments.serve`: one process serves every deployment (the embedded default).

The routine checks run on the schedules of the service catalogue loaded in the database
(`make up` loads it first; an empty catalogue keeps the defaults).

When it stops it pauses its deployments, which deletes their auto-scheduled runs: the next
`make up` starts the schedules afresh instead of catching up every sweep missed while down.
"""

from prefect import serve

from deployments.definitions import runner_deployments
from serviceops.settings import get_settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import sessions_for


def main() -> None:
    with sessions_for(get_settings().resolved_database_url).begin() as session:
        schedules = CatalogueRepository(session).catalogue().schedules
    serve(*runner_deployments(schedules))


if __name__ == "__main__":
    main()
