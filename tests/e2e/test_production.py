"""The production path: a Prefect server on PostgreSQL, prefect.yaml deployed onto a process
work pool, a worker running log-incident, the record read back from serviceops's PostgreSQL."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from serviceops.prefect_rest import call
from serviceops.store.audit import AuditRepository
from serviceops.store.db import normalise_url, sessions_for
from serviceops.store.incident import IncidentRepository
from tests.e2e.conftest import copy_work_tree
from tests.network import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

BIN = Path(sys.executable).parent


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
        argv, cwd=cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_worker_runs_log_incident_from_prefect_yaml(
    tmp_path: Path, prefect_database: str, postgres_schema_url: str
) -> None:
    database_url = postgres_schema_url
    checkout = tmp_path / "checkout"
    copy_work_tree(checkout)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SERVICEOPS_"))}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_database,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "SERVICEOPS_DATABASE_URL": database_url,
        "SERVICEOPS_HOME": str(checkout),
        "SERVICEOPS_STATE_DIR": str(tmp_path / "state"),
    }

    def run(*argv: str) -> None:
        done = subprocess.run(
            argv, cwd=checkout, env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"

    server = start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env, checkout, tmp_path / "server.log",
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 120
        while not _healthy(api):
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "Prefect server on PostgreSQL did not come up"
            time.sleep(0.5)
        run(str(BIN / "serviceops"), "db", "upgrade")
        run(str(BIN / "prefect"), "work-pool", "create", "serviceops", "--type", "process")
        run(str(BIN / "python"), "-m", "blocks.register")
        run(str(BIN / "prefect"), "--no-prompt", "deploy", "--all")
        worker = start(
            [str(BIN / "prefect"), "worker", "start", "--pool", "serviceops"],
            env, checkout, tmp_path / "worker.log",
        )  # fmt: skip
        run_id, state = _run_log_incident(api)
        assert state == "COMPLETED", (tmp_path / "worker.log").read_text()[-4000:]
    finally:
        if worker is not None:
            stop(worker)
        stop(server)

    with sessions_for(database_url).begin() as session:
        numbers = AuditRepository(session).records_of_flow_run(run_id)
        assert len(numbers) == 1
        incident = IncidentRepository(session).get(numbers[0])
    assert incident.title == "Database replica lag"
    assert incident.state == "assigned" and incident.priority == 2


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _run_log_incident(api: str) -> tuple[str, str]:
    parameters = {
        "incident": {
            "title": "Database replica lag",
            "service": "orders-db",
            "category": "database",
            "impact": "medium",
            "urgency": "high",
            "reporter": "grace",
        }
    }
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
