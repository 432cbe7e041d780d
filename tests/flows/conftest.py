"""Flows run against a real Prefect server (the test harness, started once per session), a real
database (SQLite and PostgreSQL) and the loopback fake of Slack's Web API."""

from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.testing.utilities import prefect_test_harness

from serviceops.settings import get_settings


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    # Sync flows wait ~1 s for the heartbeat thread at their end; no heartbeat in tests.
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield


@pytest.fixture
def serviceops_env(
    prefect_server: None, database_url: str, fake_slack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The flows' settings point at this test's database and the fake Slack."""
    monkeypatch.setenv("SERVICEOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("SERVICEOPS_SLACK_TOKEN", "xoxb-test")
    monkeypatch.setenv("SERVICEOPS_SLACK_BASE_URL", fake_slack.base_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()
