"""Slack as the incident desk, on a real Prefect server (stand-in deployments with the real
flows' names and parameter schemas, so Prefect validates what the gateway sends) and the
loopback fake of Slack's Web API (views.open): a signed press of Acknowledge by a mapped user
starts acknowledge-incident as that user; Resolve opens a modal made from the command's
fields, whose submission starts resolve-incident or shows the field that failed; `/incident`
opens a modal with the CMDB's services and logs an incident with the presser as reporter; an
unmapped user and a bad signature change nothing. Both database backends."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from prefect import Flow, flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.incident import (
    AcknowledgeIncident,
    IncidentDraft,
    IncidentState,
    ResolveIncident,
)
from serviceops.domain.incident.buttons import step_buttons
from serviceops.domain.incident.steps import next_steps
from serviceops.gateway.app import create_app
from serviceops.notify.render import render_message
from serviceops.settings import Settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.tickets import TicketRecord, ticket_of
from tests.fakes.slack import FakeSlack
from tests.unit.gateway_support import Collector, closed_port_url, slack_headers
from tests.unit.slack_interactions.support import BOB, SIGNING_SECRET, _app
from tests.unit.test_board import incident_in

NUMBER = "INC-000007"


@flow(name=AcknowledgeIncident.flow_name)
def stand_in_acknowledge(command: AcknowledgeIncident) -> None:
    """Never runs: its name and parameter schema are the real flow's."""


@flow(name=ResolveIncident.flow_name)
def stand_in_resolve(command: ResolveIncident) -> None:
    """Never runs."""


@flow(name="log-incident")
def stand_in_log_incident(incident: IncidentDraft) -> None:
    """Never runs."""


STAND_INS: tuple[Flow[..., None], ...] = (
    stand_in_acknowledge,
    stand_in_resolve,
    stand_in_log_incident,
)


@pytest.fixture(scope="module")
def deployments(prefect_server: str) -> dict[str, str]:
    return {f.name: str(f.to_deployment(name=f.name).apply()) for f in STAND_INS}


@pytest.fixture
def desk(
    prefect_server: str,
    deployments: dict[str, str],
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
) -> Iterator[tuple[TestClient, FakeSlack]]:
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs():
            client.delete_flow_run(run.id)
    with sessions.begin() as session:
        items = [{"name": "mail", "owner_group": "messaging", "tier": 1}]
        catalogue = Catalogue.model_validate({"items": items})
        CatalogueRepository(session).replace(catalogue, datetime.now(UTC), "test.toml")
    with FakeSlack() as slack:
        settings = Settings(
            state_dir=tmp_path / "state",
            database_url=database_url,
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_token=SecretStr("xoxb-test"),
            slack_base_url=slack.base_url,
        )
        app = create_app(settings, sessions=sessions, prefect_api_url=prefect_server)
        with TestClient(app) as client:
            yield client, slack


def _runs(deployments: dict[str, str], name: str) -> list[dict[str, Any]]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployments[name]]))
        )
    return [run.parameters for run in runs]


def _vouched(
    deployments: dict[str, str], name: str, sessions: sessionmaker[Session]
) -> list[tuple[str, str, str, str]]:
    """How the gateway told each run of `name` its actor was known: the ticket its tag names
    (via, Slack user id, actor, record)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployments[name]]))
        )
    with sessions.begin() as session:
        tickets = [session.get(TicketRecord, ticket_of(run.tags) or "") for run in runs]
        return [(t.via, t.ref, t.actor, t.record) for t in tickets if t is not None]


def _post(client: TestClient, path: str, body: bytes, secret: str = SIGNING_SECRET) -> Any:
    response = client.post(path, content=body, headers=slack_headers(body, secret))
    return response


def _press(client: TestClient, step: str, user: dict[str, str] = BOB) -> Any:
    payload = {
        "type": "block_actions",
        "user": user,
        "trigger_id": "1337.42.abcd",
        "actions": [
            {
                "action_id": f"incident_step:{step}",
                "value": json.dumps({"number": NUMBER, "step": step}),
            }
        ],
    }
    return _post(
        client, "/slack/interactions", urlencode({"payload": json.dumps(payload)}).encode()
    )


def _submit(client: TestClient, view: dict[str, Any], values: dict[str, str]) -> Any:
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        name = block["block_id"]
        if name not in values:
            continue
        if block["element"]["type"] == "static_select":
            state[name] = {"value": {"selected_option": {"value": values[name]}}}
        else:
            state[name] = {"value": {"value": values[name]}}
    submitted = view | {"state": {"values": state}}
    payload = {"type": "view_submission", "user": BOB, "view": submitted}
    return _post(
        client, "/slack/interactions", urlencode({"payload": json.dumps(payload)}).encode()
    )


def _opened_view(slack: FakeSlack) -> dict[str, Any]:
    (call,) = slack.calls_to("views.open")
    view = call["params"]["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_acknowledge_is_done_by_the_mapped_user(
    desk: tuple[TestClient, FakeSlack], deployments: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    client, _ = desk
    response = _press(client, "acknowledge-incident")
    assert response.status_code == 200
    assert response.json()["text"].startswith(f"Acknowledge {NUMBER} as bob: starting")
    assert _runs(deployments, "acknowledge-incident") == [
        {"command": {"number": NUMBER, "actor": "bob"}}
    ]
    assert _vouched(deployments, "acknowledge-incident", sessions) == [
        ("slack", "U0BOB", "bob", NUMBER)
    ]


def test_an_unmapped_user_or_a_bad_signature_changes_nothing(
    desk: tuple[TestClient, FakeSlack], deployments: dict[str, str]
) -> None:
    client, slack = desk
    stranger = _press(client, "acknowledge-incident", user={"id": "U0NOBODY", "username": "x"})
    assert "U0NOBODY is not in the directory, so nothing was changed" in stranger.json()["text"]
    payload = urlencode({"payload": json.dumps({"type": "block_actions"})}).encode()
    forged = _post(client, "/slack/interactions", payload, secret="not-the-secret")
    assert forged.status_code == 401
    resolve = _press(client, "resolve-incident", user={"id": "U0NOBODY"})
    assert "not in the directory" in resolve.json()["text"]
    assert slack.calls_to("views.open") == []
    assert _runs(deployments, "acknowledge-incident") == []


def test_resolve_asks_for_code_and_notes_then_resolves(
    desk: tuple[TestClient, FakeSlack], deployments: dict[str, str]
) -> None:
    client, slack = desk
    assert _press(client, "resolve-incident").json() == {}  # the modal opened
    view = _opened_view(slack)
    fields = {block["block_id"]: block["element"]["type"] for block in view["blocks"]}
    assert fields == {"code": "static_select", "notes": "plain_text_input"}
    assert _runs(deployments, "resolve-incident") == []

    missing = _submit(client, view, {"code": "fixed"}).json()
    assert missing["response_action"] == "errors" and set(missing["errors"]) == {"notes"}
    assert _runs(deployments, "resolve-incident") == []

    done = _submit(client, view, {"code": "workaround", "notes": "restarted the relay"})
    assert done.json() == {}
    assert _runs(deployments, "resolve-incident") == [
        {
            "command": {
                "number": NUMBER,
                "actor": "bob",
                "code": "workaround",
                "notes": "restarted the relay",
            }
        }
    ]


def test_the_incident_command_logs_an_incident_with_the_presser_as_reporter(
    desk: tuple[TestClient, FakeSlack], deployments: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    client, slack = desk
    body = urlencode({"command": "/incident", "user_id": "U0BOB", "trigger_id": "1.2.3"}).encode()
    assert _post(client, "/slack/commands", body).json() == {}
    view = _opened_view(slack)
    selects = {
        block["block_id"]: [option["value"] for option in block["element"].get("options", [])]
        for block in view["blocks"]
    }
    assert selects["service"] == ["mail"]
    assert "software/email" in selects["category"]
    assert selects["impact"] == ["high", "medium", "low"]
    values = {
        "title": "Mail delayed",
        "service": "mail",
        "category": "software/email",
        "impact": "medium",
        "urgency": "high",
    }
    assert _submit(client, view, values).json() == {}
    [parameters] = _runs(deployments, "log-incident")
    incident = parameters["incident"]
    assert (incident["title"], incident["service"], incident["reporter"], incident["source"]) == (
        "Mail delayed",
        "mail",
        "bob",
        "user",
    )
    assert _vouched(deployments, "log-incident", sessions) == [("slack", "U0BOB", "bob", "")]


def test_an_unknown_command_is_told_what_there_is(desk: tuple[TestClient, FakeSlack]) -> None:
    client, slack = desk
    body = urlencode({"command": "/deploy", "user_id": "U0BOB", "trigger_id": "1"}).encode()
    assert "serviceops knows /incident" in _post(client, "/slack/commands", body).json()["text"]
    assert slack.calls_to("views.open") == []


@pytest.mark.parametrize("state", list(IncidentState))
def test_the_message_offers_the_next_legal_steps_as_buttons(state: IncidentState) -> None:
    incident = incident_in(state)
    message = render_message("incident_logged", incident=incident, buttons=step_buttons(incident))
    actions = [block for block in message.blocks if block["type"] == "actions"]
    offered = [e["action_id"] for block in actions for e in block["elements"]]
    assert offered == [f"incident_step:{command.flow_name}" for command in next_steps(incident)]
    for element in (e for block in actions for e in block["elements"]):
        assert json.loads(element["value"]) == {
            "number": incident.number,
            "step": element["action_id"].removeprefix("incident_step:"),
        }


def test_with_prefect_down_the_press_is_answered_and_the_failure_told_after(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    """Slack has its answer at once; the run could not be created, and the presser hears so
    through the payload's response_url: nothing changed."""
    with Collector() as slack_hooks:
        origin = str(httpx.URL(slack_hooks.url).copy_with(path="/", query=None)).rstrip("/")
        app = _app(tmp_path, database_url, sessions, closed_port_url(), response_hosts=origin)
        value = json.dumps({"number": NUMBER, "step": "acknowledge-incident"})
        payload = {
            "type": "block_actions",
            "user": BOB,
            "response_url": slack_hooks.url,
            "actions": [{"action_id": "incident_step:acknowledge-incident", "value": value}],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        with TestClient(app) as client:
            answer = _post(client, "/slack/interactions", body).json()
        deadline = time.monotonic() + 30
        while len(slack_hooks.posts) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert answer["text"].startswith(f"Acknowledge {NUMBER} as bob: starting")
    texts = [post["text"] for post in slack_hooks.posts]
    assert texts[0] == answer["text"]
    assert texts[1] == f"{NUMBER}: could not acknowledge just now; please try again."
