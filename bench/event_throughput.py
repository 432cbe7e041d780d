"""Event intake, deduplication and correlation, sustained, on SQLite and PostgreSQL.

A producer records events as the gateway does (deliveries of 50 events, one transaction each)
at a paced rate; a correlator runs process-events's hot path (`correlate_batch`) in a loop at
the same time. After the run the producer stops, the correlator drains, and every event
recorded must have been decided exactly once (zero loss).

The mix: 500 resources, 20 checks each, mostly warnings, some critical and informational,
10 % resolutions: storms on few resources deduplicate, the rest open and resolve alerts.

Figures: the rate the producer held, the rate decided, the p50/p99 of one event's decision
(the correlator's work per event) and of the time from recording to decision (includes
waiting for the next batch). Goal: at least 2,000 events/s, decision p99 under 5 ms.

Each backend runs twice: on an empty service desk, and with a 5,000-item CMDB (every
resource a service that needs two of 1,000 servers, each behind one of 100 switches, and
3,400 more items) and 1,000 active silences (50 of them on resources the events name), with
1 % of the events critical on a switch, so new alerts are inhibited as symptoms and held by
silences while the batches look both up.

SERVICEOPS_BENCH_SECONDS (default 60) and SERVICEOPS_BENCH_RATE (default 2000) tune it.
"""

import os
import random
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.databases import postgres_database, sqlite_database
from serviceops.correlate import correlate_batch
from serviceops.domain.cmdb import Catalogue, ConfigurationItem
from serviceops.domain.event import EventIn, EventPolicy, SilenceDraft
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import make_engine
from serviceops.store.event import EventRepository, SilenceRepository
from serviceops.store.event.tables import EventRecord

SECONDS = float(os.environ.get("SERVICEOPS_BENCH_SECONDS", "60"))
RATE = float(os.environ.get("SERVICEOPS_BENCH_RATE", "2000"))
DELIVERY = 50
RESOURCES, CHECKS = 500, 20


SERVERS, SWITCHES, OTHER_ITEMS, SILENCES = 1_000, 100, 3_400, 1_000


def _world(sessions: sessionmaker[Session]) -> None:
    """The loaded run's CMDB (5,000 items) and active silences (1,000)."""
    rng = random.Random(11)
    items = [
        ConfigurationItem(name=f"switch-{k}", type="network", owner_group="net", tier=2)
        for k in range(SWITCHES)
    ]
    items += [
        ConfigurationItem(
            name=f"server-{k}",
            type="server",
            owner_group="ops",
            tier=2,
            depends_on=[f"switch-{k % SWITCHES}"],
        )
        for k in range(SERVERS)
    ]
    items += [
        ConfigurationItem(
            name=f"service-{k}",
            owner_group="apps",
            tier=2,
            depends_on=sorted({f"server-{rng.randrange(SERVERS)}" for _ in range(2)}),
        )
        for k in range(RESOURCES)
    ]
    items += [
        ConfigurationItem(
            name=f"item-{k}",
            type="other",
            owner_group="misc",
            tier=3,
            depends_on=[f"item-{k - 1}"] if k % 10 else [f"server-{k % SERVERS}"],
        )
        for k in range(OTHER_ITEMS)
    ]
    now = datetime.now(UTC)
    with sessions.begin() as session:
        CatalogueRepository(session).replace(Catalogue(items=items), now, "bench")
        silences = SilenceRepository(session)
        for k in range(SILENCES):
            named = {"service": f"service-{k}"} if k < 50 else {"ci": f"item-{k}"}
            draft = SilenceDraft.model_validate(
                named
                | {"ends_at": now + timedelta(days=1), "reason": "bench work", "owner": "bench"}
            )
            silences.add(draft, now)


def _events(rng: random.Random, count: int) -> list[EventIn]:
    events = []
    for _ in range(count):
        resource, check = rng.randrange(RESOURCES), rng.randrange(CHECKS)
        roll = rng.random()
        severity = "warning" if roll < 0.7 else "critical" if roll < 0.9 else "info"
        if rng.random() < 0.01:  # a switch fails: what needs it becomes its symptoms
            events.append(
                EventIn(
                    source="bench",
                    ci=f"switch-{rng.randrange(SWITCHES)}",
                    check="LinkDown",
                    severity="critical",
                    summary="link down",
                )
            )
            continue
        events.append(
            EventIn(
                source="bench",
                service=f"service-{resource}",
                check=f"check-{check}",
                severity=severity,
                summary=f"check-{check} on service-{resource}",
                details={"value": round(rng.random(), 3)},
                status="resolved" if rng.random() < 0.1 else "firing",
            )
        )
    return events


def _produce(sessions: sessionmaker[Session], stop: threading.Event, produced: list[int]) -> None:
    rng = random.Random(7)
    interval = DELIVERY / RATE
    next_at = time.perf_counter()
    while not stop.is_set():
        batch = _events(rng, DELIVERY)
        with sessions.begin() as session:
            EventRepository(session).record(batch, datetime.now(UTC))
        produced[0] += len(batch)
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


def _correlate(
    sessions: sessionmaker[Session], done: threading.Event, decided: list[float]
) -> None:
    policy = EventPolicy()
    while True:
        report = correlate_batch(sessions, policy, datetime.now(UTC), timings=True)
        decided.extend(report.decide_seconds)
        if report.events == 0:
            if done.is_set():
                return
            time.sleep(0.05)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(name: str, url: str, *, loaded: bool) -> None:
    engine = make_engine(url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    if loaded:
        _world(sessions)
    stop, producer_done = threading.Event(), threading.Event()
    produced, decided = [0], []  # type: ignore[var-annotated]
    producer = threading.Thread(target=_produce, args=(sessions, stop, produced))
    correlator = threading.Thread(target=_correlate, args=(sessions, producer_done, decided))
    started = time.perf_counter()
    producer.start()
    correlator.start()
    time.sleep(SECONDS)
    stop.set()
    producer.join()
    produced_for = time.perf_counter() - started
    producer_done.set()
    correlator.join()
    drained_after = time.perf_counter() - started
    with sessions() as session:
        recorded = session.scalar(select(func.count()).select_from(EventRecord)) or 0
        pending = EventRepository(session).count_pending()
        lags = [
            (processed - received).total_seconds()
            for received, processed in session.execute(
                select(EventRecord.received_at, EventRecord.processed_at)
            )
        ]
    engine.dispose()
    twice = len(decided) - (recorded - pending)
    print("  loaded: 5,000-item CMDB, 1,000 active silences" if loaded else "  empty desk")
    print(
        f"  {name:<10} recorded {recorded} events in {produced_for:.0f} s "
        f"({recorded / produced_for:,.0f}/s held), all decided after {drained_after:.1f} s "
        f"({len(decided) / drained_after:,.0f}/s); produced {produced[0]}, "
        f"left undecided {pending}, decided twice {twice}"
    )
    print(
        f"  {'':<10} decision per event p50 {statistics.median(decided) * 1000:.3f} ms, "
        f"p99 {_percentile(decided, 0.99) * 1000:.3f} ms; recorded->decided "
        f"p50 {statistics.median(lags) * 1000:.0f} ms, p99 {_percentile(lags, 0.99) * 1000:.0f} ms"
    )


def main() -> None:
    print(f"event intake + correlation: paced at {RATE:,.0f} events/s for {SECONDS:.0f} s")
    for loaded in (False, True):
        with sqlite_database() as url:
            run("sqlite", url, loaded=loaded)
        with postgres_database() as url:
            run("postgresql", url, loaded=loaded)


if __name__ == "__main__":
    main()
