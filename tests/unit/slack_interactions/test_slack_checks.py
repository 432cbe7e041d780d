"""POST /slack/interactions checks before a decision is passed on: who pressed (the directory
entry of their Slack user id, nothing else), four eyes, stale buttons, unknown requests,
malformed and over-deep payloads, and the reply when Prefect is down (in time, Slack-escaped)."""

import json
import time
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.slack_interactions.support import (
    ALICE,
    BOB,
    SUBMISSION,
    _awaiting,
    _form,
    _press,
    _text,
)

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


@pytest.mark.parametrize("action_id", [["approve"], {"approve": True}, 1, None])
def test_an_action_id_that_is_not_text_is_not_ours(offline: TestClient, action_id: Any) -> None:
    """Found by the property suite: a list action_id was looked up in a dict and raised."""
    payload = {"type": "block_actions", "user": BOB, "actions": [{"action_id": action_id}]}
    response = _press(offline, urlencode({"payload": json.dumps(payload)}).encode())
    assert response.status_code == 200 and response.json() == {}
