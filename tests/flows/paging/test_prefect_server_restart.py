"""A page outlives its Prefect server: the server killed while a page waits and started again
on the same database, serve left running throughout."""

from collections.abc import Iterator

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from serviceops.domain.oncall import PageState
from tests.flows.conftest import ServedStack, serving
from tests.flows.paging.support import (
    dms,
    page_of,
    page_state,
    page_waiting_on_a_slow_first_level,
    sleep_past_step_two,
    until,
)
from tests.flows.prefect_server import PrefectServer


@pytest.fixture(scope="module")
def prefect_server_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = PrefectServer(tmp_path_factory.mktemp("prefect-server"))
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def served(
    prefect_server_of_its_own: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedStack]:
    """The paging fixtures' stack, served against this module's own Prefect server."""
    updates = {PREFECT_API_URL: prefect_server_of_its_own.api_url,
               PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}  # fmt: skip
    with temporary_settings(updates=updates), serving(tmp_path_factory.mktemp("served")) as stack:
        yield stack


def test_a_page_walks_on_after_its_prefect_server_is_killed_and_started_again(
    on_call: ServedStack, prefect_server_of_its_own: PrefectServer
) -> None:
    incident = page_waiting_on_a_slow_first_level(on_call, "Core switch flaps")
    prefect_server_of_its_own.kill()
    sleep_past_step_two(on_call, incident)
    assert dms(on_call, incident) == ["U0ALEX"]  # step 2 fell due while the API was away
    prefect_server_of_its_own.start()
    until(lambda: page_state(on_call, incident) is PageState.EXHAUSTED, timeout=150)
    assert dms(on_call, incident) == ["U0ALEX", "U0CASEY", "U0OLIVIA"]
    assert [p.step for p in page_of(on_call, incident).paged] == [0, 1, 2]
    process = on_call.serve.process
    assert process is not None and process.poll() is None, "serve did not outlive the outage"
