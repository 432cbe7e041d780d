"""DeliveryRepository on SQLite and PostgreSQL: webhook delivery claims, so that a duplicate
delivery replays the first answer instead of filing a second request, concurrent ones included."""

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from serviceops.store.base import RecordNotFound
from serviceops.store.db import normalise_url
from serviceops.store.request import DeliveryRepository, StoredAnswer, UnansweredDelivery
from tests.unit.store_requests_support import T0, Sessions

# --------------------------------------------------------------------------- deliveries


def claim(sessions: Sessions, source: str, key: str, answer: int | None = 202) -> object:
    """One delivery, the way the gateway does it: claim, and answer in the same transaction."""
    with sessions.begin() as session:
        deliveries = DeliveryRepository(session)
        stored = deliveries.claim(source, key, T0)
        if stored is None and answer is not None:
            deliveries.answer(source, key, answer, {"number": f"REQ-{key}", "source": source})
        return stored


def test_the_first_claim_wins_and_duplicates_get_its_answer(sessions: Sessions) -> None:
    assert claim(sessions, "portal", "k1") is None

    again = claim(sessions, "portal", "k1", answer=500)

    assert again == StoredAnswer(status=202, body={"number": "REQ-k1", "source": "portal"})
    assert claim(sessions, "portal", "k1") == again


def test_keys_are_per_source(sessions: Sessions) -> None:
    assert claim(sessions, "portal", "k1") is None
    assert claim(sessions, "hr", "k1") is None
    assert claim(sessions, "portal", "k2") is None

    assert claim(sessions, "hr", "k1") == StoredAnswer(
        status=202, body={"number": "REQ-k1", "source": "hr"}
    )


def test_answer_replaces_the_stored_answer(sessions: Sessions) -> None:
    with sessions.begin() as session:
        deliveries = DeliveryRepository(session)
        assert deliveries.claim("portal", "k1", T0) is None
        deliveries.answer("portal", "k1", 202, {"number": "REQ-000001"})
        deliveries.answer("portal", "k1", 202, {"number": "REQ-000001", "flow_run_id": "r1"})

    assert claim(sessions, "portal", "k1") == StoredAnswer(
        status=202, body={"number": "REQ-000001", "flow_run_id": "r1"}
    )
    with sessions.begin() as session:
        DeliveryRepository(session).answer("portal", "k1", 422, {})
    assert claim(sessions, "portal", "k1") == StoredAnswer(status=422, body={})


def test_answering_an_unclaimed_key_raises(sessions: Sessions) -> None:
    with pytest.raises(RecordNotFound, match="no delivery portal/k1"), sessions.begin() as session:
        DeliveryRepository(session).answer("portal", "k1", 202, {})


def test_a_rolled_back_claim_leaves_the_key_free(sessions: Sessions) -> None:
    with pytest.raises(RuntimeError, match="work failed"), sessions.begin() as session:
        assert DeliveryRepository(session).claim("portal", "k1", T0) is None
        raise RuntimeError("work failed")

    assert claim(sessions, "portal", "k1") is None


def test_a_claim_committed_without_an_answer_is_not_made_up(sessions: Sessions) -> None:
    assert claim(sessions, "portal", "k1", answer=None) is None

    with pytest.raises(UnansweredDelivery, match="portal/k1"):
        claim(sessions, "portal", "k1")


def test_concurrent_duplicates_get_the_first_answer(database_url: str) -> None:
    """20 deliveries of one key at once, each in its own transaction that answers before it
    commits: one does the work, the 19 others wait for it and replay its answer.

    PostgreSQL: the other INSERTs block on the winner's uncommitted row. SQLite: they wait
    for the write lock (busy_timeout), which the winner holds until it commits."""
    threads = 20
    engine = create_engine(normalise_url(database_url), pool_size=threads, max_overflow=0)
    sessions = sessionmaker(engine, expire_on_commit=False)
    start = threading.Barrier(threads)
    results: list[StoredAnswer | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def deliver(index: int) -> None:
        try:
            with sessions.begin() as session:
                session.execute(text("SELECT 1"))  # connect before the race starts
                # (on SQLite a SELECT opens no transaction, so the claim still comes first)
                start.wait()
                deliveries = DeliveryRepository(session)
                stored = deliveries.claim("portal", "same-key", T0)
                if stored is None:
                    time.sleep(0.3)  # hold the claim: the others must block on it
                    deliveries.answer("portal", "same-key", 202, {"winner": index})
            with lock:
                results.append(stored)
        except BaseException as error:  # reported by the main thread
            with lock:
                errors.append(error)

    workers = [threading.Thread(target=deliver, args=(i,)) for i in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        engine.dispose()

    assert errors == []
    winners = [r for r in results if r is None]
    answers = [r for r in results if r is not None]
    assert len(results) == threads
    assert len(winners) == 1
    assert len(answers) == threads - 1
    assert len({a.model_dump_json() for a in answers}) == 1
    assert answers[0].status == 202
    assert set(answers[0].body) == {"winner"}
