"""POST /slack/interactions: Slack v0 signatures, four eyes, stale buttons, and a real resume
of a suspended fulfil-request run on Prefect's test server (the input is read back)."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prefect.client.schemas.objects import StateType
from prefect.input.actions import read_flow_run_input
from prefect.input.run_input import Keyset, run_input_subclass_from_type
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.domain.request import (
    ApprovalDecision,
    ApprovalKind,
    RequestState,
    RequestSubmission,
)
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.requests import RequestRepository
from tests.unit.conftest import Fulfilment
from tests.unit.gateway_support import Collector, closed_port_url, serve, slack_headers

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


def _app(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    prefect: str | None,
    secret: str | None = SIGNING_SECRET,
) -> FastAPI:
    settings = Settings(
        state_dir=tmp_path / "state",
        database_url=database_url,
        slack_signing_secret=None if secret is None else SecretStr(secret),
    )
    return create_app(settings, sessions=sessions, prefect_api_url=prefect)


def _awaiting(sessions: sessionmaker[Session], flow_run_id: str | None) -> str:
    """A request waiting for its manager's approval, as fulfil-request leaves it."""
    with sessions.begin() as session:
        requests = RequestRepository(session)
        request = requests.add(SUBMISSION, source="portal", at=datetime.now(UTC))
        requests.save(
            request.model_copy(
                update={
                    "state": RequestState.AWAITING_APPROVAL,
                    "approvals_required": [ApprovalKind.MANAGER],
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
        "user": user or {"id": "U0BOB", "username": "bob", "name": "Bob", "team_id": "T1"},
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


@pytest.fixture
def offline(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The gateway with Prefect down: any test that reaches Prefect says so in its reply."""
    with TestClient(_app(tmp_path, database_url, sessions, closed_port_url())) as client:
        yield client


# --------------------------------------------------------------------------- a paused run


def _suspended_run(fulfilment: Fulfilment, number: str) -> tuple[UUID, Keyset]:
    """A fulfil-request run suspended for the manager's approval (see Fulfilment)."""
    parameters = {"request": SUBMISSION.model_dump(mode="json"), "number": number}
    return fulfilment.suspended_run(parameters, pause_key="manager-approval-0")


def _state_of(fulfilment: Fulfilment, run_id: UUID) -> tuple[StateType, str]:
    return fulfilment.state_of(run_id)


# --------------------------------------------------------------------------- signature


def test_no_signing_secret_is_503(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    app = _app(tmp_path, database_url, sessions, closed_port_url(), secret=None)
    with TestClient(app) as client:
        response = _press(client, _form("REQ-000001", str(uuid4())))
    assert response.status_code == 503
    assert "SERVICEOPS_SLACK_SIGNING_SECRET" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-Slack-Signature": "v0=" + "a" * 64}, "bad signature"),
        ({"X-Slack-Signature": ""}, "missing signature header"),
        ({"X-Slack-Signature": "v1=" + "a" * 64}, "malformed signature"),
        ({"X-Slack-Request-Timestamp": ""}, "missing timestamp header"),
        ({"X-Slack-Request-Timestamp": str(int(time.time()) - 400)}, "stale timestamp"),
    ],
)
def test_bad_missing_or_stale_signature_is_401(
    offline: TestClient, change: dict[str, str], reason: str
) -> None:
    response = _press(offline, _form("REQ-000001", str(uuid4())), **change)
    assert response.status_code == 401
    assert response.json() == {"detail": reason}


def test_signed_with_another_secret_is_401(offline: TestClient) -> None:
    body = _form("REQ-000001", str(uuid4()))
    response = offline.post(PATH, content=body, headers=slack_headers(body, "not-the-secret"))
    assert response.json() == {"detail": "bad signature"}


# --------------------------------------------------------------------------- checks


def test_requester_cannot_approve_own_request_and_nothing_is_resumed(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    alice = {"id": "U0ALICE", "username": "Alice", "name": "Alice A."}
    text = _text(_press(offline, _form(number, str(uuid4()), user=alice)))
    # Prefect is down here: a resume attempt would have said "could not be delivered".
    assert text == f"You cannot approve your own request {number} (four eyes)."


def test_approver_falls_back_to_name_then_id(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    by_name = _text(
        _press(offline, _form(number, str(uuid4()), user={"id": "U1", "name": "alice"}))
    )
    assert "cannot approve your own request" in by_name
    by_id = _text(_press(offline, _form(number, str(uuid4()), user={"id": "alice"})))
    assert "cannot approve your own request" in by_id


def test_button_of_an_approval_no_longer_pending_is_already_decided(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    text = _text(_press(offline, _form(number, str(uuid4()), kind="financial")))
    assert text == f"{number}: the financial approval is already decided."


def test_unknown_request_and_foreign_buttons(offline: TestClient) -> None:
    assert (
        _text(_press(offline, _form("REQ-000042", str(uuid4()))))
        == "There is no request REQ-000042."
    )
    bad_value = _form("42", "not-a-uuid")
    assert "not a serviceops approval button" in _text(_press(offline, bad_value))
    other = urlencode(
        {"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": "x"}]})}
    ).encode()
    acknowledged = _press(offline, other)
    assert (acknowledged.status_code, acknowledged.json()) == (200, {})


@pytest.mark.parametrize(
    "body",
    [b"payload=%7Bnot-json", b"nothing=here", b"payload=%5B%5D", b"payload=\xff"],
    ids=["bad-json", "no-payload", "not-object", "not-utf8"],
)
def test_malformed_payload_is_422(offline: TestClient, body: bytes) -> None:
    response = _press(offline, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload"]


def test_prefect_down_answers_within_slacks_three_seconds(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    started = time.monotonic()
    text = _text(_press(offline, _form(number, str(uuid4()))))
    assert time.monotonic() - started < 3
    assert text == f"{number}: your decision could not be delivered just now; please try again."


def test_reply_text_is_slack_escaped(offline: TestClient) -> None:
    user = {"username": "<!channel> & co"}
    # Unknown request: the reply holds only the number; the approver name is not echoed.
    text = _text(_press(offline, _form("REQ-000007", str(uuid4()), user=user)))
    assert "<" not in text and ">" not in text


# --------------------------------------------------------------------------- real resume


def test_approve_resumes_the_suspended_run_with_the_decision(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    number = _awaiting(sessions, None)
    run_id, keyset = _suspended_run(fulfilment, number)
    with (
        Collector() as response_url,
        TestClient(_app(tmp_path, database_url, sessions, None)) as client,
    ):
        text = _text(_press(client, _form(number, str(run_id), response_url=response_url.url)))
        assert response_url.received.wait(5)
    assert text == f"Approved {number} (manager approval). Thank you."
    assert response_url.posts == [
        {"response_type": "ephemeral", "text": text, "replace_original": False}
    ]
    assert _state_of(fulfilment, run_id) == (StateType.SCHEDULED, "Resuming")
    stored = read_flow_run_input(keyset["response"], flow_run_id=run_id)
    assert stored == {"approve": True, "approver": "bob", "comment": ""}
    decision = run_input_subclass_from_type(ApprovalDecision).load(keyset, flow_run_id=run_id)
    assert (decision.approve, decision.approver, decision.comment) == (True, "bob", "")


def test_second_press_is_already_decided(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    number = _awaiting(sessions, None)
    run_id, keyset = _suspended_run(fulfilment, number)
    with TestClient(_app(tmp_path, database_url, sessions, None)) as client:
        first = _text(_press(client, _form(number, str(run_id), action="reject")))
        second = _text(_press(client, _form(number, str(run_id), action="approve")))
    assert first == f"Rejected {number} (manager approval). Thank you."
    assert second == f"{number}: the manager approval is already decided."
    stored = read_flow_run_input(keyset["response"], flow_run_id=run_id)
    assert stored == {"approve": False, "approver": "bob", "comment": ""}


def test_four_eyes_refusal_leaves_the_run_suspended(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    number = _awaiting(sessions, None)
    run_id, keyset = _suspended_run(fulfilment, number)
    alice = {"username": "alice"}
    with TestClient(_app(tmp_path, database_url, sessions, None)) as client:
        text = _text(_press(client, _form(number, str(run_id), user=alice)))
    assert "cannot approve your own request" in text
    assert _state_of(fulfilment, run_id) == (StateType.PAUSED, "Suspended")
    assert read_flow_run_input(keyset["response"], flow_run_id=run_id) is None


def test_resume_over_a_real_socket(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    number = _awaiting(sessions, None)
    run_id, _ = _suspended_run(fulfilment, number)
    app = _app(tmp_path, database_url, sessions, None)
    with serve(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert (
            _press(http, _form(number, str(run_id)), **{"X-Slack-Signature": ""}).status_code == 401
        )
        started = time.monotonic()
        text = _text(_press(http, _form(number, str(run_id))))
        assert time.monotonic() - started < 3
    assert text.startswith(f"Approved {number}")
    assert _state_of(fulfilment, run_id)[0] == StateType.SCHEDULED
