"""Issue 9, defects 8 and 9b, on the signed webhooks: a captured signed delivery re-sent inside
the window gets the first answer and records nothing new whatever its Idempotency-Key (in
process, over a real socket on two replicas, twenty at once), and one rule for Idempotency-Key
on both. Both database backends."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from serviceops.domain.provenance import Channel, Provenance
from serviceops.domain.request import RequestSubmission
from serviceops.store.db import make_engine
from serviceops.store.request import DeliveryRepository
from serviceops.store.request.tables import WebhookDeliveryRecord
from tests.unit.gateway_support import serve, webhook_headers
from tests.unit.intake_guards.support import (
    EVENT,
    LAPTOP,
    MONITOR,
    SIGNED,
    _app,
    _errors,
    _headers,
    _post,
    _recorded,
)

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
        sessions,
        submission,
        source="portal",
        key="k-1",
        at=at,
        known=Provenance(via=Channel.TOKEN, ref="portal"),
        signature_key="sig:" + "a" * 64,
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
