"""The production path: a Prefect server on PostgreSQL, prefect.yaml deployed onto a process
work pool, a worker running log-incident, the record read back from serviceops's PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from serviceops.domain.cmdb import Catalogue
from serviceops.domain.oncall import Page, PageState
from serviceops.domain.request import Identity
from serviceops.prefect_rest import call
from serviceops.store.audit import AuditRepository
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import normalise_url, sessions_for
from serviceops.store.incident import IncidentRepository
from serviceops.store.oncall import PageRepository
from serviceops.store.request import IdentityRepository
from tests.e2e.conftest import copy_work_tree
from tests.fakes.slack import FakeSlack
from tests.flows.paging.support import DESK, LADDER, SLACK_IDS
from tests.network import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

BIN = Path(sys.executable).parent
REPLICA_LAG = {"title": "Database replica lag", "service": "orders-db", "category": "database",
               "impact": "medium", "urgency": "high", "reporter": "grace"}  # fmt: skip
MAIL_DOWN = {
    "title": "Mail is down",
    "service": "mail",
    "category": "software/email",
    "impact": "high",
    "urgency": "medium",
    "reporter": "dave",
}  # fmt: skip (priority 2)


@pytest.fixture
def prefect_database() -> Iterator[str]:
    """A database of its own for the Prefect server, dropped afterwards."""
    base = os.environ.get("SERVICEOPS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SERVICEOPS_TEST_POSTGRES_URL not set")
    name = f"prefect_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = create_engine(normalise_url(base)).url.set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class Production:
    """The production path on loopback: a Prefect server on PostgreSQL, prefect.yaml deployed
    onto a process work pool, a worker; the server and the worker may be killed and started
    again (same port, same databases)."""

    def __init__(self, folder: Path, prefect_database: str, database_url: str) -> None:
        self.folder, self.checkout = folder, folder / "checkout"
        copy_work_tree(self.checkout)
        self.api = f"http://127.0.0.1:{free_port()}/api"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SERVICEOPS_"))}
        self.env = env | {
            "PREFECT_HOME": str(folder / "prefect-home"),
            "PREFECT_API_URL": self.api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_database,
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "SERVICEOPS_DATABASE_URL": database_url,
            "SERVICEOPS_HOME": str(self.checkout),
            "SERVICEOPS_STATE_DIR": str(folder / "state"),
        }
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def deploy(self) -> None:
        self.start_server()
        self.run(str(BIN / "serviceops"), "db", "upgrade")
        self.run(str(BIN / "prefect"), "work-pool", "create", "serviceops", "--type", "process")
        self.run(str(BIN / "python"), "-m", "blocks.register")
        self.run(str(BIN / "prefect"), "--no-prompt", "deploy", "--all")

    def run(self, *argv: str) -> None:
        done = subprocess.run(
            argv, cwd=self.checkout, env=self.env, capture_output=True, text=True, timeout=180,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"

    def start_server(self) -> None:
        port = self.api.rsplit(":", 1)[1].split("/")[0]
        argv = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port]
        self.server = start(argv, self.env, self.checkout, self.folder / "server.log")
        deadline = time.monotonic() + 120
        while not _healthy(self.api):
            assert self.server.poll() is None, (self.folder / "server.log").read_text()
            assert time.monotonic() < deadline, "Prefect server on PostgreSQL did not come up"
            time.sleep(0.5)

    def start_worker(self) -> None:
        argv = [str(BIN / "prefect"), "worker", "start", "--pool", "serviceops"]
        self.worker = start(argv, self.env, self.checkout, self.folder / "worker.log")

    def kill(self, process: subprocess.Popen[bytes] | None) -> None:
        """SIGKILL to the process and all it started (a worker's run processes too)."""
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None:
                stop(process)

    def worker_log(self) -> str:
        return (self.folder / "worker.log").read_text()[-4000:]


@pytest.fixture
def production(
    tmp_path: Path, prefect_database: str, postgres_schema_url: str
) -> Iterator[Production]:
    deployed = Production(tmp_path, prefect_database, postgres_schema_url)
    try:
        deployed.deploy()
        yield deployed
    finally:
        deployed.stop()


def test_worker_runs_log_incident_from_prefect_yaml(production: Production) -> None:
    production.start_worker()
    run_id, state = _run_log_incident(production.api, REPLICA_LAG)
    assert state == "COMPLETED", production.worker_log()
    with sessions_for(production.env["SERVICEOPS_DATABASE_URL"]).begin() as session:
        numbers = AuditRepository(session).records_of_flow_run(run_id)
        assert len(numbers) == 1
        incident = IncidentRepository(session).get(numbers[0])
    assert incident.title == "Database replica lag"
    assert incident.state == "assigned" and incident.priority == 2


def test_a_page_outlives_a_restart_of_its_worker_and_of_the_prefect_server(
    production: Production,
) -> None:
    """Both die with SIGKILL while the page waits for its second level; once they are started
    again the ladder goes on from where it was and nobody is paged twice."""
    url = production.env["SERVICEOPS_DATABASE_URL"]
    # Longer than the worker fetches runs ahead (10 s) and than log-incident's end takes here:
    # step 2's run is still only scheduled when the worker dies.
    first = LADDER.levels[0].model_copy(update={"wait": timedelta(seconds=40)})
    desk = DESK.model_copy(
        update={"escalation": LADDER.model_copy(update={"levels": [first, *LADDER.levels[1:]]})}
    )
    with sessions_for(url).begin() as session:
        CatalogueRepository(session).replace(Catalogue(oncall=[desk]), datetime.now(UTC), "t")
        for person, slack_id in SLACK_IDS.items():
            IdentityRepository(session).upsert(Identity(user=person, slack_user_id=slack_id))
    with FakeSlack() as slack:
        production.env |= {
            "SERVICEOPS_SLACK_TOKEN": "xoxb-test",
            "SERVICEOPS_SLACK_BASE_URL": slack.base_url,
        }
        production.start_worker()

        def dms() -> list[str]:
            return [m["channel"] for m in slack.messages if m["channel"].startswith("U0")]

        def page() -> Page:
            with sessions_for(url).begin() as session:
                (incident,) = IncidentRepository(session).list()
                found = PageRepository(session).of_incident(incident.number)
            assert found is not None
            return found

        _, state = _run_log_incident(production.api, MAIL_DOWN)
        assert state == "COMPLETED", production.worker_log()
        assert dms() == ["U0ALEX"]
        production.kill(production.worker)
        production.kill(production.server)
        due = page().paged[0].at + first.wait
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 2)
        assert dms() == ["U0ALEX"]  # step 2 fell due while neither was there
        production.start_server()
        production.start_worker()
        deadline = time.monotonic() + 240
        while page().state is not PageState.EXHAUSTED:
            assert time.monotonic() < deadline, production.worker_log()
            time.sleep(1)
    assert dms() == ["U0ALEX", "U0CASEY", "U0OLIVIA"]
    assert [p.step for p in page().paged] == [0, 1, 2]


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _run_log_incident(api: str, incident: dict[str, str]) -> tuple[str, str]:
    parameters = {"incident": incident}
    with httpx.Client(base_url=api, timeout=10) as client:
        deployment = call(client, "GET", "/deployments/name/log-incident/log-incident")
        run = call(
            client,
            "POST",
            f"/deployments/{deployment.json()['id']}/create_flow_run",
            json={"parameters": parameters},
        )
        run_id = run.json()["id"]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            state = call(client, "GET", f"/flow_runs/{run_id}").json()["state"]["type"]
            if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                return run_id, state
            time.sleep(1)
    raise AssertionError("log-incident did not finish on the worker in 180 s")
