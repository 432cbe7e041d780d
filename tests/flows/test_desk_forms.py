"""The desk on a real Prefect server with the deployments served: log-incident offers the
CMDB's items and the policy's categories, a catalogue load and a policy edit reach the
running server without a restart, the server refuses an unknown service naming the known
ones while a known one runs to completion, and the run leaves the service desk board and the
incident's artifact with links to the next steps' forms."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
)
from prefect.exceptions import PrefectHTTPStatusError

from blocks.incident_policy import IncidentPolicyBlock
from blocks.saved import DOCUMENT
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import IncidentPolicy, offered
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from tasks.incident import refresh_incident_form
from tests.flows.conftest import ServedStack
from tests.flows.run_support import wait

LOG_INCIDENT = "log-incident/log-incident"
ITEMS = [
    {"name": "shop", "owner_group": "web", "tier": 1, "depends_on": ["orders-db"]},
    {"name": "orders-db", "type": "database", "owner_group": "dba", "tier": 1},
]
INCIDENT = {
    "title": "Checkout returns 502",
    "service": "shop",
    "ci": "orders-db",
    "category": "software/web",
    "impact": "high",
    "urgency": "medium",
    "reporter": "dave",
}


@pytest.fixture
def policy_block() -> Iterator[None]:
    """The incident policy as the operator saved it; the defaults again afterwards."""
    yield
    IncidentPolicyBlock().save(DOCUMENT, overwrite=True)


def _load(served: ServedStack, items: list[dict[str, Any]]) -> None:
    with served.sessions.begin() as session:
        catalogue = Catalogue.model_validate({"items": items})
        CatalogueRepository(session).replace(catalogue, datetime.now(UTC), "test.toml")


def _form() -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(LOG_INCIDENT).parameter_openapi_schema


def _deployment_id(name: str) -> str:
    with get_client(sync_client=True) as client:
        return str(client.read_deployment_by_name(name).id)


def _latest_artifact(key: str) -> str:
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key]))
        )
    return str(artifact.data)


def _run(incident: dict[str, Any]) -> str:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(LOG_INCIDENT)
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"incident": incident}
        )
    return str(run.id)


def test_log_incident_offers_the_cmdb_and_the_policy_without_a_restart(
    served: ServedStack, policy_block: None
) -> None:
    _load(served, ITEMS)
    choices = refresh_incident_form.fn()
    assert choices is not None and choices.services == ["orders-db", "shop"]
    assert offered(_form()) == choices

    with pytest.raises(PrefectHTTPStatusError) as refused:
        _run(INCIDENT | {"service": "payroll"})
    assert refused.value.response.status_code == 409
    assert "'payroll' is not one of ['orders-db', 'shop']" in refused.value.response.text

    run = wait(_run(INCIDENT), {"COMPLETED", "FAILED", "CRASHED"})
    assert run.state is not None and run.state.is_completed(), run.state
    with served.sessions.begin() as session:
        (incident,) = [i for i in IncidentRepository(session).list() if i.service == "shop"]
    assert incident.ci == "orders-db" and incident.category == "software/web"

    # The run left the board and the incident's own artifact, each linking the next steps.
    acknowledge = _deployment_id("acknowledge-incident/acknowledge-incident")
    form = f"/deployments/deployment/{acknowledge}/run?parameters="
    link = form + quote(
        json.dumps({"command": {"number": incident.number}}, separators=(",", ":")), safe=""
    )
    board = _latest_artifact("service-desk")
    assert f"**{incident.number}**" in board and link in board
    summary = _latest_artifact(f"incident-{incident.number.lower()}")
    assert "## Audit trail" in summary and link in summary

    # The operator edits the policy in the UI and loads a bigger catalogue: the running
    # server's form follows on the next refresh (housekeeping's minute), serve untouched.
    categories = [*IncidentPolicy().categories, "facilities/doors"]
    IncidentPolicyBlock(policy=IncidentPolicy(categories=categories)).save(DOCUMENT, overwrite=True)
    _load(served, [*ITEMS, {"name": "payroll", "owner_group": "hr-it", "tier": 2}])
    refresh_incident_form.fn()
    form = offered(_form())
    assert form.services == ["orders-db", "payroll", "shop"]
    assert "facilities/doors" in form.categories
