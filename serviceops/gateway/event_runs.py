"""Asking Prefect for process-events runs: one per time slot, never one per event.

Every delivery of events kicks; the kicker turns all kicks of a slot (2 s by default) into a
single run scheduled at the slot's end, with the slot as its idempotency key, so several
gateway replicas kicking in the same slot also make one run. The run then correlates
everything recorded by then. A kick that fails (Prefect down) is only logged: the events are
recorded, and process-events's minute schedule picks them up.
"""

import asyncio
import logging
import math
import time
from datetime import UTC, datetime

from prefect.states import Scheduled

from serviceops.gateway.prefect_api import prefect_client

logger = logging.getLogger(__name__)

PROCESS_EVENTS = "process-events/process-events"
SLOT_S = 2.0


def slot_of(at: float, slot_s: float = SLOT_S) -> int:
    return math.ceil(at / slot_s)


class ProcessingKicker:
    def __init__(self, api_url: str | None, slot_s: float = SLOT_S) -> None:
        self.api_url = api_url
        self.slot_s = slot_s
        self.runs_requested = 0
        self._wanted: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    def kick(self) -> None:
        """Ask for a run covering what was just recorded; the worker starts on first use."""
        if self._wanted is None or self._worker is None or self._worker.done():
            self._wanted, self._idle = asyncio.Event(), asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._work())
        assert self._idle is not None
        self._idle.clear()
        self._wanted.set()

    async def drain(self) -> None:
        """Wait until every kick so far has been turned into a run request (tests)."""
        if self._idle is not None:
            await self._idle.wait()

    async def _work(self) -> None:
        assert self._wanted is not None and self._idle is not None
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            slot = slot_of(time.time(), self.slot_s)
            await self._request(slot)
            if not self._wanted.is_set():
                self._idle.set()
            # Kicks until the slot's end are covered by the run just requested.
            await asyncio.sleep(max(0.0, slot * self.slot_s - time.time()))

    async def _request(self, slot: int) -> None:
        at = datetime.fromtimestamp(slot * self.slot_s, UTC)
        try:
            async with prefect_client(self.api_url) as client:
                deployment = await client.read_deployment_by_name(PROCESS_EVENTS)
                await client.create_flow_run_from_deployment(
                    deployment.id,
                    idempotency_key=f"process-events-{slot}",
                    state=Scheduled(scheduled_time=at),
                )
            self.runs_requested += 1
        except Exception as exc:  # recorded events wait for the minute schedule
            logger.warning("process-events not requested (%s); the schedule will run it", exc)
