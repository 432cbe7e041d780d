"""Issue 9, intake, on all three webhooks: what would break later reads is refused at the door
(lone surrogates, deep nesting, numbers and times no column holds), a captured signed delivery
re-sent inside the window records nothing new whatever its Idempotency-Key, one rule for
Idempotency-Key, and a request framed two ways (Content-Length and Transfer-Encoding) is 400.
Both database backends; in process and over a real socket."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from serviceops.domain.request import RequestSubmission
from serviceops.gateway import payload
from serviceops.gateway.app import create_app
from serviceops.settings import Settings
from serviceops.store.db import make_engine
from serviceops.store.event import EventRepository
from serviceops.store.request import DeliveryRepository, RequestRepository
from serviceops.store.request.tables import WebhookDeliveryRecord
from tests.unit.gateway_support import AUTH, TOKEN, closed_port_url, serve, webhook_headers
from tests.unit.test_gateway_event_intake import am_alert, am_payload

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


@pytest.fixture
def app(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> FastAPI:
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)  # Prefect is down: do not wait on it
    return _app(tmp_path, database_url, sessions)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


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


def _with_value(hook: str, value: Any) -> tuple[dict[str, Any], list[Any]]:
    """A valid delivery of `hook` with `value` in one of its stored text fields, and the loc
    naming that field."""
    if hook == "requests":
        details = LAPTOP["details"] | {"justification": value}
        return LAPTOP | {"details": details}, ["body", "details", "justification"]
    if hook == "events":
        return EVENT | {"details": {"note": value}}, ["body", "details", "note"]
    alert = am_alert()
    alert["annotations"]["summary"] = value
    return am_payload(alert), ["body", "alerts", 0, "annotations", "summary"]


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


def _nested(levels: int) -> dict[str, Any]:
    """`levels` objects inside one another, built without recursion."""
    inner: dict[str, Any] = {}
    for _ in range(levels - 1):
        inner = {"a": inner}
    return inner


def _with_nested(hook: str, levels: int) -> tuple[bytes, list[Any]]:
    """A delivery with `levels` objects nested in an extra member, written without recursion
    (json.dumps of hundreds of levels fails in the test before the gateway sees it)."""
    document, loc = _with_extra(hook, "extra", "NESTED")
    nested = b'{"a":' * (levels - 1) + b"{}" + b"}" * (levels - 1)
    return json.dumps(document).encode().replace(b'"NESTED"', nested), loc


# --------------------------------------------------------------------------- defect 4


@pytest.mark.parametrize("hook", HOOKS)
def test_lone_surrogate_in_a_value_is_422_naming_the_field(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, loc = _with_value(hook, "half a pair \ud800 here")
    body = json.dumps(document).encode()  # the JSON escape "\ud800": valid JSON, not Unicode
    assert b"\\ud800" in body
    assert _errors(_post(client, hook, body)) == [(loc, "string_unicode")]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("hook", HOOKS)
def test_a_body_of_many_bad_strings_gets_a_short_answer(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, _ = _with_value(hook, ["bad \x00"] * (payload.MAX_ERRORS * 20))
    errors = _errors(_post(client, hook, json.dumps(document).encode()))
    assert len(errors) == payload.MAX_ERRORS and {kind for _, kind in errors} == {"string_nul"}
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("hook", HOOKS)
def test_lone_surrogate_in_a_key_is_422_and_the_answer_is_valid_utf8(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, loc = _with_extra(hook, "bad\udfffkey", 1 if hook != "alertmanager" else "x")
    response = _post(client, hook, json.dumps(document).encode())
    response.content.decode("utf-8")  # the loc echoes the key escaped, never the surrogate
    assert _errors(response) == [([*loc[:-1], "bad\\udfffkey"], "string_unicode")]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("hook", HOOKS)
def test_a_surrogate_pair_is_one_character_and_accepted(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    document, _ = _with_value(hook, "laptop \U0001f4bb")
    body = json.dumps(document).encode()
    assert b"\\ud83d\\udcbb" in body  # escaped as the pair a JSON encoder writes
    assert _post(client, hook, body).status_code == 202
    assert _recorded(sessions) == 1


@pytest.mark.parametrize("levels", [300, 999])
@pytest.mark.parametrize("hook", HOOKS)
def test_deeply_nested_body_is_422_naming_where(
    client: TestClient, sessions: sessionmaker[Session], hook: str, levels: int
) -> None:
    """Named where the levels pass the limit; or, on a stack so deep already that the JSON
    parser gave up before the limit could be measured, on the body."""
    body, loc = _with_nested(hook, levels)
    [(error_loc, kind)] = _errors(_post(client, hook, body))
    assert kind == "json_too_deep"
    precise = error_loc[: len(loc)] == loc and set(error_loc[len(loc) :]) == {"a"}
    assert precise or (levels > 900 and error_loc == ["body"])
    assert _recorded(sessions) == 0


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_not(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """The body is level 1 and `details` level 2: the limit counts every level."""
    at_limit = json.dumps(EVENT | {"details": _nested(payload.MAX_DEPTH - 1)}).encode()
    assert _post(client, "events", at_limit).status_code == 202
    over = json.dumps(EVENT | {"details": _nested(payload.MAX_DEPTH)}).encode()
    [(loc, kind)] = _errors(_post(client, "events", over))
    assert (loc, kind) == (["body", "details", *["a"] * (payload.MAX_DEPTH - 1)], "json_too_deep")
    assert _recorded(sessions) == 1


@pytest.mark.parametrize("hook", HOOKS)
def test_json_too_deep_for_the_parser_is_422_on_the_body(client: TestClient, hook: str) -> None:
    body = b'{"a":' * 20_000 + b"1" + b"}" * 20_000
    assert _errors(_post(client, hook, body)) == [(["body"], "json_too_deep")]


# --------------------------------------------------------------------------- defect 5


EXTREMES = [
    "9999-12-31T23:59:59-23:59",  # no UTC equivalent: after the year 9999
    "0001-01-01T00:00:00+23:59",  # no UTC equivalent: before the year 1
    "9999-12-31T23:59:59Z",  # in UTC, but not in a database session east of UTC
    "0001-01-01T00:00:01Z",  # in UTC, but not in a database session west of UTC
]


@pytest.mark.parametrize("value", EXTREMES)
def test_event_time_no_database_holds_is_422_naming_occurred_at(
    client: TestClient, sessions: sessionmaker[Session], value: str
) -> None:
    single = json.dumps(EVENT | {"occurred_at": value}).encode()
    [(loc, _)] = _errors(_post(client, "events", single))
    assert loc == ["body", "occurred_at"]
    batch = json.dumps({"events": [EVENT, EVENT | {"occurred_at": value}]}).encode()
    [(loc, _)] = _errors(_post(client, "events", batch))
    assert loc == ["body", "events", 1, "occurred_at"]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["startsAt", "endsAt"])
def test_alertmanager_time_no_database_holds_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], field: str, value: str
) -> None:
    alert = am_alert(status="resolved") | {field: value}
    response = _post(client, "alertmanager", json.dumps(am_payload(alert)).encode())
    assert (["body", "alerts", 0, field], "value_error") in _errors(response)
    assert _recorded(sessions) == 0


def test_alertmanagers_zero_end_time_means_no_end(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """Alertmanager sends Go's zero time, 0001-01-01T00:00:00Z, as the end of what has not
    ended: accepted as "no end", never as an instant of year 1."""
    firing, resolved = am_alert(), am_alert(status="resolved")
    resolved["endsAt"] = "0001-01-01T00:00:00Z"
    body = json.dumps(am_payload(firing, resolved)).encode()
    assert _post(client, "alertmanager", body).status_code == 202
    with sessions.begin() as session:
        stored = EventRepository(session).list()
    assert [event.details["endsAt"] for event in stored] == [None, None]
    assert {event.occurred_at for event in stored} == {
        datetime(2026, 11, 26, 8, 59, 0, 123456, tzinfo=UTC)
    }


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309"])
@pytest.mark.parametrize("hook", ["events", "alertmanager"])
def test_number_beyond_a_double_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], hook: str, number: str
) -> None:
    document, loc = _with_extra(hook, "reading", "NUMBER")
    body = json.dumps(document).encode().replace(b'"NUMBER"', number.encode())
    assert _errors(_post(client, hook, body)) == [(loc, "float_overflow")]
    assert _recorded(sessions) == 0


@pytest.mark.parametrize("number", ["1e400", "1e999999999999999999", "-1e400", "1e-400"])
def test_request_amount_beyond_any_bound_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], number: str
) -> None:
    body = json.dumps(LAPTOP).encode().replace(b'"1299.00"', number.encode())
    response = _post(client, "requests", body)
    if number == "1e-400":  # tiny, but a valid amount: kept exactly
        assert response.status_code == 202, response.text
        return
    [(loc, _)] = _errors(response)
    assert loc == ["body", "details", "cost"]
    assert _recorded(sessions) == 0


# --------------------------------------------------------------------------- defect 8


def _replays(hook: str, body: bytes, key: str | None) -> list[dict[str, str]]:
    """The first delivery's headers, then the same signed delivery with a new key and with
    none (and with the signature's hex in capitals, which verifies the same)."""
    first = _headers(hook, body, key=key)
    bare = {name: value for name, value in first.items() if name != "Idempotency-Key"}
    upper = first["X-ServiceOps-Signature"].replace("v1=", "").upper()
    return [
        first,
        first | {"Idempotency-Key": "another-key"},
        bare,
        first | {"Idempotency-Key": "yet-another", "X-ServiceOps-Signature": "v1=" + upper},
    ]


def _signed_document(hook: str) -> bytes:
    return json.dumps(LAPTOP if hook == "requests" else EVENT).encode()


@pytest.mark.parametrize("key", ["first-key", None])
@pytest.mark.parametrize("hook", list(SIGNED))
def test_replay_within_the_window_gets_the_first_answer_and_records_nothing(
    client: TestClient, sessions: sessionmaker[Session], hook: str, key: str | None
) -> None:
    body = _signed_document(hook)
    first, *replays = _replays(hook, body, key)
    answers = [_post(client, hook, body, first)]
    remembered = _deliveries(sessions)
    answers += [_post(client, hook, body, headers) for headers in replays]
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.content for answer in answers}) == 1
    assert _recorded(sessions) == 1
    assert _deliveries(sessions) == remembered, "a replay adds no delivery row either"


def _deliveries(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(WebhookDeliveryRecord)) or 0


@pytest.mark.parametrize("hook", list(SIGNED))
def test_replay_over_a_real_socket_on_two_replicas(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    hook: str,
) -> None:
    """Two gateways (own app, own engine) on one database: what one saw, the other knows."""
    monkeypatch.setattr(intake, "START_TIMEOUT_S", 0.2)
    other_engine = make_engine(database_url)
    replica = _app(tmp_path, database_url, sessionmaker(other_engine, expire_on_commit=False))
    body = _signed_document(hook)
    first, *replays = _replays(hook, body, "socket-key")
    try:
        with serve(_app(tmp_path, database_url, sessions)) as one, serve(replica) as two:
            with httpx.Client(base_url=one, timeout=30) as http:
                answer = _post(http, hook, body, first)
            with httpx.Client(base_url=two, timeout=30) as http:
                again = [_post(http, hook, body, headers) for headers in replays]
    finally:
        other_engine.dispose()
    assert answer.status_code == 202
    assert [(a.status_code, a.content) for a in again] == [(202, answer.content)] * 3
    assert _recorded(sessions) == 1


def test_twenty_concurrent_replays_with_twenty_keys_make_one_request(
    app: FastAPI, sessions: sessionmaker[Session]
) -> None:
    body = _signed_document("requests")
    headers = _headers("requests", body)
    barrier = threading.Barrier(20)

    def deliver(index: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            return _post(http, "requests", body, headers | {"Idempotency-Key": f"k-{index}"})

    with serve(app) as base, ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(deliver, range(20)))
    assert {(a.status_code, a.json()["number"]) for a in answers} == {(202, "REQ-000001")}
    assert _recorded(sessions) == 1


@pytest.mark.parametrize("hook", list(SIGNED))
def test_a_new_signature_is_a_new_delivery(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    """Only the signed bytes identify a replay: the same body sent again at another second
    is the sender's own new delivery."""
    body = _signed_document(hook)
    _, source, secret = SIGNED[hook]
    for at in (time.time() - 2, time.time() - 1):
        headers = webhook_headers(body, secret, source=source, at=at)
        assert _post(client, hook, body, headers).status_code == 202
    assert _recorded(sessions) == 2


def test_a_retry_under_its_key_then_replayed_keeps_the_first_answer(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """A sender's retry (new timestamp, same key) gets the first answer; a replay of that
    retry with yet another key gets it too, from the retry's own remembered signature."""
    body = _signed_document("events")
    first = _post(client, "events", body, _headers("events", body, key="k-1"))
    retry = webhook_headers(body, MONITOR, source="nagios", at=time.time() - 5, key="k-1")
    assert _post(client, "events", body, retry).content == first.content
    replayed = _post(client, "events", body, retry | {"Idempotency-Key": "k-2"})
    assert replayed.content == first.content
    assert _recorded(sessions) == 1


@pytest.mark.parametrize("hook", list(SIGNED))
def test_a_replay_does_not_take_the_key_it_carries(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    """A replay with the key the sender will use next (`portal-4712` after `portal-4711`)
    gets the first answer and leaves that key alone: the sender's own delivery under it is
    recorded, not answered as somebody else's duplicate."""
    body = _signed_document(hook)
    captured = _headers(hook, body, key="portal-4711")
    first = _post(client, hook, body, captured)
    replayed = _post(client, hook, body, captured | {"Idempotency-Key": "portal-4712"})
    assert replayed.content == first.content
    _, source, secret = SIGNED[hook]
    nxt = webhook_headers(body, secret, source=source, at=time.time() - 3, key="portal-4712")
    genuine = _post(client, hook, body, nxt)
    assert genuine.status_code == 202 and genuine.content != first.content
    assert _recorded(sessions) == 2


@pytest.mark.parametrize("hook", list(SIGNED))
def test_a_refused_body_is_refused_again_and_records_nothing(
    client: TestClient, sessions: sessionmaker[Session], hook: str
) -> None:
    """A 422 records nothing, so its signature is not remembered: a replay is judged again
    (the same way) and is as harmless as the first."""
    body = json.dumps({"requester": "alice"} if hook == "requests" else {"check": "x"}).encode()
    first, *replays = _replays(hook, body, "refused")
    answers = [_post(client, hook, body, headers) for headers in [first, *replays]]
    assert {answer.status_code for answer in answers} == {422}
    assert _recorded(sessions) == 0


def test_a_replay_after_the_run_is_noted_names_the_run(sessions: sessionmaker[Session]) -> None:
    """The stored answer under the signature follows the one under the key: a replay shows
    the flow run id once the gateway has noted it, like a repeat with the key does."""
    submission = RequestSubmission.model_validate(LAPTOP)
    at = datetime.now(UTC)
    accepted = intake.accept(
        sessions, submission, source="portal", key="k-1", at=at, signature_key="sig:" + "a" * 64
    )
    intake.record_flow_run(sessions, accepted, "run-1", source="portal", key="k-1")
    with sessions.begin() as session:
        stored = DeliveryRepository(session).claim("portal", "sig:" + "a" * 64, at)
    assert stored is not None and stored.body["flow_run_id"] == "run-1"


# --------------------------------------------------------------------------- defect 9b


@pytest.mark.parametrize("hook", list(SIGNED))
@pytest.mark.parametrize(
    "key", ["schlüssel".encode(), b"with space", b"tab\there", b"x" * 201], ids=repr
)
def test_one_idempotency_key_rule_on_both_signed_webhooks(
    client: TestClient, sessions: sessionmaker[Session], hook: str, key: bytes
) -> None:
    body = _signed_document(hook)
    headers: dict[str, Any] = _headers(hook, body) | {"Idempotency-Key": key}
    assert _errors(_post(client, hook, body, headers)) == [(["header", "idempotency-key"], "key")]
    assert _recorded(sessions) == 0


# --------------------------------------------------------------------------- defect 9d


def test_content_length_with_transfer_encoding_is_400_in_process(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    body = b"0\r\n\r\n"
    headers = {"Content-Length": "5", "Transfer-Encoding": "chunked"}
    response = client.post("/webhooks/events", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "Content-Length and Transfer-Encoding together"}
    assert _recorded(sessions) == 0


def _raw(base: str, request: bytes) -> bytes:
    """Write `request` as is on a fresh connection; everything the server sends back until
    it closes (or goes quiet for two seconds)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=2) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def _smuggling(path: str, framing: bytes, body: bytes) -> bytes:
    return b"POST " + path.encode() + b" HTTP/1.1\r\nHost: gateway\r\n" + framing + b"\r\n" + body


CHUNKED_THEN_SMUGGLED = b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 48\r\n",
        b"content-length: 0\r\ntransfer-encoding: CHUNKED\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding:  chunked \r\n",
    ],
    ids=["cl-te", "te-cl", "lower-case", "padded"],
)
@pytest.mark.parametrize("path", ["/webhooks/requests", "/webhooks/events", "/healthz"])
def test_content_length_with_transfer_encoding_is_400_over_a_socket(
    app: FastAPI, sessions: sessionmaker[Session], framing: bytes, path: str
) -> None:
    with serve(app) as base:
        answer = _raw(base, _smuggling(path, framing, CHUNKED_THEN_SMUGGLED))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request", answer
    assert rest.lower().count(b"http/1.1") == 0, "nothing after the 400: the connection closed"
    assert b"connection: close" in rest.lower()
    assert _recorded(sessions) == 0


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding : chunked\r\n",
        b"Content-Length: +5\r\n",
    ],
    ids=["two-lengths", "two-codings", "two-headers", "space-before-colon", "signed-length"],
)
def test_what_the_http_parser_refuses_itself_stays_refused(app: FastAPI, framing: bytes) -> None:
    """h11 already refuses these framings before the app sees them; the guard adds the one it
    lets through (Content-Length with chunked)."""
    with serve(app) as base:
        answer = _raw(base, _smuggling("/healthz", framing, CHUNKED_THEN_SMUGGLED))
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.lower().count(b"http/1.1") == 1


def test_one_framing_still_works_over_a_socket(app: FastAPI) -> None:
    chunked = _smuggling("/healthz", b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n")
    with serve(app) as base, httpx.Client(base_url=base) as http:
        assert _raw(base, chunked).startswith(b"HTTP/1.1 405")  # POST: routed, not refused
        assert _raw(base, _smuggling("/healthz", b"Content-Length: 0\r\n", b"")).startswith(
            b"HTTP/1.1 405"
        )
        assert http.get("/api/v1/events", headers=AUTH).status_code == 200
