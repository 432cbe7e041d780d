"""The desk's on-call schedule in the served stack's catalogue, for each paging test."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.request import Identity
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.request import IdentityRepository
from tests.flows.conftest import ServedStack
from tests.flows.paging.support import DESK, SLACK_IDS


@pytest.fixture
def on_call(served: ServedStack) -> Iterator[ServedStack]:
    """The desk's schedule in the catalogue and its people in the directory; afterwards an
    empty catalogue again (the module's other tests log incidents that must not page)."""
    with served.sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[DESK]), datetime.now(UTC), "t")
        for person, slack_id in SLACK_IDS.items():
            IdentityRepository(session).upsert(Identity(user=person, slack_user_id=slack_id))
    yield served
    with served.sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(), datetime.now(UTC), "t")
