"""The desk on a real Prefect server with the deployments served: log-incident offers the
CMDB's items and the policy's categories, a catalogue load and a policy edit reach the
running server without a restart, the server refuses an unknown service naming the known
ones while a known one runs to completion, and the run leaves the service desk board and the
incident's artifact with links to the next steps' forms."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
)
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL
from pydantic import SecretStr

from blocks.incident_policy import IncidentPolicyBlock
from blocks.saved import DOCUMENT
from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import IncidentPolicy, offered
from serviceops.domain.request import Identity
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.incident import IncidentRepository
from serviceops.store.request import IdentityRepository
from tasks.incident import refresh_incident_form
from tests.flows.conftest import ServedStack
from tests.flows.run_support import wait
from tests.unit.gateway_support import slack_headers

SIGNING_SECRET = "flows-slack-signing-secret"

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


def test_acknowledge_in_slack_updates_the_message_in_place(
    served: ServedStack, tmp_path: Path
) -> None:
    """The incident's message carries its next steps as buttons; a signed press by a mapped
    user runs acknowledge-incident (the served deployment) as that user, and the run updates
    the message in place (chat.update: no Acknowledge any more) and replies in its thread."""
    _load(served, ITEMS)
    with served.sessions.begin() as session:
        IdentityRepository(session).upsert(Identity(user="bob", slack_user_id="U0BOB"))
    title = "Orders stuck in checkout"
    wait(_run(INCIDENT | {"title": title}), {"COMPLETED"})
    with served.sessions.begin() as session:
        (incident,) = [i for i in IncidentRepository(session).list() if i.title == title]
    logged = next(m for m in served.slack.messages if f"{incident.number} logged" in m["text"])
    assert "incident_step:acknowledge-incident" in _action_ids(logged["blocks"])

    app = create_app(
        Settings(
            database_url=served.database_url,
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            state_dir=tmp_path / "state",
        ),
        sessions=served.sessions,
        prefect_api_url=PREFECT_API_URL.value(),
    )
    value = json.dumps({"number": incident.number, "step": "acknowledge-incident"})
    payload = {
        "type": "block_actions",
        "user": {"id": "U0BOB", "username": "bob"},
        "actions": [{"action_id": "incident_step:acknowledge-incident", "value": value}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    with TestClient(app) as gateway:
        pressed = gateway.post(
            "/slack/interactions", content=body, headers=slack_headers(body, SIGNING_SECRET)
        )
    assert pressed.json()["text"].startswith(f"Acknowledge {incident.number} as bob: starting")

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the update and the thread reply: two deliveries
        updates = [
            call["params"]
            for call in served.slack.calls_to("chat.update")
            if call["params"].get("ts") == logged["ts"]
        ]
        replies = [m for m in served.slack.messages if m["thread_ts"] == logged["ts"]]
        if updates and replies:
            break
        time.sleep(0.3)
    assert updates, "the incident's message was not updated"
    with served.sessions.begin() as session:
        acknowledged = IncidentRepository(session).get(incident.number)
    assert acknowledged.assignee == "bob" and acknowledged.acknowledged_at is not None
    current = next(m for m in served.slack.messages if m["ts"] == logged["ts"])
    assert "incident_step:acknowledge-incident" not in _action_ids(current["blocks"])
    assert "incident_step:start-incident-work" in _action_ids(current["blocks"])
    assert len(replies) == 1 and incident.number in replies[0]["text"]


def _action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]
