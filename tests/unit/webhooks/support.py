"""Helpers shared by the request webhook tests: the gateway's settings (two portal secrets of a
rotation, a bot), a laptop request, posting it signed, its validation errors, the requests
recorded, and waiting for the run the gateway starts."""

import json
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.request import RequestRepository
from tests.unit.gateway_support import TOKEN, webhook_headers

SECRET = "portal-secret-1"
ROTATED = "portal-secret-2"
PATH = "/webhooks/requests"
MIB = 1024 * 1024

LAPTOP: dict[str, Any] = {
    "requester": "alice",
    "details": {
        "type": "new_laptop",
        "model": "developer",
        "cost": "1299.00",
        "justification": "New starter in the platform team",
        "deliver_to": "alice",
    },
}


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        api_token=SecretStr(TOKEN),
        webhook_secrets={"portal": [SecretStr(SECRET), SecretStr(ROTATED)], "bot": ["b0t"]},
    )


def _app(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session], prefect: str | None
) -> FastAPI:
    return create_app(_settings(tmp_path, database_url), sessions=sessions, prefect_api_url=prefect)


def _body(document: Any = None) -> bytes:
    return json.dumps(LAPTOP if document is None else document).encode()


def _post(
    client: TestClient | httpx.Client,
    body: bytes,
    *,
    secret: str = SECRET,
    key: str | None = None,
    **overrides: str,
) -> httpx.Response:
    headers = webhook_headers(body, secret, key=key) | overrides
    return client.post(PATH, content=body, headers=headers)


def _requests(sessions: sessionmaker[Session]) -> list[Any]:
    with sessions.begin() as session:
        return RequestRepository(session).list()


def _errors(response: httpx.Response) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    assert "Traceback" not in response.text
    return [(error["loc"], error["type"]) for error in response.json()["detail"]]


def _started(sessions: sessionmaker[Session], timeout: float = 15) -> str:
    """The run id the gateway's starter notes on the request, once it has (off the 202)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [request] = _requests(sessions)
        if request.flow_run_id is not None:
            return request.flow_run_id
        time.sleep(0.1)
    raise AssertionError("the gateway did not start fulfil-request")
