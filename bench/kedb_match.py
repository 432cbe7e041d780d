"""KEDB matching for initial diagnosis: 10,000 known errors, 1,000 incidents.

The known errors spread over 200 services (2% apply to any service), 1,000 CIs (a third name
the CI at fault, a fifth list one to three affected CIs), 50 categories of up to three levels,
and symptoms of 6 to 12 words drawn from a 600-word vocabulary. Each incident has a service, a
CI (70%), a category and a 10 to 20 word text.

Timed per incident, p50 and p99 (goal: under 20 ms):
- store: what diagnose does, KnownErrorRepository.candidates(service, ci, category=...) in a
  transaction of its own, then match_known_errors on them; on SQLite and PostgreSQL;
- match_known_errors over the whole KEDB in memory (no store);
- KnownErrorIndex.match, the index built once (its build time is printed too).
"""

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert

from bench.databases import postgres_database, sqlite_database
from serviceops.domain.problem import KnownError, KnownErrorIndex, match_known_errors
from serviceops.store.db import sessions_for
from serviceops.store.problem import KnownErrorRepository
from serviceops.store.problem.tables import KnownErrorRecord

KNOWN_ERRORS = 10_000
INCIDENTS = 1_000
SERVICES, CIS, CATEGORIES = 200, 1_000, 50
GOAL_MS = 20.0


class _Kedb:
    """A reproducible KEDB and the incidents to match against it."""

    def __init__(self, seed: int) -> None:
        rng = self.rng = random.Random(seed)
        syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "de", "pa", "gu", "zo"]
        self.vocabulary = sorted(
            {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(900)}
        )[:600]
        self.categories = [
            "/".join(f"c{top}-{level}" for level in range(depth))
            for top in range(CATEGORIES)
            for depth in (1, 2, 3)
        ]

    def _words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(self.vocabulary, k=self.rng.randint(low, high)))

    def _service(self) -> str:
        return f"service-{self.rng.randrange(SERVICES):03d}"

    def _ci(self) -> str:
        return f"ci-{self.rng.randrange(CIS):04d}"

    def known_error_rows(self, at: datetime) -> list[dict[str, object]]:
        rng = self.rng
        rows = []
        for n in range(1, KNOWN_ERRORS + 1):
            affected = [self._ci() for _ in range(rng.randint(1, 3))] if rng.random() < 0.2 else []
            rows.append(
                {
                    "number": f"KE-{n:06d}",
                    "title": f"Known error {n}",
                    "service": None if rng.random() < 0.02 else self._service(),
                    "ci": self._ci() if rng.random() < 0.33 else None,
                    "affected_cis": affected,
                    "problem_number": None,
                    "category": None if rng.random() < 0.1 else rng.choice(self.categories),
                    "symptom": self._words(6, 12),
                    "root_cause": "synthetic",
                    "workaround": "restart it",
                    "active": True,
                    "created_at": at,
                }
            )
        return rows

    def incidents(self) -> list[dict[str, str | None]]:
        rng = self.rng
        return [
            {
                "service": self._service(),
                "ci": self._ci() if rng.random() < 0.7 else None,
                "category": rng.choice(self.categories),
                "text": self._words(10, 20),
            }
            for _ in range(INCIDENTS)
        ]


def _timed(incidents: list[dict[str, str | None]], match: Callable[..., object]) -> list[float]:
    times = []
    for incident in incidents:
        started = time.perf_counter()
        match(**incident)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _line(label: str, times: list[float], extra: str = "") -> str:
    p50 = statistics.median(times)
    p99 = statistics.quantiles(times, n=100)[98]
    verdict = "ok" if p99 < GOAL_MS else "OVER GOAL"
    return (
        f"  {label:<30} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms "
        f"(goal < {GOAL_MS:.0f} ms: {verdict}){extra}"
    )


def _from_store(url: str) -> Callable[..., list[KnownError]]:
    sessions = sessions_for(url)

    def diagnose(service: str, ci: str | None, category: str, text: str) -> list[KnownError]:
        with sessions.begin() as session:
            candidates = KnownErrorRepository(session).candidates(service, ci, category=category)
        return match_known_errors(candidates, service=service, ci=ci, category=category, text=text)

    return diagnose


def main() -> None:
    kedb = _Kedb(42)
    now = datetime.now(UTC)
    rows = kedb.known_error_rows(now)
    incidents = kedb.incidents()
    print(f"kedb-match: {KNOWN_ERRORS:,} known errors, {INCIDENTS:,} incidents")
    known_errors: list[KnownError] = []
    for backend, database in (("sqlite", sqlite_database), ("postgresql", postgres_database)):
        with database() as url:
            with sessions_for(url).begin() as session:
                session.execute(insert(KnownErrorRecord), rows)
            if not known_errors:
                with sessions_for(url).begin() as session:
                    known_errors = KnownErrorRepository(session).list(limit=KNOWN_ERRORS)[::-1]
            diagnose = _from_store(url)
            times = _timed(incidents, diagnose)
            found = sum(bool(diagnose(**incident)) for incident in incidents[:100])
            print(_line(f"{backend}: candidates + rank", times, f", {found}/100 matched"))

    print(_line("memory: match_known_errors", _timed(incidents, _simple(known_errors))))
    started = time.perf_counter()
    index = KnownErrorIndex(known_errors)
    build_ms = (time.perf_counter() - started) * 1000
    print(
        _line(
            "memory: KnownErrorIndex", _timed(incidents, index.match), f", build {build_ms:.0f} ms"
        )
    )


def _simple(known_errors: list[KnownError]) -> Callable[..., list[KnownError]]:
    def match(service: str, ci: str | None, category: str, text: str) -> list[KnownError]:
        return match_known_errors(
            known_errors, service=service, ci=ci, category=category, text=text
        )

    return match


if __name__ == "__main__":
    main()
