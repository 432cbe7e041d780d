"""Making sure a process-events run is watching when events arrive: never a run per event,
nor one per delivery, nor one per 2-second slot.

Normally one is: the schedule starts a watch every minute that lasts 90 s. The stack may just
have started, though, or a watcher's process may have died. So a delivery kicks, and at most
once a slot (2 s) the kicker asks Prefect whether a process-events run is running, pending or
due within seconds; only when none is does it request one, keyed by the slot so several
gateway replicas make one. A check that fails (Prefect down) is only logged: the events are
recorded, and the next scheduled watch picks them up.
"""

import asyncio
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterNextScheduledStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Scheduled

from serviceops import deployment_names as names
from serviceops.application.prefect_api import prefect_client
from serviceops.deployment_names import deployment

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

logger = logging.getLogger(__name__)

PROCESS_EVENTS = deployment(names.PROCESS_EVENTS)
SLOT_S = 2.0
# A scheduled run due this soon counts as watching: serve is about to start it.
DUE_SOON = timedelta(seconds=5)
# A scheduled run this overdue does not: nothing is picking it up. Nor does a run that started
# this long ago and still says Running: a watch lasts 90 s, so its process is gone.
OVERDUE = timedelta(seconds=30)
STALE = timedelta(minutes=5)


def slot_of(at: float, slot_s: float = SLOT_S) -> int:
    return math.ceil(at / slot_s)


class ProcessingKicker:
    def __init__(self, api_url: str | None, slot_s: float = SLOT_S) -> None:
        self.api_url = api_url
        self.slot_s = slot_s
        self.checks = 0
        self.runs_requested = 0
        self._wanted: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Something was just recorded; the worker starts on first use."""
        if self._wanted is None or self._worker is None or self._worker.done():
            self._wanted, self._idle = asyncio.Event(), asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._work())
        assert self._idle is not None
        self._idle.clear()
        self._wanted.set()

    async def drain(self) -> None:
        """Wait until every kick so far has been checked (tests)."""
        if self._idle is not None:
            await self._idle.wait()

    async def _work(self) -> None:
        assert self._wanted is not None and self._idle is not None
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            slot = slot_of(time.time(), self.slot_s)
            await self._ensure_watcher(slot)
            if not self._wanted.is_set():
                self._idle.set()
            # Kicks until the slot's end are covered by the check just made.
            await asyncio.sleep(max(0.0, slot * self.slot_s - time.time()))

    async def _ensure_watcher(self, slot: int) -> None:
        try:
            async with prefect_client(self.api_url) as client:
                deployment = await client.read_deployment_by_name(PROCESS_EVENTS)
                self.checks += 1
                if await _watchers(client, deployment.id):
                    return
                await client.create_flow_run_from_deployment(
                    deployment.id,
                    idempotency_key=f"process-events-{slot}",
                    state=Scheduled(scheduled_time=datetime.now(UTC)),
                )
            self.runs_requested += 1
        except Exception as exc:  # recorded events wait for the next scheduled watch
            logger.warning("process-events not checked (%s); the schedule will run it", exc)


async def _watchers(client: "PrefectClient", deployment_id: UUID) -> int:
    """process-events runs running or pending (and not stale), or due within DUE_SOON."""
    now = datetime.now(UTC)
    deployment = DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    active = FlowRunFilter(
        state=FlowRunFilterState(
            type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
        ),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=now - STALE),
    )
    due = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(
            after_=now - OVERDUE, before_=now + DUE_SOON
        ),
    )
    counts = [
        await client.count_flow_runs(flow_run_filter=runs, deployment_filter=deployment)
        for runs in (active, due)
    ]
    return sum(counts)
