"""POST /webhooks/requests, idempotency: a repeated Idempotency-Key or payload id gets the first
answer, and over a real socket (uvicorn) the whole path holds, twenty concurrent duplicates
making one request and one flow run. Both database backends."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.unit.conftest import Fulfilment
from tests.unit.gateway_support import serve, webhook_headers
from tests.unit.webhooks.support import (
    LAPTOP,
    MIB,
    PATH,
    SECRET,
    _app,
    _body,
    _errors,
    _post,
    _requests,
    _started,
)

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
