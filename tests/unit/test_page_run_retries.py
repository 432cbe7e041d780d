"""A step's run is created with short retries of its own while Prefect on SQLite answers 503,
instead of the client's pauses of 2, 4, 8 and 16 s that made levels late."""

import httpx
import pytest
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

from tasks import paging


def _answer(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/api/deployments/x/create_flow_run")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"{status}", request=request, response=response)


def test_a_busy_server_is_asked_again_soon_without_the_clients_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(paging.time, "sleep", pauses.append)
    retries_seen: list[int] = []

    def create() -> str:
        retries_seen.append(PREFECT_CLIENT_MAX_RETRIES.value())
        if len(retries_seen) < 4:
            raise _answer(503)
        return "the run"

    assert paging._retried_soon(create) == "the run"
    assert retries_seen == [0, 0, 0, 0]
    assert pauses == [paging.BUSY_RETRY] * 3


def test_any_other_error_is_raised_at_once() -> None:
    calls: list[int] = []

    def create() -> str:
        calls.append(1)
        raise _answer(409)

    with pytest.raises(httpx.HTTPStatusError):
        paging._retried_soon(create)
    assert calls == [1]


def test_a_server_busy_for_longer_gets_the_clients_own_retries_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paging, "BUSY_FOR", 0.5)
    retries_seen: list[int] = []

    def create() -> str:
        retries_seen.append(PREFECT_CLIENT_MAX_RETRIES.value())
        if retries_seen[-1] == 0:
            raise _answer(503)
        return "the run"

    assert paging._retried_soon(create) == "the run"
    assert retries_seen[-1] == PREFECT_CLIENT_MAX_RETRIES.value() > 0
    assert set(retries_seen[:-1]) == {0}
