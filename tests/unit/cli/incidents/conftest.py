"""The incident CLI tests' database, seeded with three incidents (tests/unit/cli/conftest.py
points the CLI at it)."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.seed import seed_incidents


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_incidents(cli_db)
    return cli_db
