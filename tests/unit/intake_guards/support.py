"""Helpers shared by the intake guard tests: the gateway's settings for all three webhooks, a
valid delivery of each (and one with an extra member where the hook takes free-form data),
posting it signed or authorised, its validation errors, and what was recorded."""

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.event import EventRepository
from serviceops.store.request import RequestRepository
from tests.unit.event_intake.support import am_alert, am_payload
from tests.unit.gateway_support import TOKEN, closed_port_url, webhook_headers

PORTAL, MONITOR, AM_TOKEN = "portal-secret", "monitor-secret", "am-t0ken"
SIGNED = {
    "requests": ("/webhooks/requests", "portal", PORTAL),
    "events": ("/webhooks/events", "nagios", MONITOR),
}
HOOKS = ["requests", "events", "alertmanager"]
LAPTOP: dict[str, Any] = {
    "requester": "alice",
    "details": {
        "type": "new_laptop",
        "model": "developer",
        "cost": "1299.00",
        "justification": "New starter",
        "deliver_to": "alice",
    },
}
EVENT: dict[str, Any] = {"service": "web", "check": "http", "summary": "500s"}


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        api_token=SecretStr(TOKEN),
        alertmanager_token=SecretStr(AM_TOKEN),
        webhook_secrets={"portal": [SecretStr(PORTAL)], "nagios": [SecretStr(MONITOR)]},
    )


def _app(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> FastAPI:
    settings = _settings(tmp_path, database_url)
    return create_app(settings, sessions=sessions, prefect_api_url=closed_port_url())


def _headers(hook: str, body: bytes, *, key: str | None = None) -> dict[str, str]:
    if hook == "alertmanager":
        return {"Authorization": f"Bearer {AM_TOKEN}", "Content-Type": "application/json"}
    _, source, secret = SIGNED[hook]
    return webhook_headers(body, secret, source=source, key=key)


def _path(hook: str) -> str:
    return SIGNED[hook][0] if hook in SIGNED else "/webhooks/alertmanager"


def _post(
    client: TestClient | httpx.Client,
    hook: str,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(_path(hook), content=body, headers=headers or _headers(hook, body))


def _recorded(sessions: sessionmaker[Session]) -> int:
    """Requests and events recorded so far: what a refused delivery must not add to."""
    with sessions.begin() as session:
        requests = RequestRepository(session).list(limit=1000)
        events = EventRepository(session).list(limit=1000)
    return len(requests) + len(events)


def _errors(response: httpx.Response) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    return [(error["loc"], error["type"]) for error in response.json()["detail"]]


def _with_extra(hook: str, name: str, value: Any) -> tuple[dict[str, Any], list[Any]]:
    """A valid delivery with an extra member `name: value` where the hook keeps (or at least
    takes) free-form data, and the loc of that member."""
    if hook == "requests":
        return LAPTOP | {name: value}, ["body", name]
    if hook == "events":
        return EVENT | {"details": {name: value}}, ["body", "details", name]
    alert = am_alert()
    alert[name] = value
    return am_payload(alert), ["body", "alerts", 0, name]
