"""The service desk board over 10,000 open incidents: time to build it (its queries and its
markdown) and to publish it (the whole refresh as housekeeping runs it: the request policy,
the transition forms' lookup, the build, and the `service-desk` artifact posted to a real
Prefect server, the test harness). 5% of the incidents are breached; 200 requests wait for
approval. Goal: under 1 s. SQLite and PostgreSQL, median of 5 refreshes each.
"""

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import insert

from bench.databases import postgres_database, sqlite_database
from serviceops.domain.request import RequestPolicy, RequestSubmission
from serviceops.notify.render import render_text
from serviceops.settings import get_settings
from serviceops.store.db import sessions_for
from serviceops.store.incident.tables import IncidentRecord
from serviceops.store.request import RequestRepository
from tasks.board import TransitionForms, build_board, publish_board

OPEN_INCIDENTS = 10_000
BREACHED_EVERY = 20  # 5%
WAITING_APPROVAL = 200
REFRESHES = 5
GOAL_S = 1.0


def _rows(now: datetime) -> list[dict[str, object]]:
    rng = random.Random(7)
    rows = []
    for i in range(1, OPEN_INCIDENTS + 1):
        created = now - timedelta(minutes=rng.randint(1, 6000))
        late = i % BREACHED_EVERY == 0
        due = (
            now - timedelta(minutes=rng.randint(1, 600))
            if late
            else now + timedelta(minutes=rng.randint(1, 6000))
        )
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
                "priority": 1 + i % 5,
                "reporter": "bench",
                "source": "monitoring",
                "state": ("assigned", "in_progress", "new")[i % 3],
                "support_group": f"group-{i % 8}",
                "assignee": None if i % 4 else f"person-{i % 30}",
                "major": i % 2000 == 0,
                "created_at": created,
                "updated_at": created,
                "reopen_count": 0,
                "escalation_count": 0,
                "resolution_target_s": 86_400,
                "resolution_started_at": created,
                "resolution_due_at": due,
                "resolution_warn_at": due - timedelta(hours=6),
                "resolution_remaining_s": 86_400,
            }
        )
    return rows


def _load(url: str, now: datetime) -> None:
    sessions = sessions_for(url)
    with sessions.begin() as session:
        session.execute(insert(IncidentRecord), _rows(now))
        requests = RequestRepository(session)
        for i in range(WAITING_APPROVAL):
            submission = RequestSubmission.model_validate(
                {"requester": f"user-{i}", "details": {"type": "vpn_access", "user": f"user-{i}"}}
            )
            request = requests.add(submission, source="bench", at=now)
            update = {"state": "awaiting_approval", "approvals_required": ["manager"]}
            requests.save(request.model_copy(update=update))


def measure(url: str) -> tuple[float, float, int]:
    now = datetime.now(UTC)
    _load(url, now)
    os.environ["SERVICEOPS_DATABASE_URL"] = url
    get_settings.cache_clear()
    forms = TransitionForms.from_prefect()
    builds, refreshes = [], []
    for _ in range(REFRESHES):
        started = time.perf_counter()
        with sessions_for(url).begin() as session:
            board = build_board(session, RequestPolicy(), forms, now)
        markdown = render_text("service_desk", board=board)
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        counted = publish_board.fn()
        refreshes.append(time.perf_counter() - started)
    assert counted == OPEN_INCIDENTS, counted
    return statistics.median(builds), statistics.median(refreshes), len(markdown)


def main() -> None:
    print(f"board refresh: {OPEN_INCIDENTS:,} open incidents, {WAITING_APPROVAL} approvals waiting")
    with prefect_test_harness(server_startup_timeout=120):
        for backend, database in (("sqlite", sqlite_database), ("postgresql", postgres_database)):
            with database() as url:
                build_s, refresh_s, size = measure(url)
            verdict = "ok" if refresh_s < GOAL_S else "OVER GOAL"
            print(
                f"  {backend:<10} build {build_s * 1000:6.1f} ms, build+publish "
                f"{refresh_s * 1000:6.1f} ms ({size / 1024:.0f} KiB of markdown; goal < 1000 ms: "
                f"{verdict})"
            )


if __name__ == "__main__":
    main()
