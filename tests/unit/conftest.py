"""Fixtures for gateway tests that need a real Prefect server.

`prefect_server` is Prefect's test harness (a real API server in a subprocess on SQLite),
started once per session and only when a test asks for it. `fulfilment` registers a
deployment "fulfil-request/fulfil-request" of a stand-in flow with the real flow's signature
(so Prefect validates the parameters the gateway sends against the same schema), and deletes
its runs before each test: request numbers restart at REQ-000001 in every test database, and
the gateway's idempotency key `fulfil-request:<number>` would otherwise find an older test's
run. No runner: runs stay Scheduled, which is all the gateway tests look at.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.input.run_input import Keyset, keyset_from_paused_state, run_input_subclass_from_type
from prefect.settings import PREFECT_API_URL
from prefect.states import Running, Suspended
from prefect.testing.utilities import prefect_test_harness

from serviceops.domain.request import ApprovalDecision, RequestSubmission


@flow(name="fulfil-request")
def stand_in_fulfil_request(request: RequestSubmission, number: str | None = None) -> None:
    """Never runs: only its name and parameter schema matter to the deployment."""


@dataclass(frozen=True)
class Fulfilment:
    """The registered stand-in deployment on the harness server."""

    api_url: str
    deployment_id: UUID

    def client(self) -> SyncPrefectClient:
        return get_client(sync_client=True)

    def runs(self) -> list[FlowRun]:
        """Every run of the deployment (only this test's: they are cleared before each)."""
        with self.client() as client:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[self.deployment_id]))
            )

    def suspended_run(
        self, parameters: dict[str, Any], pause_key: str = "manager-approval-0"
    ) -> tuple[UUID, Keyset]:
        """A fulfil-request run suspended for an approval, exactly as
        `suspend_flow_run(wait_for_input=ApprovalDecision, key=pause_key)` leaves it: a
        Suspended state with the run-input keyset, and the input schema saved under it."""
        with self.client() as client:
            run = client.create_flow_run_from_deployment(self.deployment_id, parameters=parameters)
            client.set_flow_run_state(run.id, Running(), force=True)
            suspended = Suspended(timeout_seconds=3600, pause_key=pause_key)
            keyset = keyset_from_paused_state(suspended)
            suspended.state_details.run_input_keyset = keyset
            client.set_flow_run_state(run.id, suspended, force=True)
        run_input_subclass_from_type(ApprovalDecision).save(keyset, flow_run_id=run.id)
        return run.id, keyset

    def state_of(self, run_id: UUID) -> tuple[StateType, str]:
        """The run's state type and name, e.g. (PAUSED, "Suspended")."""
        with self.client() as client:
            state = client.read_flow_run(run_id).state
        assert state is not None
        return state.type, str(state.name)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """The harness's API URL; PREFECT_API_URL points there for the whole session."""
    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        assert url
        yield url


@pytest.fixture(scope="session")
def _fulfilment_deployment(prefect_server: str) -> UUID:
    return stand_in_fulfil_request.to_deployment(name="fulfil-request").apply()


@pytest.fixture
def fulfilment(prefect_server: str, _fulfilment_deployment: UUID) -> Fulfilment:
    """The stand-in fulfil-request deployment, with no runs yet."""
    registered = Fulfilment(api_url=prefect_server, deployment_id=_fulfilment_deployment)
    with registered.client() as client:
        for run in registered.runs():
            client.delete_flow_run(run.id)
    return registered
