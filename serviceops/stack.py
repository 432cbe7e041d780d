"""The embedded stack `make up` starts: Prefect server, the serve process, the gateway.

Each runs as its own process group with a pid file and a log under the state dir, so
`make down` can stop exactly what `make up` started, and only after in-flight runs finish
(stopping `serve` cancels the runs it is executing).
"""

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from pathlib import Path

import httpx

from serviceops import deployment_names as names
from serviceops.catalogue_file import CatalogueError, load_catalogue_file
from serviceops.prefect_rest import call
from serviceops.settings import Settings
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import migrate, sessions_for

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
QUIET_BEFORE_STOP = timedelta(seconds=5)
OVERDUE = timedelta(minutes=2)
# The event watch (process-events) runs for longer than a minute: `down` does not wait for it.
EVENT_WATCH = names.PROCESS_EVENTS


class StackError(RuntimeError):
    """A component did not come up; the message says which and where its log is."""


# The gateway answers senders who wait (monitoring in a storm, Slack's 3-second limit); the
# other processes work in the background. On a busy machine the scheduler gives the gateway
# the CPU first: at 2,000 events/s through the Alertmanager webhook, p99 accept 54 -> 39 ms.
BACKGROUND_NICENESS = 5


@dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    timeout_s: float
    niceness: int = BACKGROUND_NICENESS


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = settings.state_dir.resolve()
        self.run_dir = self.state / "run"
        self.log_dir = self.state / "logs"
        self._listing: subprocess.Popen[str] | None = None

    # -- environment -------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """What every component shares: one Prefect home and API, serviceops logs in runs,
        and the settings this stack was built with (they may not come from the environment)."""
        env = dict(os.environ)
        env.setdefault("PREFECT_HOME", str(self.state / "prefect"))
        env["PREFECT_API_URL"] = self.settings.prefect_api_url
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "1")
        env.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "serviceops")
        env.setdefault("PREFECT_UI_API_URL", self.settings.prefect_api_url)
        env |= {
            "SERVICEOPS_STATE_DIR": str(self.state),
            "SERVICEOPS_DATABASE_URL": self.settings.resolved_database_url,
            "SERVICEOPS_GATEWAY_HOST": self.settings.gateway_host,
            "SERVICEOPS_GATEWAY_PORT": str(self.settings.gateway_port),
        }
        return env

    def components(self) -> list[Component]:
        python = sys.executable
        s = self.settings
        return [
            Component(
                "prefect-server",
                [
                    python, "-m", "prefect", "server", "start",
                    "--host", s.prefect_host, "--port", str(s.prefect_port),
                ],
                lambda: _http_ok(f"{s.prefect_api_url}/health"),
                120,
            ),
            Component(
                "serve",
                [python, "-m", "deployments.serve"],
                lambda: self._deployments_live(scheduled=False),
                120,
            ),
            Component(
                "routine",
                [python, "-m", "deployments.routine"],
                lambda: self._deployments_live(scheduled=True),
                120,
            ),
            Component(
                "gateway",
                [python, "-m", "serviceops.gateway"],
                lambda: _http_ok(f"http://{s.gateway_host}:{s.gateway_port}/healthz"),
                60,
                niceness=0,
            ),
        ]  # fmt: skip

    # -- up ------------------------------------------------------------------------------------

    def up(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        migrate(self.settings.resolved_database_url)
        self._load_catalogue()
        if self.settings.api_token is None:
            _ensure_token(self.settings.api_token_file)
        if self.settings.alertmanager_token is None:
            _ensure_token(self.settings.alertmanager_token_file)
        if self.settings.page_link_secret is None:
            _ensure_token(self.settings.page_link_secret_file)
        server, serve, routine, gateway = self.components()
        self._listing = self._list_deployments()
        self._start(server)
        self._run_module("blocks.register")
        self._start(serve)
        self._run_module("deployments.forms")
        self._start(routine)
        self._run_module("deployments.automations")
        self._start(gateway)

    def _run_module(self, module: str, *args: str) -> None:
        command = [sys.executable, "-m", module, *args]
        subprocess.run(command, cwd=ROOT, env=self.env(), check=True)

    def _load_catalogue(self) -> None:
        """The service catalogue file into the database, where checks and events read it
        (a missing file leaves what was loaded before)."""
        path = self.settings.cmdb_file
        if not path.exists():
            logger.warning("no service catalogue at %s: checks have nothing to check", path)
            return
        try:
            catalogue = load_catalogue_file(path)
        except CatalogueError as exc:
            raise StackError(f"service catalogue not loaded: {exc}") from None
        with sessions_for(self.settings.resolved_database_url).begin() as session:
            CatalogueRepository(session).replace(catalogue, datetime.now(UTC), str(path))
        logger.info("service catalogue loaded from %s", path)

    def _start(self, component: Component) -> None:
        if self.pid(component.name) is not None:
            logger.info("%s already running", component.name)
        else:
            log = self._log(component.name).open("ab")
            process = subprocess.Popen(
                component.argv,
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=partial(os.nice, component.niceness),
            )
            (self.run_dir / f"{component.name}.pid").write_text(str(process.pid))
        deadline = time.monotonic() + component.timeout_s
        while not component.ready():
            if self.pid(component.name) is None:
                raise StackError(
                    f"{component.name} exited; see {self.log_dir}/{component.name}.log"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{component.name} not ready after {component.timeout_s:.0f} s; "
                    f"see {self._log(component.name)}"
                )
            time.sleep(0.5)
        logger.info("%s ready", component.name)

    def _log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _list_deployments(self) -> subprocess.Popen[str]:
        """Start `python -m deployments.definitions`, which prints the names serve ("on_demand")
        and the routine runner ("scheduled") register: the definitions stay the one list, and
        serviceops (a library the deployments import) does not import them back. It imports
        every flow (seconds), so `up` starts it first and it runs while the server starts."""
        command = [sys.executable, "-m", "deployments.definitions"]
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, text=True
        )

    @cached_property
    def _deployment_names(self) -> dict[str, list[str]]:
        listing = self._listing or self._list_deployments()
        listed, _ = listing.communicate(timeout=120)
        if listing.returncode != 0:
            raise StackError(f"could not list the deployments (exit {listing.returncode})")
        return json.loads(listed)

    def _deployments_live(self, *, scheduled: bool) -> bool:
        """serve's (on-demand) or the routine runner's (scheduled) deployments are all
        registered and not paused: both pause theirs when they stop and resume them when they
        register, so this is true only once the new process has done so."""
        wanted = self._deployment_names["scheduled" if scheduled else "on_demand"]
        query = {"deployments": {"name": {"any_": wanted}, "paused": {"eq_": False},
                                 "tags": {"all_": ["serviceops"]}}}  # fmt: skip
        try:
            with httpx.Client(base_url=self.settings.prefect_api_url, timeout=5) as client:
                count = call(client, "POST", "/deployments/count", json=query).json()
        except httpx.HTTPError:
            return False
        return int(count) >= len(wanted)

    # -- down ----------------------------------------------------------------------------------

    def down(self, wait_s: float = 120) -> None:
        """Gateway first (no new work), then the dead-man automations (the silence that
        follows is on purpose), then the routine runner and serve once no run is in flight,
        then the server."""
        self._stop("gateway")
        if self.pid("prefect-server") is not None:
            try:
                self._run_module("deployments.automations", "disable")
            except subprocess.CalledProcessError:
                logger.warning("dead-man automations not disabled; see the output above")
        if self.pid("serve") is not None:
            self._wait_until_quiet(wait_s)
        self._stop("routine")
        self._stop("serve")
        self._stop("prefect-server")

    def _wait_until_quiet(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        serve = self.pid("serve")
        told = None
        while time.monotonic() < deadline:
            busy = self._runs_in_flight()
            # A run's process outlives its final state by a moment; SIGTERM then would still
            # mark the completed run Cancelled, so serve must also have no run process left.
            if (busy is None or busy == 0) and not (serve and _run_processes(serve)):
                return
            if busy != told:
                logger.info("waiting for %s flow run(s) to finish before stopping serve", busy)
                told = busy
            time.sleep(0.5)
        logger.warning("runs still in flight after %.0f s; stopping serve anyway", wait_s)

    def _runs_in_flight(self) -> int | None:
        """Runs that serve is executing or about to pick up; None when the API is away.

        A run created a moment ago (from the UI, the CLI, a schedule) is still SCHEDULED
        with a start time about now; stopping serve as it picks it up would cancel it, so
        those count too. Runs long overdue are left out: they cannot hold `down` hostage.
        """
        now = datetime.now(UTC)
        api = self.settings.prefect_api_url
        about_to_start = {
            "flow_runs": {
                "state": {"type": {"any_": ["SCHEDULED"]}},
                "next_scheduled_start_time": {
                    "after_": (now - OVERDUE).isoformat(),
                    "before_": (now + QUIET_BEFORE_STOP).isoformat(),
                },
            },
            "deployments": {"tags": {"all_": ["serviceops"]}},
        }
        executing = {"flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING"]}}}}
        watching = executing | {"flows": {"name": {"any_": [EVENT_WATCH]}}}
        try:
            with httpx.Client(base_url=api, timeout=5) as client:
                busy, soon, watches = (
                    int(call(client, "POST", "/flow_runs/count", json=query).json())
                    for query in (executing, about_to_start, watching)
                )
        except httpx.HTTPError:
            return None
        return busy + soon - watches

    def _stop(self, name: str, grace_s: float = 20) -> None:
        pid = self.pid(name)
        pid_file = self.run_dir / f"{name}.pid"
        if pid is None:
            pid_file.unlink(missing_ok=True)
            return
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)
        logger.info("%s stopped", name)

    def pid(self, name: str) -> int | None:
        """The component's pid if it is still running."""
        pid_file = self.run_dir / f"{name}.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text())
        return pid if _alive(pid) else None


def _ensure_token(path: Path) -> None:
    """A generated secret in the state dir, readable by its owner only, kept across runs."""
    if path.exists():
        return
    path.write_text(secrets.token_urlsafe(32) + "\n")
    path.chmod(0o600)


def _children(pid: int) -> list[int]:
    """Child processes of `pid` (Linux /proc); empty where /proc is not there."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        children += [int(child) for child in task.read_text().split()]
    return children


def _run_processes(serve: int) -> list[int]:
    """The processes of serve's runs: the children of its fork server (deployments.forkserver),
    and any other child but multiprocessing's resource tracker."""
    runs: list[int] = []
    for child in _children(serve):
        command = _command(child)
        if b"multiprocessing.forkserver" in command:
            runs += _children(child)
        elif b"multiprocessing.resource_tracker" not in command:
            runs.append(child)
    return runs


def _command(pid: int) -> bytes:
    """The process's command line (Linux /proc); empty once it has gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        finished = 0
    if finished == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
