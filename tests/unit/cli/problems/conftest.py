"""The problem CLI tests' database, seeded with problems and known errors
(tests/unit/cli/conftest.py points the CLI at it)."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.test_gateway_problems import seed_problems


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_problems(cli_db)
    return cli_db
