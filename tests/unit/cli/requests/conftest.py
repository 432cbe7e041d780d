"""What the request CLI tests share: a Prefect API that is down, and three seeded requests
(tests/unit/cli/conftest.py points the CLI at the database)."""

from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import RequestState
from tests.unit.cli.requests.support import _add, _awaiting_manager
from tests.unit.gateway_support import closed_port_url


@pytest.fixture
def prefect_down() -> Iterator[str]:
    """PREFECT_API_URL on a loopback port nobody listens on."""
    url = closed_port_url()
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


@pytest.fixture
def seeded(cli_db: sessionmaker[Session]) -> sessionmaker[Session]:
    """REQ-000001 alice's laptop (awaiting the manager), REQ-000002 bob's VPN (submitted),
    REQ-000003 alice's password reset (closed)."""
    _awaiting_manager(cli_db, None)
    _add(cli_db, "bob", {"type": "vpn_access", "user": "bob"}, minutes=1)
    _add(
        cli_db,
        "alice",
        {"type": "password_reset", "account": "alice-admin"},
        minutes=2,
        state=RequestState.CLOSED,
        completed_steps=["reset_password"],
    )
    return cli_db
