"""POST /webhooks/requests, the hand-over to Prefect (a real test server): fulfil-request starts
once, after a 202 that does not wait for it, the CLI path gives the same answer, and Prefect
down or hung still gets the request accepted and recorded. Both database backends."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from serviceops.application import intake
from serviceops.domain.provenance import Channel, Provenance
from tests.unit.conftest import Fulfilment
from tests.unit.gateway_support import silent_server
from tests.unit.webhooks.support import LAPTOP, _app, _body, _post, _requests, _started

# --------------------------------------------------------------------------- Prefect

CLI = Provenance(via=Channel.CLI, ref="alice")


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
    # The silent server never answers: without the start timeout the client would wait for
    # its own (a minute). The bound is loose so a loaded machine cannot fail it.
    assert elapsed < 10
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
    assert run.parameters["request"]["details"]["cost"] == 1299  # a number in JSON
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
    accepted = intake.submit(sessions, submission, source="cli", key="cli-1", at=at, known=CLI)
    repeat = intake.submit(sessions, submission, source="cli", key="cli-1", at=at, known=CLI)
    assert accepted.first and not repeat.first
    assert repeat.body == accepted.body and accepted.body["flow_run_id"]
    assert len(fulfilment.runs()) == 1
