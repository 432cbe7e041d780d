"""POST /slack/interactions: Slack v0 signatures, who pressed (the directory entry of their
Slack user id, nothing else), four eyes and approval authority, stale buttons, malformed and
over-deep payloads, where replies may be posted (response_url), and a real resume of a
suspended fulfil-request run on Prefect's test server (the input is read back)."""

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
    Identity,
    RequestState,
    RequestSubmission,
)
from serviceops.gateway.app import create_app
from serviceops.gateway.slack import response_url_target
from serviceops.settings import Settings
from serviceops.store.request import IdentityRepository, RequestRepository
from tests.unit.conftest import Fulfilment
from tests.unit.gateway_support import Collector, closed_port_url, serve, slack_headers
from tests.unit.policy_support import saved_request_policy

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


@pytest.fixture(autouse=True)
def directory(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        people = IdentityRepository(session)
        people.upsert(Identity(user="alice", manager="bob", slack_user_id="U0ALICE"))
        for user in ("bob", "carol", "dave", "olive", "fiona"):
            people.upsert(Identity(user=user, slack_user_id=f"U0{user.upper()}"))


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


@pytest.fixture
def offline(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> Iterator[TestClient]:
    """The gateway with Prefect down: any test that reaches Prefect says so in its reply."""
    with TestClient(_app(tmp_path, database_url, sessions, closed_port_url())) as client:
        yield client


# --------------------------------------------------------------------------- a paused run


def _suspended_run(
    fulfilment: Fulfilment, number: str, submission: RequestSubmission = SUBMISSION
) -> tuple[UUID, Keyset]:
    """A fulfil-request run suspended for an approval (see Fulfilment)."""
    parameters = {"request": submission.model_dump(mode="json"), "number": number}
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
    text = _text(_press(offline, _form(number, str(uuid4()), user=ALICE)))
    # Prefect is down here: a resume attempt would have said "could not be delivered".
    assert text == f"You cannot approve your own request {number} (four eyes)."


def test_a_requester_named_by_their_slack_id_cannot_approve_it(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    """A chat bot files alice's request under her Slack id; her press is still hers."""
    by_slack_id = SUBMISSION.model_copy(update={"requester": "U0ALICE"})
    number = _awaiting(sessions, None, by_slack_id)
    text = _text(_press(offline, _form(number, str(uuid4()), user=ALICE | {"username": "al"})))
    assert text == f"You cannot approve your own request {number} (four eyes)."


def test_who_pressed_is_the_directory_entry_of_the_slack_id_whatever_the_names_say(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    alice_as_bob = {"id": "U0ALICE", "username": "bob", "name": "bob"}
    text = _text(_press(offline, _form(number, str(uuid4()), user=alice_as_bob)))
    assert text == f"You cannot approve your own request {number} (four eyes)."


def test_an_unknown_slack_id_is_named_and_nothing_is_decided(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    stranger = {"id": "U0123", "username": "bob", "name": "bob"}
    text = _text(_press(offline, _form(number, str(uuid4()), user=stranger)))
    assert text == (
        "U0123 is not in the directory, so your decision was not recorded. An operator "
        "adds you with `serviceops identity set YOUR_USER --slack-id U0123`."
    )


@pytest.mark.parametrize(
    "user",
    [{"username": "bob", "name": "bob"}, {"id": "bob"}, {"id": ""}, {"id": "U0BOB\n"}],
    ids=["no-id", "a-name", "empty", "not-an-id"],
)
def test_a_press_without_a_slack_user_id_is_refused(
    offline: TestClient, sessions: sessionmaker[Session], user: dict[str, str]
) -> None:
    number = _awaiting(sessions, None)
    text = _text(_press(offline, _form(number, str(uuid4()), user=user)))
    assert text == "Slack did not say who you are; the decision was not recorded."


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


def test_a_payload_nested_too_deep_is_400(offline: TestClient) -> None:
    for nested in ("[" * 20_000, '{"a":' * 4_000):  # both within the 64 KiB body limit
        response = _press(offline, urlencode({"payload": nested}).encode())
        assert response.status_code == 400
        assert response.json() == {"detail": "payload nested too deeply to be a Slack payload"}


def test_prefect_down_answers_within_slacks_three_seconds(
    offline: TestClient, sessions: sessionmaker[Session]
) -> None:
    number = _awaiting(sessions, None)
    started = time.monotonic()
    text = _text(_press(offline, _form(number, str(uuid4()))))
    assert time.monotonic() - started < 3
    assert text == f"{number}: your decision could not be delivered just now; please try again."


def test_reply_text_is_slack_escaped(offline: TestClient) -> None:
    user = BOB | {"username": "<!channel> & co"}
    # Unknown request: the reply holds only the number; the approver name is not echoed.
    text = _text(_press(offline, _form("REQ-000007", str(uuid4()), user=user)))
    assert "<" not in text and ">" not in text


# --------------------------------------------------------------------------- response_url


@pytest.mark.parametrize(
    ("url", "hosts", "allowed"),
    [
        ("https://hooks.slack.com/actions/T1/B2/xyz", "hooks.slack.com", True),
        ("HTTPS://Hooks.Slack.com/actions/T1/B2/xyz", "hooks.slack.com", True),
        ("https://hooks.slack.com:443/actions/T1/B2/xyz", "hooks.slack.com", True),
        ("http://hooks.slack.com/actions/T1/B2/xyz", "hooks.slack.com", False),
        ("https://hooks.slack.com:8443/actions", "hooks.slack.com", False),
        ("https://hooks.slack.com.evil.example/actions", "hooks.slack.com", False),
        ("https://evil.example/hooks.slack.com", "hooks.slack.com", False),
        ("https://hooks.slack.com@evil.example/actions", "hooks.slack.com", False),
        ("https://bob@hooks.slack.com/actions", "hooks.slack.com", False),
        ("https://evil.example\\@hooks.slack.com/actions", "hooks.slack.com", False),
        ("//hooks.slack.com/actions", "hooks.slack.com", False),
        ("javascript:alert(1)", "hooks.slack.com", False),
        ("http://127.0.0.1:9/x", "hooks.slack.com,http://127.0.0.1:9", True),
        ("http://127.0.0.1:10/x", "hooks.slack.com,http://127.0.0.1:9", False),
        ("https://127.0.0.1:9/x", "hooks.slack.com,http://127.0.0.1:9", False),
    ],
)
def test_only_slacks_own_host_over_https_is_a_response_url(
    url: str, hosts: str, allowed: bool
) -> None:
    settings = Settings(slack_response_hosts=hosts)
    target = response_url_target(url, settings.slack_response_hosts)
    assert (target is not None) == allowed


def test_the_response_hosts_setting_is_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().slack_response_hosts == ["hooks.slack.com"]
    monkeypatch.setenv("SERVICEOPS_SLACK_RESPONSE_HOSTS", " hooks.slack.com , HTTP://127.0.0.1:9")
    assert Settings().slack_response_hosts == ["hooks.slack.com", "http://127.0.0.1:9"]
    for bad in ("https://hooks.slack.com/path", "ftp://hooks.slack.com", "a b"):
        monkeypatch.setenv("SERVICEOPS_SLACK_RESPONSE_HOSTS", bad)
        with pytest.raises(ValueError, match="slack_response_hosts"):
            Settings()


def test_a_response_url_elsewhere_is_not_posted_to(offline: TestClient) -> None:
    with Collector() as elsewhere:
        body = _form("REQ-000042", str(uuid4()), response_url=elsewhere.url)
        text = _text(_press(offline, body))
        assert not elsewhere.received.wait(0.5)
    assert text == "There is no request REQ-000042."
    assert elsewhere.posts == []


def test_a_response_url_on_an_allowed_host_is_posted_to(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    with Collector() as allowed:
        origin = str(httpx.URL(allowed.url).copy_with(path="/", query=None)).rstrip("/")
        app = _app(tmp_path, database_url, sessions, closed_port_url(), response_hosts=origin)
        with TestClient(app) as client:
            text = _text(
                _press(client, _form("REQ-000042", str(uuid4()), response_url=allowed.url))
            )
        assert allowed.received.wait(5)
    assert allowed.posts == [
        {"response_type": "ephemeral", "text": text, "replace_original": False}
    ]


# --------------------------------------------------------------------------- real resume


def test_approve_resumes_the_suspended_run_with_the_decision(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    number = _awaiting(sessions, None)
    run_id, keyset = _suspended_run(fulfilment, number)
    with Collector() as response_url:
        origin = str(httpx.URL(response_url.url).copy_with(path="/")).rstrip("/")
        app = _app(tmp_path, database_url, sessions, None, response_hosts=origin)
        robert = BOB | {"username": "robert", "name": "Robert"}
        with TestClient(app) as client:
            body = _form(number, str(run_id), user=robert, response_url=response_url.url)
            text = _text(_press(client, body))
        assert response_url.received.wait(5)
    assert text == f"Approved {number} (manager approval). Thank you."
    assert response_url.posts == [
        {"response_type": "ephemeral", "text": text, "replace_original": False}
    ]
    assert _state_of(fulfilment, run_id) == (StateType.SCHEDULED, "Resuming")
    # The approver is bob as the directory knows U0BOB, not the Slack username "robert".
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
    with TestClient(_app(tmp_path, database_url, sessions, None)) as client:
        text = _text(_press(client, _form(number, str(run_id), user=ALICE)))
    assert "cannot approve your own request" in text
    assert _state_of(fulfilment, run_id) == (StateType.PAUSED, "Suspended")
    assert read_flow_run_input(keyset["response"], flow_run_id=run_id) is None


NOT_RECORDED = "; your decision was not recorded."
NOT_MANAGER = "carol is neither alice's manager (bob) nor a delegate of bob"


@pytest.mark.parametrize(
    ("submission", "kind", "user", "refusal"),
    [
        (SUBMISSION, "manager", CAROL, NOT_MANAGER),
        (SUBMISSION, "manager", CAROL | {"username": "bob"}, NOT_MANAGER),
        (SUBMISSION, "manager", DAVE, None),
        (CRM_ACCESS, "system_owner", BOB, "bob is not the owner of crm (olive)"),
        (CRM_ACCESS, "system_owner", OLIVE, None),
        (SUBMISSION, "financial", BOB, "bob is not a financial approver (fiona)"),
        (SUBMISSION, "financial", FIONA, None),
    ],
    ids=["unrelated", "unrelated-named-bob", "delegate", "not-owner", "owner", "not-financial",
         "financial"],
)  # fmt: skip
def test_only_who_has_the_authority_resumes_the_run(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
    submission: RequestSubmission,
    kind: str,
    user: dict[str, str],
    refusal: str | None,
) -> None:
    number = _awaiting(sessions, None, submission, ApprovalKind(kind))
    run_id, keyset = _suspended_run(fulfilment, number, submission)
    with (
        saved_request_policy(),
        TestClient(_app(tmp_path, database_url, sessions, None)) as client,
    ):
        text = _text(_press(client, _form(number, str(run_id), user=user, kind=kind)))
    stored = read_flow_run_input(keyset["response"], flow_run_id=run_id)
    if refusal is not None:
        assert text == f"{number}: {refusal}{NOT_RECORDED}"
        assert _state_of(fulfilment, run_id) == (StateType.PAUSED, "Suspended")
        assert stored is None
    else:
        label = kind.replace("_", " ")
        assert text == f"Approved {number} ({label} approval). Thank you."
        assert stored == {"approve": True, "approver": user["username"], "comment": ""}


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


@pytest.mark.parametrize("action_id", [["approve"], {"approve": True}, 1, None])
def test_an_action_id_that_is_not_text_is_not_ours(offline: TestClient, action_id: Any) -> None:
    """Found by the property suite: a list action_id was looked up in a dict and raised."""
    payload = {"type": "block_actions", "user": BOB, "actions": [{"action_id": action_id}]}
    response = _press(offline, urlencode({"payload": json.dumps(payload)}).encode())
    assert response.status_code == 200 and response.json() == {}
