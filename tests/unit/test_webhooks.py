"""POST /webhooks/requests: signatures, limits, validation, idempotency, and the hand-over to
Prefect (a real test server) including Prefect being down or hung. Both database backends;
in process (TestClient) and over a real socket (uvicorn)."""

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from serviceops.gateway.app import create_app
from serviceops.gateway.signatures import (
    SignatureError,
    sign_serviceops,
    sign_slack,
    verify_serviceops,
    verify_slack,
)
from serviceops.settings import Settings
from serviceops.store.audit import AuditRepository
from serviceops.store.request import RequestRepository
from tests.unit.conftest import Fulfilment
from tests.unit.gateway_support import (
    AUTH,
    TOKEN,
    closed_port_url,
    serve,
    silent_server,
    webhook_headers,
)

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


@pytest.fixture
def app(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> FastAPI:
    """The gateway with Prefect down (a closed port): acceptance must not depend on it.

    Prefect's client retries a refused connection for 1.5 s; a short start timeout keeps
    these tests quick (test_prefect_down_* runs the real timeout).
    """
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)
    return _app(tmp_path, database_url, sessions, closed_port_url())


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


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
    assert str(request.details.cost) == "1299.00"
    with sessions.begin() as session:
        audit = AuditRepository(session).for_record("REQ-000001")
    assert [(entry.action, entry.actor) for entry in audit] == [("submit", "alice")]


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


# --------------------------------------------------------------------------- size


def test_body_over_1_mib_by_content_length_is_413(client: TestClient) -> None:
    body = b" " * (MIB + 1)
    response = _post(client, body)
    assert response.status_code == 413
    assert response.json() == {"detail": f"body over {MIB} bytes"}


def test_body_of_exactly_1_mib_is_read_and_judged(client: TestClient) -> None:
    document = _body()
    body = document + b" " * (MIB - len(document))  # valid JSON, padded to the limit
    assert _post(client, body).status_code == 202


def test_streamed_body_over_1_mib_is_413(client: TestClient) -> None:
    body = b" " * (MIB + 10)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = client.post(PATH, content=chunks(), headers=webhook_headers(body, SECRET))
    assert response.status_code == 413


# --------------------------------------------------------------------------- payload


def _errors(response: httpx.Response) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    assert "Traceback" not in response.text
    return [(error["loc"], error["type"]) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"requester": "alice",}', b"[1, 2", b"", b'{"a": NaN}', b"\xff\xfe{}"],
    ids=["truncated", "trailing-comma", "array", "empty", "nan", "not-utf8"],
)
def test_malformed_json_is_422_on_the_body(client: TestClient, body: bytes) -> None:
    [(loc, _)] = _errors(_post(client, body))
    assert loc == ["body"]


def test_deeply_nested_json_is_422_not_500(client: TestClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    [(loc, kind)] = _errors(_post(client, body))
    assert (loc, kind) == (["body"], "json_too_deep")


def test_wrong_type_names_the_field(client: TestClient) -> None:
    document = json.loads(_body())
    document["details"]["cost"] = "abc"
    response = _post(client, _body(document))
    assert _errors(response) == [(["body", "details", "cost"], "decimal_parsing")]
    assert response.json()["detail"][0]["msg"]


def test_missing_and_extra_bad_fields_are_all_reported(client: TestClient) -> None:
    document = {"requester": "", "details": {"type": "new_laptop", "model": "gold"}}
    assert sorted(_errors(_post(client, _body(document)))) == sorted(
        [
            (["body", "requester"], "string_too_short"),
            (["body", "details", "model"], "enum"),
            (["body", "details", "cost"], "missing"),
            (["body", "details", "justification"], "missing"),
            (["body", "details", "deliver_to"], "missing"),
        ]
    )


def test_unknown_request_type_is_422_on_details(client: TestClient) -> None:
    document = {"requester": "alice", "details": {"type": "pony", "colour": "pink"}}
    assert _errors(_post(client, _body(document))) == [(["body", "details"], "union_tag_invalid")]


def test_not_an_object_is_422(client: TestClient) -> None:
    assert _errors(_post(client, b'"just a string"')) == [(["body"], "model_type")]


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        (LAPTOP | {"requester": "al\x00ice"}, ["body", "requester"]),
        (
            LAPTOP | {"details": LAPTOP["details"] | {"justification": "ok\x00; rm -rf /"}},
            ["body", "details", "justification"],
        ),
        (LAPTOP | {"extra\x00key": 1}, ["body", "extra\x00key"]),
    ],
    ids=["requester", "nested", "key"],
)
def test_nul_byte_is_422_naming_the_field(
    client: TestClient, sessions: sessionmaker[Session], document: Any, loc: list[str]
) -> None:
    response = _post(client, _body(document))
    assert _errors(response) == [(loc, "string_nul")]
    json.loads(response.text)  # the echo of the key is still valid JSON
    assert _requests(sessions) == []


INJECTIONS = [
    "<!channel> please approve",
    "{{ 7*7 }} {% raw %}",
    "'; DROP TABLE service_requests; --",
    "<script>alert(1)</script>",
    'quote " backslash \\ unicode \u202e emoji \U0001f4bb',
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_hostile_text_is_accepted_and_stored_verbatim(client: TestClient, text: str) -> None:
    details = LAPTOP["details"] | {"justification": text}
    response = _post(client, _body({"requester": "alice", "details": details}))
    assert response.status_code == 202, response.text
    number = response.json()["number"]
    stored = client.get(f"/api/v1/requests/{number}", headers=AUTH).json()
    assert stored["request"]["details"]["justification"] == text


# --------------------------------------------------------------------------- idempotency


def test_repeat_with_the_same_idempotency_key_gets_the_first_answer(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    first = _post(client, _body(), key="delivery-1")
    again = _post(client, _body(), key="delivery-1")
    # The same key with another body is still the same delivery: the first answer again.
    other = _post(client, _body(LAPTOP | {"requester": "bob"}), key="delivery-1")
    assert first.status_code == again.status_code == other.status_code == 202
    assert first.content == again.content == other.content
    assert len(_requests(sessions)) == 1
    # Another source may use the same key for its own delivery.
    from_bot = client.post(
        PATH,
        content=_body(),
        headers=webhook_headers(_body(), "b0t", source="bot", key="delivery-1"),
    )
    assert from_bot.json()["number"] == "REQ-000002"


def test_payload_id_deduplicates_without_a_header(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = _body(LAPTOP | {"id": "portal-4711"})
    first = _post(client, body)
    assert first.status_code == 202
    assert _post(client, body).content == first.content
    # Another delivery key for the same portal id is the same request, not a second one.
    assert _post(client, body, key="retry-with-key").json()["number"] == "REQ-000001"
    [request] = _requests(sessions)
    assert request.external_id == "portal-4711"


def test_bad_idempotency_key_is_422(client: TestClient) -> None:
    response = _post(client, _body(), key="x" * 201)
    assert _errors(response) == [(["header", "idempotency-key"], "key")]


def test_without_any_key_every_signed_delivery_is_a_new_request(client: TestClient) -> None:
    """Each one signed at its own second: the same signature again would be a replay."""
    numbers = set()
    for ago in (3, 2, 1):
        body = _body()
        headers = webhook_headers(body, SECRET, at=time.time() - ago)
        numbers.add(client.post(PATH, content=body, headers=headers).json()["number"])
    assert numbers == {"REQ-000001", "REQ-000002", "REQ-000003"}


# --------------------------------------------------------------------------- Prefect


def test_prefect_down_still_accepts_and_records(
    client: TestClient,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 5.0)  # the real one: refused, not timed out
    started = time.monotonic()
    response = _post(client, _body(), key="down-1")
    assert time.monotonic() - started < 5
    assert response.status_code == 202
    assert response.json() == {"number": "REQ-000001", "state": "submitted", "flow_run_id": None}
    deadline = time.monotonic() + 5  # the start is tried after the 202, off the request
    while "not started now (ConnectError" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "fulfil-request not started now (ConnectError" in caplog.text
    [request] = _requests(sessions)
    assert request.flow_run_id is None  # the scheduled upkeep picks it up


def test_prefect_hung_answers_within_the_timeout(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.5)
    with silent_server() as url, TestClient(_app(tmp_path, database_url, sessions, url)) as client:
        started = time.monotonic()
        response = _post(client, _body())
        elapsed = time.monotonic() - started
    assert response.status_code == 202
    assert response.json()["flow_run_id"] is None
    assert elapsed < 3
    assert len(_requests(sessions)) == 1


def test_prefect_up_starts_fulfil_request_once(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    with TestClient(_app(tmp_path, database_url, sessions, None)) as client:
        first = _post(client, _body(), key="up-1")
        assert first.status_code == 202
        assert first.json()["flow_run_id"] is None, "the 202 does not wait for Prefect"
        started = _started(sessions)
        again = _post(client, _body(), key="up-1")
    body = again.json()  # the stored answer was updated with the run id
    assert body == first.json() | {"flow_run_id": started}
    [run] = fulfilment.runs()
    assert str(run.id) == body["flow_run_id"]
    assert run.idempotency_key is not None
    assert run.idempotency_key.startswith("fulfil-request:REQ-000001:")
    assert run.parameters["number"] == "REQ-000001"
    assert run.parameters["request"]["details"]["cost"] == "1299.00"
    assert run.state is not None and run.state.is_scheduled()
    [request] = _requests(sessions)
    assert request.flow_run_id == body["flow_run_id"]


def test_the_cli_path_gives_the_same_answer(
    sessions: sessionmaker[Session], fulfilment: Fulfilment
) -> None:
    from datetime import UTC, datetime

    from serviceops.domain.request import RequestSubmission

    submission = RequestSubmission.model_validate(LAPTOP)
    at = datetime.now(UTC)
    accepted = intake.submit(sessions, submission, source="cli", key="cli-1", at=at)
    repeat = intake.submit(sessions, submission, source="cli", key="cli-1", at=at)
    assert accepted.first and not repeat.first
    assert repeat.body == accepted.body and accepted.body["flow_run_id"]
    assert len(fulfilment.runs()) == 1


# --------------------------------------------------------------------------- real socket


def test_over_a_real_socket(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        accepted = _post(http, _body(), key="socket-1")
        assert accepted.status_code == 202
        assert _post(http, _body(), key="socket-1").content == accepted.content
        assert _post(http, _body(), secret="guess").status_code == 401
        bad = _post(http, _body(LAPTOP | {"details": {"type": "pony"}}))
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "details"]
        assert _post(http, b" " * (MIB + 1)).status_code == 413

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b" " * (64 * 1024)

        big = b" " * (20 * 64 * 1024)
        streamed = http.post(PATH, content=chunks(), headers=webhook_headers(big, SECRET))
        assert streamed.status_code == 413
    assert len(_requests(sessions)) == 1


def _concurrently(base: str, body: bytes, n: int) -> list[httpx.Response]:
    barrier = threading.Barrier(n)

    def deliver(_: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            return _post(http, body, key="storm-1")

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(deliver, range(n)))


def test_twenty_concurrent_duplicates_make_one_request(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    with serve(app) as base:
        responses = _concurrently(base, _body(), 20)
    assert {r.status_code for r in responses} == {202}
    assert {r.json()["number"] for r in responses} == {"REQ-000001"}
    assert len(_requests(sessions)) == 1


def test_twenty_concurrent_duplicates_make_one_flow_run(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    fulfilment: Fulfilment,
) -> None:
    with serve(_app(tmp_path, database_url, sessions, None)) as base:
        responses = _concurrently(base, _body(), 20)
        assert {r.status_code for r in responses} == {202}
        assert {r.json()["number"] for r in responses} == {"REQ-000001"}
        started = _started(sessions)
    [run] = fulfilment.runs()
    assert started == str(run.id)
    # Answers given before the run was noted say null; none names another run.
    assert {r.json()["flow_run_id"] for r in responses} - {None} <= {str(run.id)}


def _started(sessions: sessionmaker[Session], timeout: float = 15) -> str:
    """The run id the gateway's starter notes on the request, once it has (off the 202)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [request] = _requests(sessions)
        if request.flow_run_id is not None:
            return request.flow_run_id
        time.sleep(0.1)
    raise AssertionError("the gateway did not start fulfil-request")
