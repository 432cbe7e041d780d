"""sla-sweep over 100,000 open incidents: how long the query and the decisions take.

1% of the incidents have crossed a threshold (warning or breach) since the last sweep, the
rest are on time: the sweep must find the few without reading the many. Goal: under 1 s.
"""

import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench.databases import postgres_database, sqlite_database
from serviceops.domain.incident import sla_alerts
from serviceops.store.db import sessions_for
from serviceops.store.incident import IncidentRepository
from serviceops.store.incident.tables import IncidentRecord

OPEN_INCIDENTS = 100_000
CROSSED_EVERY = 100  # 1%
CHUNK = 5_000


def _rows(now: datetime) -> list[dict[str, object]]:
    rng = random.Random(42)
    rows = []
    for i in range(1, OPEN_INCIDENTS + 1):
        crossed = i % CROSSED_EVERY == 0
        created = now - timedelta(minutes=rng.randint(1, 600))
        warn = now - timedelta(seconds=30) if crossed else now + timedelta(hours=rng.randint(1, 48))
        due = warn + timedelta(hours=2) if i % (2 * CROSSED_EVERY) else now - timedelta(seconds=1)
        rows.append(
            {
                "number": f"INC-{i:06d}",
                "title": f"Synthetic incident {i}",
                "description": "",
                "service": f"service-{i % 50}",
                "category": "software",
                "category_corrected": False,
                "impact": "medium",
                "urgency": "medium",
                "priority": 3,
                "reporter": "bench",
                "source": "monitoring",
                "state": "assigned" if i % 3 else "in_progress",
                "major": False,
                "created_at": created,
                "updated_at": created,
                "reopen_count": 0,
                "escalation_count": 0,
                "resolution_target_s": 86_400,
                "resolution_started_at": created,
                "resolution_due_at": due,
                "resolution_warn_at": warn,
                "resolution_remaining_s": 86_400,
            }
        )
    return rows


def measure(url: str) -> tuple[float, int, int, float]:
    now = datetime.now(UTC)
    sessions = sessions_for(url)
    rows = _rows(now)
    load_started = time.perf_counter()
    with sessions.begin() as session:
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(IncidentRecord), rows[start : start + CHUNK])
    load_s = time.perf_counter() - load_started
    started = time.perf_counter()
    with sessions.begin() as session:
        due = IncidentRepository(session).sla_due(now, limit=OPEN_INCIDENTS)
        alerts = [alert for incident in due for alert in sla_alerts(incident, now)]
    elapsed = time.perf_counter() - started
    return elapsed, len(due), len(alerts), load_s


def main() -> None:
    print(f"sla-sweep: {OPEN_INCIDENTS:,} open incidents, 1% past a threshold")
    for backend, database in (("sqlite", sqlite_database), ("postgresql", postgres_database)):
        with database() as url:
            elapsed, found, alerts, load_s = measure(url)
        verdict = "ok" if elapsed < 1 else "OVER GOAL"
        print(
            f"  {backend:<10} query+decisions {elapsed * 1000:7.1f} ms "
            f"({found} incidents, {alerts} alerts; goal < 1000 ms: {verdict}; "
            f"load {load_s:.1f} s)"
        )


if __name__ == "__main__":
    main()
