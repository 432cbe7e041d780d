"""The stack as `make up` starts it, for benchmarks: `serviceops up` in a temporary state
folder, on free ports, with a given serviceops database, and `serviceops down` however the
benchmark ends. The default catalogue is used, pointed at those ports."""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from serviceops.prefect_rest import call

ROOT = Path(__file__).resolve().parent.parent
SOURCE, SECRET = "bench", "bench-webhook-secret"
COMPONENTS = ("prefect-server", "serve", "routine", "gateway")
PAGE = 200  # the most runs the Prefect API answers at once


@dataclass(frozen=True)
class RunningStack:
    state: Path
    api_url: str
    gateway_url: str
    database_url: str
    alertmanager_token: str

    def pid(self, component: str) -> int:
        return int((self.state / "run" / f"{component}.pid").read_text())

    def pids(self) -> dict[str, int]:
        return {name: self.pid(name) for name in COMPONENTS}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], command: str) -> None:
    cli = Path(sys.executable).parent / "serviceops"
    done = subprocess.run(
        [str(cli), command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"serviceops {command} failed:\n{done.stdout}\n{done.stderr}")


@contextmanager
def running_stack(database_url: str | None = None) -> Iterator[RunningStack]:
    """The four processes of `make up`; `database_url` None: SQLite in the state folder."""
    with tempfile.TemporaryDirectory(prefix="serviceops-bench-") as folder:
        state = Path(folder)
        prefect_port, gateway_port = free_port(), free_port()
        catalogue = state / "cmdb.toml"
        catalogue.write_text(
            (ROOT / "cmdb.toml")
            .read_text()
            .replace("127.0.0.1:8080", f"127.0.0.1:{gateway_port}")
            .replace("127.0.0.1:4200", f"127.0.0.1:{prefect_port}")
            .replace('".serviceops"', f'"{state}"')
        )
        token = secrets.token_urlsafe(24)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SERVICEOPS_"))}
        env |= {
            "SERVICEOPS_STATE_DIR": str(state),
            "SERVICEOPS_CMDB_FILE": str(catalogue),
            "SERVICEOPS_PREFECT_PORT": str(prefect_port),
            "SERVICEOPS_GATEWAY_PORT": str(gateway_port),
            "SERVICEOPS_WEBHOOK_SECRETS": f"{SOURCE}={SECRET}",
            "SERVICEOPS_ALERTMANAGER_TOKEN": token,
        }
        if database_url is not None:
            env["SERVICEOPS_DATABASE_URL"] = database_url
        try:
            _cli(env, "up")
            yield RunningStack(
                state=state,
                api_url=f"http://127.0.0.1:{prefect_port}/api",
                gateway_url=f"http://127.0.0.1:{gateway_port}",
                database_url=database_url or f"sqlite:///{state / 'serviceops.db'}",
                alertmanager_token=token,
            )
        finally:
            _cli(env, "down")


def runs_created(api_url: str, since: datetime, until: datetime) -> dict[str, int]:
    """Flow runs expected to start in the window, per flow name: the runs created there, or
    for a window ahead, the runs the schedules have created for it."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=api_url, timeout=30) as api:
        flows = {f["id"]: f["name"] for f in call(api, "POST", "/flows/filter", json={}).json()}
        window = {"after_": since.isoformat(), "before_": until.isoformat()}
        offset = 0
        while True:
            query = {"flow_runs": {"expected_start_time": window}, "limit": PAGE, "offset": offset}
            runs = call(api, "POST", "/flow_runs/filter", json=query).json()
            for run in runs:
                name = flows.get(run["flow_id"], "?")
                counts[name] = counts.get(name, 0) + 1
            if len(runs) < PAGE:
                return counts
            offset += PAGE


def format_counts(runs: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(runs.items()))
