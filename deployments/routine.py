"""`python -m deployments.routine`: the scheduled routine runs in this one long-lived process,
each flow run in a thread of it.

Why not `serve` for these too: serve starts a new Python process for every flow run, and that
process spends about 2 CPU seconds importing Prefect and serviceops before it does anything.
The routine is many small runs (housekeeping every minute, the event watch, the checks every
few minutes): some 165 processes an hour, most of an idle two-core machine's tenth of a core
before any work. Here Prefect's schedules still create the runs, and each is still a flow run
with its states, logs, task runs, retries and graph in the UI; only the process is shared.
`serve` keeps the procedures people start: their runs wait for people, suspend and may run
long, and gain from a process of their own.

A run is claimed as serve claims one (Scheduled to Pending, which the server grants once, so
two runners never run one run) and run by Prefect's own flow engine. On SIGTERM the runner
stops claiming, asks the event watch to stop watching (serviceops.stopping), waits for the
runs in flight, and pauses its deployments as serve does, so the next start does not catch up
every run missed while it was down.
"""

import contextvars
import gc
import logging
import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import Abort
from prefect.flow_engine import run_flow
from prefect.states import Pending
from prefect.utilities.engine import propose_state_sync

from deployments.definitions import Definition, definitions
from serviceops.settings import get_settings
from serviceops.stopping import STOPPING
from serviceops.store.cmdb import CatalogueRepository
from serviceops.store.db import sessions_for

logger = logging.getLogger("serviceops.routine")

POLL_S = 1.0
GRACE_S = 15.0
MOST_AT_ONCE = 8
_EARLIEST = datetime.min.replace(tzinfo=UTC)


class RoutineRunner:
    """Claims the scheduled runs of its deployments and runs each in a thread."""

    def __init__(self, routine: list[Definition]) -> None:
        self.routine = routine
        self.flows: dict[UUID, Flow] = {}
        self.in_flight: dict[UUID, threading.Thread] = {}
        self._lock = threading.Lock()

    def register(self) -> None:
        """Create or update the deployments (schedules resumed); note which flow runs each."""
        for definition in self.routine:
            self.flows[definition.to_deployment().apply()] = definition.flow

    def run(self) -> None:
        with get_client(sync_client=True) as client:
            while not STOPPING.is_set():
                try:
                    self.claim_due(client)
                except Exception as exc:  # the API away for a moment: try again next poll
                    logger.warning("could not read the scheduled runs: %s", exc)
                STOPPING.wait(POLL_S)
            self._finish(client)

    def claim_due(self, client: SyncPrefectClient) -> list[UUID]:
        """Start every run due by now that is not running yet; returns those started."""
        due = client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=list(self.flows), scheduled_before=datetime.now(UTC)
        )
        started = []
        for flow_run in sorted(due, key=lambda run: run.expected_start_time or _EARLIEST):
            with self._lock:
                if flow_run.id in self.in_flight or len(self.in_flight) >= MOST_AT_ONCE:
                    continue
            if flow_run.deployment_id is None or not _claim(client, flow_run):
                continue
            self._start(self.flows[flow_run.deployment_id], flow_run)
            started.append(flow_run.id)
        return started

    def _start(self, flow: Flow, flow_run: FlowRun) -> None:
        # Each run in a copy of the runner's context: the same Prefect settings and API.
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run,
            args=(self._execute, flow, flow_run),
            name=f"run-{flow_run.name}",
            daemon=True,
        )
        with self._lock:
            self.in_flight[flow_run.id] = thread
        thread.start()

    def _execute(self, flow: Flow, flow_run: FlowRun) -> None:
        try:
            run_flow(flow, flow_run=flow_run, return_type="state")
        except BaseException:  # the engine records the state; the runner goes on
            logger.exception("flow run %s ended abnormally", flow_run.name)
        finally:
            with self._lock:
                self.in_flight.pop(flow_run.id, None)

    def wait(self, timeout_s: float) -> bool:
        """Wait for the runs in flight; True when none is left."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                threads = list(self.in_flight.values())
            if not threads:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            threads[0].join(remaining)

    def _finish(self, client: SyncPrefectClient) -> None:
        if not self.wait(GRACE_S):
            logger.warning("runs still in flight after %.0f s: %s", GRACE_S, list(self.in_flight))
        try:
            for deployment_id in self.flows:
                client.pause_deployment(deployment_id)
        except Exception as exc:  # Prefect already gone: its schedules are not running either
            logger.warning("routine deployments not paused: %s", exc)
            return
        logger.info("routine deployments paused")


def _claim(client: SyncPrefectClient, flow_run: FlowRun) -> bool:
    try:
        state = propose_state_sync(client, Pending(), flow_run_id=flow_run.id)
    except Abort:  # another runner took it, or it was cancelled meanwhile
        return False
    return state.is_pending()


def routine_definitions() -> list[Definition]:
    """The scheduled deployments, on the service catalogue's check schedules."""
    with sessions_for(get_settings().resolved_database_url).begin() as session:
        schedules = CatalogueRepository(session).catalogue().schedules
    return [definition for definition in definitions(schedules) if definition.scheduled]


def _stop(signum: int, frame: FrameType | None) -> None:
    STOPPING.set()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runner = RoutineRunner(routine_definitions())
    runner.register()
    gc.freeze()  # what is loaded lives as long as the process: keep full collections short
    logger.info("routine runner: %d deployments", len(runner.flows))
    runner.run()


if __name__ == "__main__":
    main()
