"""detect-problems over 1,000,000 incidents: how long trend detection and recording take.

A year of history (365 days, 200 services, 1,000 CIs, 50 categories) with the skew a service
desk sees: a few services, CIs and categories get most incidents (Zipf-like), 30% of incidents
name no CI, one in 2,000 is major. The rule is 100 incidents within 30 days, which makes a
few hundred trends in the window. Timed: `TrendRepository.detect` + `.record` in one transaction,
first on an empty problem table (every trend opens a problem and links its incidents), then an
hour later with 1,000 new incidents (the steady state of an hourly schedule: the problems
exist, only new incidents are linked). Goal: under 2 s each.
"""

import bisect
import itertools
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from bench.databases import postgres_database, sqlite_database
from serviceops.domain.problem import TrendRule
from serviceops.store.db import sessions_for
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.problem import TrendRepository
from serviceops.store.problem.tables import ProblemIncidentRecord

INCIDENTS = 1_000_000
DAYS = 365
SERVICES, CIS, CATEGORIES = 200, 1_000, 50
NEW_INCIDENTS = 1_000
CHUNK = 10_000
RULE = TrendRule(min_incidents=100, window=timedelta(days=30))


def _zipf(n: int, s: float) -> list[float]:
    """Cumulative weights 1/k^s for ranks 1..n: rank 1 is the busiest."""
    return list(itertools.accumulate(1 / k**s for k in range(1, n + 1)))


class _History:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.open_since = now - timedelta(days=3)  # older incidents are closed
        self.services = _zipf(SERVICES, 1.0)
        self.cis = _zipf(CIS, 1.1)
        self.categories = _zipf(CATEGORIES, 1.0)

    def _pick(self, weights: list[float]) -> int:
        return bisect.bisect(weights, self.rng.random() * weights[-1])

    def row(self, number: int, created: datetime) -> dict[str, object]:
        rng = self.rng
        service = self._pick(self.services)
        return {
            "number": f"INC-{number:07d}",
            "title": f"Synthetic incident {number}",
            "description": "",
            "service": f"service-{service:03d}",
            "ci": None if rng.random() < 0.3 else f"ci-{self._pick(self.cis):04d}",
            "category": f"category-{self._pick(self.categories):02d}/sub",
            "category_corrected": False,
            "impact": "medium",
            "urgency": "medium",
            "priority": 3,
            "reporter": "bench",
            "source": "monitoring",
            "state": "closed" if created < self.open_since else "assigned",
            "major": rng.random() < 1 / 2_000,
            "created_at": created,
            "updated_at": created,
            "reopen_count": 0,
            "escalation_count": 0,
        }

    def chunks(self, first: int, count: int, start: datetime, span: timedelta) -> Iterator[list]:
        """`count` incidents numbered from `first` over [start, start + span), in the order
        they were logged (numbers and rows follow time, as in a live database), at random
        instants within evenly spaced slots."""
        slot = span.total_seconds() / count
        for offset in range(0, count, CHUNK):
            yield [
                self.row(n, start + timedelta(seconds=(n - first + self.rng.random()) * slot))
                for n in range(first + offset, first + min(offset + CHUNK, count))
            ]


def _load(url: str, history: _History, now: datetime) -> float:
    sessions = sessions_for(url)
    started = time.perf_counter()
    for rows in history.chunks(1, INCIDENTS, now - timedelta(days=DAYS), timedelta(days=DAYS)):
        with sessions.begin() as session:
            session.execute(insert(IncidentRecord), rows)
    with sessions_for(url).begin() as session:  # statistics, as a live database has them
        session.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _run(url: str, now: datetime) -> tuple[float, float, int, int, int]:
    """detect + record in one transaction: seconds for each, trends, problems opened, links
    made."""
    with sessions_for(url).begin() as session:
        links_before = session.scalar(select(func.count()).select_from(ProblemIncidentRecord))
    with sessions_for(url).begin() as session:
        problems = TrendRepository(session)
        started = time.perf_counter()
        trends = problems.detect(RULE, now)
        detected = time.perf_counter()
        recorded = problems.record(trends, RULE, now)
    finished = time.perf_counter()  # the commit included
    with sessions_for(url).begin() as session:
        links = session.scalar(select(func.count()).select_from(ProblemIncidentRecord))
    created = sum(item.created for item in recorded)
    return (
        detected - started,
        finished - detected,
        len(trends),
        created,
        (links or 0) - (links_before or 0),
    )


def measure(url: str) -> tuple[float, list[tuple[float, float, int, int, int]]]:
    now = datetime.now(UTC).replace(microsecond=0)
    history = _History(42, now)
    load_s = _load(url, history, now)
    first = _run(url, now)
    # an hour later: 1,000 new incidents, the problems exist
    later = now + timedelta(hours=1)
    with sessions_for(url).begin() as session:
        for rows in history.chunks(INCIDENTS + 1, NEW_INCIDENTS, now, timedelta(hours=1)):
            session.execute(insert(IncidentRecord), rows)
    second = _run(url, later)
    return load_s, [first, second]


def main() -> None:
    print(
        f"detect-problems: {INCIDENTS:,} incidents over {DAYS} days, rule "
        f"{RULE.min_incidents} within {RULE.window.days} days"
    )
    for backend, database in (("sqlite", sqlite_database), ("postgresql", postgres_database)):
        with database() as url:
            load_s, runs = measure(url)
        for label, (detect_s, record_s, trends, created, links) in zip(
            ("first run", "steady"), runs, strict=True
        ):
            total = detect_s + record_s
            verdict = "ok" if total < 2 else "OVER GOAL"
            print(
                f"  {backend:<10} {label:<9} detect {detect_s * 1000:7.1f} ms + record "
                f"{record_s * 1000:7.1f} ms = {total * 1000:7.1f} ms ({trends} trends, "
                f"{created} problems opened, {links:,} links; goal < 2000 ms: {verdict})"
            )
        print(f"  {backend:<10} load {load_s:.0f} s")


if __name__ == "__main__":
    main()
