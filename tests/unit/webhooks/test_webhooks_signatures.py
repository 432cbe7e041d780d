"""POST /webhooks/requests, signatures: the ServiceOps and Slack signature functions against
exact and documented values, and the webhook accepting a valid or rotated secret and refusing
a bad, stale or tampered delivery as a 401 with nothing recorded. Both database backends."""

import time
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.gateway.signatures import (
    SignatureError,
    sign_serviceops,
    sign_slack,
    verify_serviceops,
    verify_slack,
)
from serviceops.store.audit import AuditRepository
from tests.unit.gateway_support import webhook_headers
from tests.unit.webhooks.support import LAPTOP, PATH, ROTATED, SECRET, _body, _post, _requests

# --------------------------------------------------------------------------- signatures


def test_signature_functions_accept_only_the_exact_signature() -> None:
    body, now = b'{"a": 1}', 1_700_000_000.0
    good = sign_serviceops(SECRET, "1700000000", body)
    verify_serviceops([SECRET], "1700000000", good, body, now)
    verify_serviceops(["old", SECRET], "1700000000", good, body, now)  # rotation
    verify_serviceops([SECRET], "1700000000", good.upper().replace("V1=", "v1="), body, now)
    cases = [
        ([SECRET], None, good, body, "missing timestamp header"),
        ([SECRET], "1700000000", None, body, "missing signature header"),
        ([SECRET], "17e8", good, body, "malformed timestamp"),
        ([SECRET], "1700000000", "v0=" + good[3:], body, "malformed signature"),
        ([SECRET], "1700000000", good[:-1], body, "malformed signature"),
        ([SECRET], "1700000000", good, body + b" ", "bad signature"),
        (["other"], "1700000000", good, body, "bad signature"),
        ([], "1700000000", good, body, "bad signature"),
        ([SECRET], "1699999699", good, body, "stale timestamp"),
    ]
    for secrets, timestamp, signature, payload, reason in cases:
        with pytest.raises(SignatureError) as raised:
            verify_serviceops(secrets, timestamp, signature, payload, now)
        assert raised.value.reason == reason
    with pytest.raises(SignatureError, match="stale timestamp"):
        verify_serviceops([SECRET], "1700000301", good, body, now)
    verify_serviceops([SECRET], "1700000000", good, body, now + 300)  # the window's edge


def test_slack_v0_signature_matches_slacks_documented_example() -> None:
    # The example of Slack's "Verifying requests from Slack" page.
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    timestamp = "1531420618"
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign_slack(secret, timestamp, body) == expected
    verify_slack(secret, timestamp, expected, body, 1531420618.0)
    with pytest.raises(SignatureError, match="bad signature"):
        verify_slack(secret, timestamp, expected, body + b"x", 1531420618.0)


def test_valid_signature_is_accepted_and_recorded(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    response = _post(client, _body())
    assert response.status_code == 202, response.text
    assert response.json() == {"number": "REQ-000001", "state": "submitted", "flow_run_id": None}
    [request] = _requests(sessions)
    assert request.requester == "alice" and request.source == "portal"
    assert request.details.cost == Decimal("1299.00")
    with sessions.begin() as session:
        audit = AuditRepository(session).for_record("REQ-000001")
    # alice is who the portal says asks; the portal's secret signed it: that is the proof.
    assert [(entry.action, entry.actor, entry.known_as) for entry in audit] == [
        ("submit", "alice", "token portal")
    ]


def test_second_secret_of_a_rotation_is_accepted(client: TestClient) -> None:
    assert _post(client, _body(), secret=ROTATED).status_code == 202


def test_json_numbers_keep_their_exact_value(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = _body().replace(b'"1299.00"', b"1999.99")
    assert _post(client, body).status_code == 202
    [request] = _requests(sessions)
    assert str(request.details.cost) == "1999.99"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-ServiceOps-Signature": "v1=" + "0" * 64}, "bad signature"),
        ({"X-ServiceOps-Signature": "sha256=abc"}, "malformed signature"),
        ({"X-ServiceOps-Signature": ""}, "missing signature header"),
        ({"X-ServiceOps-Timestamp": ""}, "missing timestamp header"),
        ({"X-ServiceOps-Timestamp": "yesterday"}, "malformed timestamp"),
        ({"X-ServiceOps-Source": "intruder"}, "unknown source"),
        ({"X-ServiceOps-Source": ""}, "missing X-ServiceOps-Source header"),
        ({"X-ServiceOps-Source": "bot"}, "bad signature"),  # portal's secret, bot's name
    ],
)
def test_bad_signature_or_source_is_401(
    client: TestClient, sessions: sessionmaker[Session], change: dict[str, str], reason: str
) -> None:
    body = _body()
    response = client.post(PATH, content=body, headers=webhook_headers(body, SECRET) | change)
    assert response.status_code == 401
    assert response.json() == {"detail": reason}
    assert _requests(sessions) == []


def test_wrong_secret_and_stale_timestamp_are_401(client: TestClient) -> None:
    body = _body()
    wrong = client.post(PATH, content=body, headers=webhook_headers(body, "guess"))
    assert wrong.json() == {"detail": "bad signature"}
    old = time.time() - 301
    stale = client.post(PATH, content=body, headers=webhook_headers(body, SECRET, at=old))
    assert (stale.status_code, stale.json()) == (401, {"detail": "stale timestamp"})
    future = time.time() + 400
    early = client.post(PATH, content=body, headers=webhook_headers(body, SECRET, at=future))
    assert early.status_code == 401


def test_body_changed_after_signing_is_401(client: TestClient) -> None:
    headers = webhook_headers(_body(), SECRET)
    tampered = _body(LAPTOP | {"requester": "mallory"})
    assert client.post(PATH, content=tampered, headers=headers).status_code == 401
