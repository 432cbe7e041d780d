"""Helpers shared by the Slack interaction tests: the submissions, the Slack users as the
directory maps them, the gateway app, a request awaiting approval, and a signed button press
and its reply, and the runs a press started."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import ApprovalKind, RequestState, RequestSubmission
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.request import RequestRepository
from serviceops.store.tickets import TicketRecord, ticket_of
from tests.unit.gateway_support import slack_headers

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PATH = "/slack/interactions"
SUBMISSION = RequestSubmission.model_validate(
    {
        "requester": "alice",
        "details": {
            "type": "new_laptop",
            "model": "standard",
            "cost": "999",
            "justification": "Replacement",
            "deliver_to": "alice",
        },
    }
)
CRM_ACCESS = RequestSubmission.model_validate(
    {
        "requester": "alice",
        "details": {
            "type": "access_grant",
            "user": "alice",
            "system": "crm",
            "role": "user",
            "justification": "Joins sales",
        },
    }
)
# Slack users as the directory maps them; bob is alice's manager (see policy_support for
# dave the delegate, olive the owner of crm, fiona the financial approver).
ALICE = {"id": "U0ALICE", "username": "alice", "name": "Alice A."}
BOB = {"id": "U0BOB", "username": "bob", "name": "Bob", "team_id": "T1"}
CAROL = {"id": "U0CAROL", "username": "carol"}
DAVE = {"id": "U0DAVE", "username": "dave"}
OLIVE = {"id": "U0OLIVE", "username": "olive"}
FIONA = {"id": "U0FIONA", "username": "fiona"}


def _app(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    prefect: str | None,
    secret: str | None = SIGNING_SECRET,
    response_hosts: str = "hooks.slack.com",
) -> FastAPI:
    settings = Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        slack_signing_secret=None if secret is None else SecretStr(secret),
        slack_response_hosts=response_hosts,
    )
    return create_app(settings, sessions=sessions, prefect_api_url=prefect)


def _awaiting(
    sessions: sessionmaker[Session],
    flow_run_id: str | None,
    submission: RequestSubmission = SUBMISSION,
    kind: ApprovalKind = ApprovalKind.MANAGER,
) -> str:
    """A request waiting for one approval (the manager's), as fulfil-request leaves it."""
    with sessions.begin() as session:
        requests = RequestRepository(session)
        request = requests.add(submission, source="portal", at=datetime.now(UTC))
        requests.save(
            request.model_copy(
                update={
                    "state": RequestState.AWAITING_APPROVAL,
                    "approvals_required": [kind],
                    "flow_run_id": flow_run_id,
                }
            )
        )
    return request.number


def _form(
    number: str,
    flow_run_id: str,
    *,
    action: str = "approve",
    user: dict[str, str] | None = None,
    kind: str = "manager",
    response_url: str | None = None,
) -> bytes:
    value = json.dumps({"number": number, "kind": kind, "flow_run_id": flow_run_id})
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user or BOB,
        "actions": [{"action_id": action, "block_id": "approval", "value": value}],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)}).encode()


def _press(client: TestClient | httpx.Client, body: bytes, **overrides: str) -> httpx.Response:
    headers = slack_headers(body, SIGNING_SECRET) | overrides
    return client.post(PATH, content=body, headers=headers)


def _text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response_type"] == "ephemeral"
    return str(body["text"])


def started_runs(
    deployment: str, sessions: sessionmaker[Session]
) -> list[tuple[dict[str, Any], str, str]]:
    """The runs of `deployment` started since the last call (each is deleted once read): their
    parameters, and how their ticket knew the actor (via, ref)."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment]))
        )
        for run in runs:
            client.delete_flow_run(run.id)
    found = []
    with sessions.begin() as session:
        for run in runs:
            ticket = session.get(TicketRecord, ticket_of(run.tags) or "")
            assert ticket is not None
            found.append((run.parameters, ticket.via, ticket.ref))
    return found
